"""Live and recent runs, one row each: what ``meetup-lab runs`` and the TUI's runs board show.

A live run's row comes from its events folded into a :class:`RunState`, read
incrementally (frames passed over undecoded); an ended run's row comes from
its summary, read once. A refresh lists the runs folder (for runs that came or
went), probes each live run's locks and reads what it appended since.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labs.jsonfile import read_object
from labs.numbers import fmt
from labs.recording import EVENTS, PARAMS, RunInfo, runs_page
from labs.recording import LIVE as LIVE_STATUSES
from labs.state import RunState
from labs.tail import EventTail

LIVE = ("queued", "starting", "running", "paused")


@dataclass(frozen=True)
class RunRow:
    run_id: str
    lab: str
    status: str
    started: str
    elapsed: float | None  # seconds so far (live) or in all (ended)
    eta: float | None
    step: int
    total: int | None
    device: str
    key_metric: str
    path: Path
    reason: str = ""
    label: str = ""
    changed: str = ""  # the parameters that differ from the lab's defaults

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def fraction(self) -> float | None:
        """Progress from 0 to 1, where the run knows its total."""
        if self.total:
            return min(1.0, self.step / self.total)
        return 1.0 if self.status == "finished" else None

    @property
    def progress_text(self) -> str:
        if self.total:
            return f"{self.step}/{self.total} ({100 * (self.fraction or 0):.0f}%)"
        return str(self.step) if self.step else "-"


class Board:
    """The runs in a folder, kept up to date between calls of :meth:`rows`."""

    def __init__(self, runs_dir: Path) -> None:
        self.runs_dir = runs_dir
        self._live: dict[Path, tuple[EventTail, RunState, object]] = {}
        self.total = 0  # runs in the folder, shown or not

    def rows(self, limit: int | None = None) -> list[RunRow]:
        """Live runs first, then the others, newest first (at most ``limit`` runs in all
        but every live one); :attr:`total` counts them all."""
        infos, self.total = runs_page(self.runs_dir, limit)  # the ended ones from the folder's index
        live = [info for info in infos if info.status in LIVE_STATUSES]
        ended = [info for info in infos if info.status not in LIVE_STATUSES][:limit]
        self._live = {info.path: self._live.get(info.path) or self._watch(info.path) for info in live}
        return [self._live_row(info) for info in live] + [_ended_row(info) for info in ended]

    @staticmethod
    def _watch(path: Path) -> tuple[EventTail, RunState, object]:
        key_names = (read_object(path / PARAMS) or {}).get("key_metric")
        return EventTail(path / EVENTS, skip='"type":"frame"'), RunState(), key_names

    def _live_row(self, info: RunInfo) -> RunRow:
        tail, state, key_names = self._live[info.path]
        for event in tail.read():
            state.apply(event)
        key = state.key_metric(key_names)
        status = state.status if not state.ended else "running"  # its verdict is being written
        return RunRow(
            run_id=info.run_id,
            lab=info.lab,
            status=status,
            started=info.started,
            elapsed=state.elapsed,
            eta=state.eta,
            step=state.step,
            total=state.total,
            device=info.device,
            key_metric=f"{key[0]}={fmt(key[1])}" if key else "-",
            path=info.path,
            label=info.label,
            changed=info.changed,
        )


def _ended_row(info: RunInfo) -> RunRow:
    # A damaged folder says what is wrong and where, in place of its key metric.
    key = f"{info.reason} ({info.path})" if info.status == "damaged" else info.key_metric
    return RunRow(
        run_id=info.run_id,
        lab=info.lab,
        status=info.status,
        started=info.started,
        elapsed=info.duration,
        eta=None,
        step=0,
        total=None,
        device=info.device,
        key_metric=key,
        path=info.path,
        reason=info.reason,
        label=info.label,
        changed=info.changed,
    )
