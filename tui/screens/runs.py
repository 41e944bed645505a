"""The runs board: live runs first, updated as they go, then the recorded ones.

Enter opens a run (a live one is attached to, an ended one replayed); ``c``
cancels a live run after asking; ``e`` opens the form filled with a run's values;
space marks runs and ``v`` compares the marked ones.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Label

from labs.board import Board, RunRow
from labs.control import NotLive
from labs.recording import RunRecord
from labs.runner import Run
from tui.clock import clock
from tui.messages import OpenForm, OpenRecord
from tui.screens.choice import ChoiceScreen
from tui.screens.compare import CompareScreen
from tui.widgets.footer import Footer

REFRESH_S = 1.0
SHOWN = 500  # ended runs on the board, newest first: the rest are a `meetup-lab runs --all` away
BAR_CELLS = 10
# What a glance needs first (at 80 columns the rest is a scroll away, the run's id kept in view).
COLUMNS = ("run", "lab", "status", "time", "key metric", "progress", "ETA", "device", "label", "changed")


def progress_bar(row: RunRow) -> str:
    fraction = row.fraction
    if fraction is None:
        return "·" * BAR_CELLS if row.live else "-"
    filled = round(fraction * BAR_CELLS)
    return "█" * filled + "░" * (BAR_CELLS - filled) + f" {100 * fraction:3.0f}%"


def cells(row: RunRow, marked: bool = False) -> tuple[str, ...]:
    return (
        ("● " if marked else "") + row.run_id,
        row.lab,
        row.status,
        clock(row.elapsed) if row.elapsed is not None else "-",
        row.key_metric,
        progress_bar(row),
        clock(row.eta) if row.eta is not None else "-",
        row.device,
        row.label,
        row.changed,  # the parameters it was given other than the lab's defaults
    )


class RunsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="back to the menu"),
        Binding("c", "cancel", "Cancel", tooltip="cancel a live or queued run (asks first)"),
        Binding(
            "e", "edit", "Edit run",
            tooltip="run again with changes: the lab's form, filled with the run's parameters, device and "
            "seed",
        ),
        Binding("space", "mark", "Mark", show=False, tooltip="mark a run (●), or unmark it"),
        Binding(
            "f", "front", "Move to front", show=False,
            tooltip="move a queued run to the front of the line for its device",
        ),
        Binding(
            "v", "compare", "Compare",
            tooltip="compare the marked runs: the table `compare` prints, and the curves of a metric of "
            "every marked run in one chart, each line named by what differs",
        ),
        Binding("f5", "reload", "Reload", show=False, tooltip="reload the list"),
    ]  # fmt: skip

    def __init__(self, runs_dir: Path) -> None:
        super().__init__()
        self.runs_dir = runs_dir
        self.board = Board(runs_dir)
        self.rows: list[RunRow] = []
        self.marked: set[Path] = set()  # runs to compare
        self._offered: tuple[object, ...] = ()  # what the footer shows the keys for (check_action)
        self._shown: dict[Path, tuple[str, ...]] = {}  # each row's cells as on screen

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(f"Runs in {self.runs_dir}", id="history-title", markup=False)
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True, fixed_columns=1)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "runs"
        table = self.query_one(DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        self.action_reload()
        table.focus()
        self.set_interval(REFRESH_S, self.action_reload)

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one(DataTable)
        rows = self.board.rows(SHOWN)
        if [r.path for r in rows] == [r.path for r in self.rows]:
            # The same runs in the same order: change what changed, keep the cursor and scroll.
            for row in rows:
                shown = zip(COLUMNS, cells(row, row.path in self.marked), self._shown[row.path], strict=True)
                for name, new_cell, old_cell in shown:
                    if new_cell != old_cell:
                        table.update_cell(str(row.path), name, new_cell, update_width=True)
        else:
            selected = self._selected()
            table.clear()
            for row in rows:
                table.add_row(*cells(row, row.path in self.marked), key=str(row.path))
            if selected is not None and selected.path in [r.path for r in rows]:
                table.move_cursor(row=[r.path for r in rows].index(selected.path))
        self.rows = rows
        self._shown = {row.path: cells(row, row.path in self.marked) for row in rows}
        self.marked &= {row.path for row in rows}
        live = sum(row.live for row in rows)
        title = f"Runs in {self.runs_dir}: {live} live" if rows else f"No runs yet in {self.runs_dir}"
        if self.board.total > len(rows):
            title += f", the newest {len(rows)} of {self.board.total} shown"
        if rows:
            title += f" · space marks runs ({len(self.marked)} marked), v compares them"
        self.query_one("#history-title", Label).update(title)
        self._refresh_footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer follows the chosen run: Cancel for a live or queued one, Move to front
        for a queued one, Edit for a readable one; Compare once two runs are marked."""
        row = self._selected() if self.is_mounted else None
        if action == "cancel":
            return row is not None and row.live
        if action == "front":
            return row is not None and row.status == "queued"
        if action == "edit":
            return row is not None and row.status != "damaged"
        if action == "compare":
            return len(self.marked) >= 2
        return True

    @on(DataTable.RowHighlighted)
    def _refresh_footer(self) -> None:
        row = self._selected()
        offered = (row is not None and row.live, row is not None and row.status, len(self.marked) >= 2)
        if offered != self._offered:
            self._offered = offered
            self.refresh_bindings()

    def _selected(self) -> RunRow | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row >= len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowSelected)
    def _open_selected(self, event: DataTable.RowSelected) -> None:
        assert event.row_key.value is not None
        self.post_message(OpenRecord(RunRecord(Path(event.row_key.value))))

    def action_front(self) -> None:
        """Move a queued run to the front of the line for its device."""
        row = self._selected()
        if row is None or row.status != "queued" or not Run(RunRecord(row.path)).front():
            self.notify("Choose a queued run to move to the front.", severity="warning")
            return
        self.notify(f"Run {row.run_id} is next for its device.")
        self.action_reload()

    def action_mark(self) -> None:
        """Mark the chosen run for comparing, or unmark it."""
        row = self._selected()
        if row is None:
            return
        self.marked ^= {row.path}
        self.action_reload()

    def action_compare(self) -> None:
        """Compare the marked runs: their table and their curves."""
        chosen = [row for row in self.rows if row.path in self.marked and row.status != "damaged"]
        if len(chosen) < 2:
            self.notify("Mark two runs or more with space, then press v.", severity="warning")
            return
        self.app.push_screen(CompareScreen([RunRecord(row.path) for row in chosen]))

    def action_edit(self) -> None:
        """Run the chosen run again with changes: its lab's form, filled with its values."""
        row = self._selected()
        if row is None or row.status == "damaged":
            self.notify("Choose a recorded run to start again from.", severity="warning")
            return
        self.post_message(OpenForm(row.lab, like=RunRecord(row.path)))

    def action_cancel(self) -> None:
        row = self._selected()
        if row is None or not row.live:
            self.notify("Choose a live run to cancel.", severity="warning")
            return

        def answered(answer: str | None) -> None:
            if answer != "cancel":
                return
            try:
                Run(RunRecord(row.path)).cancel()
            except NotLive:
                self.notify(f"Run {row.run_id} has ended already.")
                return
            self.notify(f"Cancelling run {row.run_id}")

        question = f"Cancel run {row.run_id} ({row.lab}, {row.progress_text})?"
        self.app.push_screen(
            ChoiceScreen(question, [("keep", "Keep it running"), ("cancel", "Cancel the run")], "keep"),
            answered,
        )
