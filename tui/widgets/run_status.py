"""Status, progress, elapsed time and ETA of a run, all from the run's own clock."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:d}:{secs:02d}"


ENDED = ("finished", "failed", "cancelled", "interrupted")


class RunStatus(Vertical):
    DEFAULT_CSS = """
    RunStatus { height: auto; }
    RunStatus ProgressBar { width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.status = "starting"
        self.elapsed = 0.0
        self.step = 0
        self.total: int | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="status-line")
        yield ProgressBar(show_eta=False, show_percentage=True, id="progress")

    def on_mount(self) -> None:
        self._update()

    def set(
        self,
        *,
        status: str | None = None,
        elapsed: float | None = None,
        step: int | None = None,
        total: int | None = None,
    ) -> None:
        self.status = status or self.status
        self.elapsed = self.elapsed if elapsed is None else max(self.elapsed, elapsed)
        self.step = self.step if step is None else step
        self.total = self.total if total is None else total
        self._update()

    @property
    def eta(self) -> float | None:
        if not self.total or not self.step or self.status != "running":
            return None
        return self.elapsed * (self.total - self.step) / self.step

    def _update(self) -> None:
        eta = self.eta
        line = f"{self.status}  {_clock(self.elapsed)}"
        if eta is not None:
            line += f"  ETA {_clock(eta)}"
        self.query_one("#status-line", Label).update(line)
        self.set_class(self.status in ("failed", "interrupted"), "-bad")
        bar = self.query_one("#progress", ProgressBar)
        if self.total is None and self.status in ENDED:
            # No known total (the bar pulses while it runs): an ended run's bar stops, full when finished.
            bar.update(total=1, progress=1 if self.status == "finished" else 0)
        else:
            bar.update(total=self.total, progress=self.step)
