"""Runs side by side: the table of ``meetup-lab compare`` and the compared metric's
curves of every run overlaid in one chart, one line per run, named by what differs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Header, Label

from labs import events as ev
from labs.compare import compare, curves
from labs.recording import RunRecord
from tui.compare_table import caption, cells
from tui.widgets.footer import Footer
from tui.widgets.views import LineChart, ResultTable


class CompareScreen(Screen[None]):
    DEFAULT_CSS = """
    CompareScreen #compare-table { height: auto; max-height: 40%; }
    CompareScreen #compare-chart { height: 1fr; border: round $primary; }
    """
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="back to the runs board"),
        Binding("m", "next_metric", "Next metric", tooltip="the curves of the next metric"),
    ]

    def __init__(self, records: list[RunRecord]) -> None:
        super().__init__()
        self.records = sorted(records, key=lambda r: r.meta.get("started_unix", 0.0))
        self.metric: str | None = None
        self.chart: ev.Chart | None = None  # the curves on show

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("", id="compare-caption", markup=False)
        yield ResultTable(id="compare-table")
        with Vertical(id="compare-chart"):
            yield LineChart()
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"compare {len(self.records)} runs"
        self._show()

    def _show(self) -> None:
        table = compare(self.records, self.metric)
        self.metric = table.metric
        head, rows = cells(table)
        self.query_one(ResultTable).show(ev.Table("compare", tuple(head), tuple(tuple(r) for r in rows)))
        self.query_one("#compare-caption", Label).update(f"{caption(table)} · m: next metric")
        self.query_one("#compare-chart").border_title = f"{table.metric or 'no metric'} against the step"
        self.chart = curves(table, self.records)
        self.query_one(LineChart).show(self.chart)

    def metrics(self) -> list[str]:
        """Every metric a compared run recorded, for ``m`` to go through."""
        names: list[str] = []
        for record in self.records:
            names += [n for n in (record.summary or {}).get("metrics", {}) if n not in names]
        return names

    def action_next_metric(self) -> None:
        names = self.metrics()
        if not names:
            self.notify("These runs recorded no metric.", severity="warning")
            return
        at = names.index(self.metric) + 1 if self.metric in names else 0
        self.metric = names[at % len(names)]
        self._show()
        self.notify(f"Metric: {self.metric}")
