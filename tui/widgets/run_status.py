"""Status, progress, elapsed time, ETA and start-up stage of a run, from its RunState."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar

from labs.state import ENDED, RunState
from tui.clock import clock
from tui.widgets.lines import Lines


class RunStatus(Vertical):
    DEFAULT_CSS = """
    RunStatus { height: auto; }
    RunStatus ProgressBar { width: 1fr; }
    /* The panel's width, not the text's: a line that grows ("finished" → "finished  0:05")
       is never drawn clipped at the width of the one before while the layout catches up. */
    RunStatus #status-line { width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.state = RunState()
        self.note: str | None = None  # what the viewer adds: "cancelling", "detached"

    @property
    def status(self) -> str:
        return self.note or self.state.status

    @property
    def step(self) -> int:
        return self.state.step

    def compose(self) -> ComposeResult:
        yield Lines(id="status-line")
        yield ProgressBar(show_eta=False, show_percentage=True, id="progress")

    def on_mount(self) -> None:
        self.show(self.state)

    def show(self, state: RunState, note: str | None = None) -> None:
        self.state, self.note = state, note
        line = f"{self.status}  {clock(state.running_time)}"
        if state.eta is not None:
            line += f"  ETA {clock(state.eta)}"
        if state.stage is not None and not state.ended:
            line += f"\n{state.stage} {state.stage_time:.1f} s"
        self.query_one("#status-line", Lines).show_lines(line)
        self.set_class(state.status in ("failed", "interrupted"), "-bad")
        bar = self.query_one("#progress", ProgressBar)
        if state.total is None and state.status in ENDED:
            # No known total (the bar pulses while it runs): an ended run's bar stops, full when finished.
            bar.update(total=1, progress=1 if state.status == "finished" else 0)
        else:
            bar.update(total=state.total, progress=state.step)
