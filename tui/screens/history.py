"""Recorded runs; Enter opens one in the run screen."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label

from labs.recording import RunRecord, list_runs
from tui.messages import OpenRecord


class HistoryScreen(Screen[None]):
    BINDINGS = [("escape", "app.pop_screen", "Back"), ("f5", "reload", "Reload")]

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = runs_dir

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(f"Runs in {self.runs_dir}", id="history-title", markup=False)
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "history"
        table = self.query_one(DataTable)
        table.add_columns("run", "lab", "status", "started", "time", "key metric")
        self.action_reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for info in list_runs(self.runs_dir):
            duration = "-" if info.duration is None else f"{info.duration:.1f}s"
            table.add_row(
                info.run_id,
                info.lab,
                info.status,
                info.started.replace("T", " "),
                duration,
                info.key_metric,
                key=str(info.path),
            )
        if not table.row_count:
            self.query_one("#history-title", Label).update(f"No runs yet in {self.runs_dir}")

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        assert event.row_key.value is not None
        self.post_message(OpenRecord(RunRecord(Path(event.row_key.value))))
