"""The latest value of each metric (a run may report some metrics per batch, others per epoch)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from labs.numbers import fmt


class MetricsPanel(Static):
    DEFAULT_CSS = """
    MetricsPanel { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.values: dict[str, float] = {}

    def show(self, step: int, values: dict[str, float]) -> None:
        self.values = {**self.values, **values}
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold")
        table.add_column(justify="right")
        table.add_row("step", str(step))
        for name, value in self.values.items():
            table.add_row(Text(name), Text(fmt(value)))  # Text: names are not markup
        self.update(table)
