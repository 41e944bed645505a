"""A run's event stream folded into what a viewer shows: the one place that does it.

The run screen, both headless views, the runs board, ``meetup-lab runs`` and
the run's own summary all read a :class:`RunState`, so they cannot drift.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from labs import events as ev

View = ev.Frame | ev.Chart | ev.Table
# The ETA comes from the rate over the last RATE_WINDOW_S seconds of progress: a run's
# start-up (TensorFlow, compiling) and an earlier, slower phase do not count.
RATE_WINDOW_S = 10.0
ENDED = tuple(ev.STATUS.values())


PARAMETERS = "parameters"  # the view of a run's parameters, made from its Started event


def parameters_table(started: ev.Started) -> ev.Table:
    """The parameters that matter to the run (a heat run's, not the wave's), as a view."""
    from labs.registry import get_lab  # a cycle otherwise: labs import the events this folds

    params = started.params
    try:
        shown = [s.name for s in get_lab(started.lab).specs if s.name in params and s.applies(params)]
    except LookupError:  # a lab that is not here any more
        shown = list(params)
    rows = tuple((name, _cell(params[name])) for name in shown)
    rows += (("device", started.device), ("seed", started.seed))
    return ev.Table(PARAMETERS, ("parameter", "value"), rows, started.time)


def _cell(value: object) -> str | float | int | None:
    if value is None or isinstance(value, str | float | int):
        return value
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass
class RunState:
    """Everything a viewer knows about a run, from the events applied so far.

    ``status`` is ``queued`` (waiting for its devices), ``starting`` (no result yet),
    ``running``, ``paused``, or the terminal status once the terminal event has come.
    """

    lab: str = ""
    run_id: str = ""
    device: str = ""
    seed: int = 0
    status: str = "starting"
    stage: str | None = "starting the run's process"
    stage_since: float = 0.0
    step: int = 0
    total: int | None = None
    elapsed: float = 0.0
    paused_s: float = 0.0  # of the elapsed time, how long the run has been held (paused)
    paused_since: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)  # the latest value of every metric
    views: dict[str, View] = field(default_factory=dict)  # the latest of each name, in first-seen order
    device_sample: ev.DeviceSample | None = None
    peak_rss_mb: float = 0.0
    terminal: ev.Event | None = None
    _progress: deque[tuple[float, int]] = field(default_factory=deque, repr=False)

    @classmethod
    def of(cls, events: Iterable[ev.Event]) -> RunState:
        state = cls()
        for event in events:
            state.apply(event)
        return state

    @property
    def ended(self) -> bool:
        return self.terminal is not None

    @property
    def result(self) -> dict[str, object]:
        """What the lab returned, once it finished."""
        return dict(self.terminal.summary) if isinstance(self.terminal, ev.Finished) else {}

    def apply(self, event: ev.Event) -> None:
        self.elapsed = max(self.elapsed, event.time)
        if isinstance(event, ev.Started):
            self.lab, self.run_id, self.device, self.seed = event.lab, event.run_id, event.device, event.seed
            self.total = event.total_steps
            self.stage, self.stage_since = "starting", event.time
            if self.status == "queued":
                self.status = "starting"
            self.views.setdefault(PARAMETERS, parameters_table(event))
        elif isinstance(event, ev.Queued):
            if not self.ended:
                self.status, self.stage_since = "queued", event.time
                if event.ahead:
                    self.stage = f"queued: {event.ahead} ahead of it for {event.devices}"
                else:
                    self.stage = f"queued: next on {event.devices}, which another run is using"
        elif isinstance(event, ev.Stage):
            self.stage, self.stage_since = event.name, event.time
        elif isinstance(event, ev.Metric):
            self.metrics.update(event.values)  # a metric an event leaves out keeps its last value
            self._progressed(event.time, event.step)
        elif isinstance(event, ev.VIEWS):
            self.views[event.name] = event
            if isinstance(event, ev.Frame):
                # A frame's step may count something else (an epoch beside batches): never back.
                self._progressed(event.time, max(self.step, event.step))
            else:
                self._first_result()
        elif isinstance(event, ev.Paused):
            if event.held and self.paused_since is None:
                self.paused_since = event.time
            elif not event.held and self.paused_since is not None:
                self.paused_s += event.time - self.paused_since
                self.paused_since = None
                self._progress.clear()  # the rate from here on: a pause is not slow progress
            if not self.ended:
                self.status = "paused" if event.held else ("running" if self.stage is None else "starting")
        elif isinstance(event, ev.DeviceSample):
            self.device_sample = event
            self.peak_rss_mb = max(self.peak_rss_mb, event.process_rss_mb or 0.0)
        elif isinstance(event, ev.TERMINAL):
            self.terminal = event
            self.status = ev.STATUS[type(event)]
            self.stage = None

    def _first_result(self) -> None:
        self.stage = None
        if self.status == "starting":
            self.status = "running"

    def _progressed(self, time: float, step: int) -> None:
        self._first_result()
        if step < self.step:
            self._progress.clear()  # a metric's step went back: started over (a fractal's new window)
        self.step = step
        self._progress.append((time, step))
        while len(self._progress) > 2 and self._progress[1][0] <= time - RATE_WINDOW_S:
            self._progress.popleft()

    @property
    def rate(self) -> float | None:
        """Steps a second over the recent window, or None before two points of progress."""
        if len(self._progress) < 2:
            return None
        (t0, s0), (t1, s1) = self._progress[0], self._progress[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else None

    @property
    def eta(self) -> float | None:
        """Seconds left at the recent rate; None when unknown, paused or ended."""
        rate = self.rate
        if self.status != "running" or not self.total or rate is None:
            return None
        return max(0, self.total - self.step) / rate

    def key_metric(self, names: object) -> tuple[str, float] | None:
        """The first of ``names`` (a lab's key metrics: a name or a list of them, as recorded)
        that the run has reported."""
        candidates = (
            [names] if isinstance(names, str) else list(names) if isinstance(names, list | tuple) else []
        )
        return next(((name, self.metrics[name]) for name in candidates if name in self.metrics), None)

    @property
    def running_time(self) -> float:
        """Seconds the run has been going, less the time it has been held: the clock shown,
        which stands still while the run is paused."""
        held = self.paused_s + (self.elapsed - self.paused_since if self.paused_since is not None else 0.0)
        return max(0.0, self.elapsed - held)

    @property
    def stage_time(self) -> float:
        """Seconds spent in the current stage so far."""
        return max(0.0, self.elapsed - self.stage_since)
