"""The latest value of each metric."""

from __future__ import annotations

from rich.table import Table
from textual.widgets import Static


def format_value(value: float) -> str:
    return f"{value:.5g}"


class MetricsPanel(Static):
    DEFAULT_CSS = """
    MetricsPanel { height: auto; }
    """

    values: dict[str, float] = {}

    def show(self, step: int, values: dict[str, float]) -> None:
        self.values = values
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold")
        table.add_column(justify="right")
        table.add_row("step", str(step))
        for name, value in values.items():
            table.add_row(name, format_value(value))
        self.update(table)
