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
        self._rows = -1

    def show(self, step: int, values: dict[str, float], charted: frozenset[str] = frozenset()) -> None:
        """The step and the latest value of each metric, but for those ``charted`` (their chart
        shows the latest value beside it)."""
        self.values = {**self.values, **values}
        rows = [name for name in self.values if name not in charted]
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold")
        table.add_column(justify="right")
        table.add_row("step", str(step))
        for name in rows:
            table.add_row(Text(name), Text(fmt(self.values[name])))  # Text: names are not markup
        # A new layout only when the table grows: a new value in the same rows is a repaint.
        self.update(table, layout=len(rows) != self._rows)
        self._rows = len(rows)
