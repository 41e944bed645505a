"""The run screen: a viewer of one run folder, live or ended.

It reads the run's ``events.jsonl`` on a worker thread, from the first event and
then as they are appended, and posts them here as :class:`RunEvent` messages,
so a replay shows exactly what the live run showed. They are folded into a
:class:`RunState`; the keys send controls through the run's FIFO. Leaving the
screen (Escape, quitting) leaves the run going.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Header, RichLog
from textual.worker import Worker, WorkerState

from labs import events as ev
from labs.control import NotLive
from labs.numbers import fmt
from labs.params import ParamError, to_dict
from labs.pde.fractal import HALF_HEIGHT
from labs.png import write_heatmap_png
from labs.recording import RunRecord
from labs.registry import Lab, get_lab
from labs.runner import Run, RunRequest
from labs.state import RunState
from tui.messages import OpenForm, ReplayEnded, RunEvent
from tui.widgets.device_panel import DevicePanel
from tui.widgets.heatmap import Heatmap
from tui.widgets.metric_charts import MetricCharts
from tui.widgets.metrics_panel import MetricsPanel
from tui.widgets.run_status import RunStatus
from tui.widgets.views import LineChart, ResultTable

View = ev.Frame | ev.Chart | ev.Table
# The parameters of a run whose window the zoom and pan keys move (the fractals').
WINDOW = ("zoom", "centre_x", "centre_y")


class RunScreen(Screen[None]):
    BINDINGS = [
        ("c", "cancel", "Cancel"),
        ("p", "pause", "Pause"),
        ("r", "rerun", "Rerun"),
        ("s", "snapshot", "Save PNG"),
        ("escape", "back", "Back"),
        Binding("e", "edit", "Edit run", show=False),
        Binding("n", "step", "Step", show=False),
        Binding("m", "colour_map", "Colour map", show=False),
        Binding("v", "colour_range", "Colour range", show=False),
        Binding("plus,equals_sign", "zoom(2.0)", "Zoom in", show=False),
        Binding("minus", "zoom(0.5)", "Zoom out", show=False),
        Binding("shift+left", "pan(-1, 0)", "Pan left", show=False),
        Binding("shift+right", "pan(1, 0)", "Pan right", show=False),
        Binding("shift+up", "pan(0, 1)", "Pan up", show=False),
        Binding("shift+down", "pan(0, -1)", "Pan down", show=False),
        Binding("f", "next_view", "Next view", show=False),
        Binding("left_square_bracket", "tune(-1)", "Rate -"),
        Binding("right_square_bracket", "tune(1)", "Rate +"),
    ]
    # Below 30 lines (80x24 over SSH) the side panel and log tighten up.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    def __init__(
        self, runs_dir: Path, request: RunRequest | None = None, record: RunRecord | None = None
    ) -> None:
        super().__init__()
        self.runs_dir = runs_dir
        self.request = request  # a run to start; else ``record``, a run to view
        self.record = record
        self.run: Run | None = None
        self.state = RunState()
        self.view: str | None = None  # the name of the view shown
        self.tuned: dict[str, float] = {}  # values changed while the run goes
        self.paused = False
        self._note: str | None = None  # what a key asked for, until the run's events confirm it
        self._record_ended = False  # the record ran out without a terminal event
        self._leaving = threading.Event()
        self._views_shown = 0

    @property
    def ended(self) -> bool:
        return self.state.ended or self._record_ended

    @property
    def views(self) -> dict[str, View]:
        return self.state.views

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="run-body"):
            with Vertical(id="heatmap-panel"), ContentSwitcher(initial="heatmap", id="views"):
                yield Heatmap(id="heatmap")
                yield LineChart(id="chart")
                yield ResultTable(id="table")
            with VerticalScroll(id="side"):
                yield RunStatus()
                yield MetricsPanel(id="metrics")
                yield DevicePanel(id="devices")
                yield MetricCharts(self._charts())
        yield RichLog(id="log", wrap=True, markup=False, highlight=False, max_lines=2000)
        yield Footer()

    def _lab(self) -> Lab | None:
        if self.request is not None:
            return self.request.lab
        if self.record is None:
            return None
        try:
            return get_lab(self.record.meta["lab_ref"])
        except LookupError:  # a lab that is no longer installed: show what comes
            return None

    def _charts(self) -> tuple[str, ...]:
        lab = self._lab()
        return lab.charts if lab is not None else ()

    def on_mount(self) -> None:
        lab = self._lab()
        self.set_class(lab is not None and not lab.draws, "-no-heatmap")
        self.query_one("#heatmap-panel").border_title = "heatmap"
        self.query_one("#side").border_title = "run"
        self.query_one("#log").border_title = "log"
        if self.record is not None:
            self.run = Run(self.record)
            live = self.run.live()
            self.sub_title = self.record.run_id + ("" if live else " (recorded)")
            self._follow(self.run)
        elif self.request is not None:
            self._start()

    def _start(self) -> None:
        assert self.request is not None
        take_spare = getattr(self.app, "take_spare", None)
        try:
            self.run = self.request.start(self.runs_dir, take_spare() if take_spare else None)
        except OSError as exc:
            self._apply(ev.Failed(kind="start", reason=f"cannot start the run: {exc}"))
            return
        self.record = self.run.record
        self.sub_title = self.run.run_id
        self.refresh_bindings()  # the rate keys show for a live run that has them
        self._follow(self.run)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run", description="follow run")
    def _follow(self, run: Run) -> None:
        # post_message is thread-safe and, unlike call_from_thread, never blocks.
        ended = False
        for event in run.events(stop=self._leaving.is_set):
            ended = ended or isinstance(event, ev.TERMINAL)
            self.post_message(RunEvent(event))
        if not ended and not self._leaving.is_set():
            self.post_message(ReplayEnded(run.record.status()))

    @on(ReplayEnded)
    def _on_replay_ended(self, message: ReplayEnded) -> None:
        self._record_ended = True
        self._note = message.status
        self.query_one(RunStatus).show(self.state, self._note)
        log = self.query_one("#log", RichLog)
        log.write(f"the record ends here, without a result: the run is {message.status}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            # Reading the run broke (say, its folder was deleted): say so instead of freezing.
            self._record_ended = True
            self._note = "failed"
            self.query_one(RunStatus).show(self.state, self._note)
            self.query_one("#log", RichLog).write(f"cannot follow the run: {event.worker.error}")

    @on(RunEvent)
    def _on_run_event(self, message: RunEvent) -> None:
        self._apply(message.event)

    def _apply(self, event: ev.Event) -> None:
        self.state.apply(event)
        log = self.query_one("#log", RichLog)
        if isinstance(event, ev.Started):
            log.write(f"{event.time:6.1f}s started {event.lab} on {event.device}, seed {event.seed}")
        elif isinstance(event, ev.Stage):
            log.write(f"{event.time:6.1f}s {event.name}")
        elif isinstance(event, ev.Metric):
            self.query_one(MetricsPanel).show(self.state.step, self.state.metrics)
            self.query_one(MetricCharts).add(event.values)
        elif isinstance(event, ev.VIEWS):
            another_view = len(self.views) != self._views_shown
            self.view = self.view or event.name
            if event.name == self.view or another_view:  # a new view: the title counts it
                self._show(self.views[self.view])
        elif isinstance(event, ev.Paused):
            self.paused, self._note = event.held, None
            log.write(f"{event.time:6.1f}s {'paused' if event.held else 'resumed'}")
        elif isinstance(event, ev.Log):
            log.write(f"{event.time:6.1f}s {event.message}")
        elif isinstance(event, ev.Artifact):
            log.write(f"{event.time:6.1f}s wrote {event.path}: {event.description}")
        elif isinstance(event, ev.DeviceSample):
            self.query_one(DevicePanel).show(event)
        elif isinstance(event, ev.TERMINAL):
            self._note = None
            if isinstance(event, ev.Finished):
                result = ", ".join(f"{k}={fmt(v)}" for k, v in event.summary.items())
                log.write(f"{event.time:6.1f}s finished: {result}")
            else:
                log.write(f"{event.time:6.1f}s {ev.STATUS[type(event)]}: {event.reason}")
                for line in getattr(event, "log_tail", ())[-8:]:
                    log.write(f"    {line}")
            self.refresh_bindings()
        self.query_one(RunStatus).show(self.state, self._note)

    def _show(self, view: View) -> None:
        switcher = self.query_one("#views", ContentSwitcher)
        if isinstance(view, ev.Frame):
            self.query_one(Heatmap).show(view.data, view.signed, view.points, view.contour)
            switcher.current = "heatmap"
            title = f"{view.name} · step {view.step}"
        elif isinstance(view, ev.Chart):
            self.query_one(LineChart).show(view)
            switcher.current = "chart"
            title = view.name
        else:
            table = self.query_one(ResultTable)
            table.show(view)
            if switcher.current != "table":
                table.focus()  # so the arrow keys scroll a table wider than its panel
            switcher.current = "table"
            title = view.name
        self._views_shown = len(self.views)
        panel = self.query_one("#heatmap-panel")
        if len(self.views) > 1:
            title += f" · f: next of {len(self.views)} views"
        panel.border_title = title
        panel.border_subtitle = "arrows scroll" if switcher.current == "table" else ""

    @property
    def frame(self) -> ev.Frame | None:
        """The heatmap on show, if the view shown is one."""
        view = self.views.get(self.view) if self.view else None
        return view if isinstance(view, ev.Frame) else None

    def action_next_view(self) -> None:
        if len(self.views) < 2:
            self.notify("This run draws one view.", severity="warning")
            return
        names = list(self.views)
        self.view = names[(names.index(self.view) + 1) % len(names)] if self.view else names[0]
        self._show(self.views[self.view])
        self.notify(f"View: {self.view}")

    def _tunable(self) -> tuple[str, tuple[float, ...]] | None:
        lab = self._lab()
        return next(iter(lab.tunables.items()), None) if lab is not None else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The footer offers the rate keys only for a live run of a lab that has them.
        if action == "tune":
            return self._tunable() is not None and self.run is not None and not self.ended
        return True

    def action_tune(self, direction: int) -> None:
        """Step a tunable value (the learning rate) along its ladder while the run goes."""
        tunable = self._tunable()
        request = self._request()
        if tunable is None or request is None:
            self.notify("This run has nothing to tune while it goes.", severity="warning")
            return
        name, ladder = tunable
        current = self.tuned.get(name, getattr(request.params, name))
        further = [v for v in ladder if (v - current) * direction > 1e-12 * abs(current)]
        if not further:
            self.notify(f"{name} is already at its {'largest' if direction > 0 else 'smallest'}: {current:g}")
            return
        value = min(further) if direction > 0 else max(further)
        if self._control(lambda run: run.tune(name, value)):
            self.tuned[name] = value
            self.notify(f"{name}: {current:g} → {value:g}")

    def _control(self, send: Callable[[Run], None]) -> bool:
        """Send a control to the live run; False (and a word to the user) if it is not live."""
        if self.run is None or self.ended:
            self.notify("No run in progress.", severity="warning")
            return False
        try:
            send(self.run)
        except (NotLive, OSError):
            self.notify("The run is not live any more.", severity="warning")
            return False
        return True

    def action_cancel(self) -> None:
        if self._control(lambda run: run.cancel()):
            self._note = "cancelling"
            self.query_one(RunStatus).show(self.state, self._note)

    def action_pause(self) -> None:
        pausing = not self.paused
        if self._control(lambda run: run.pause() if pausing else run.resume()):
            # Shown at once; the run's own Paused event confirms it.
            self.paused = pausing
            self._note = "paused" if pausing else "running"
            self.query_one(RunStatus).show(self.state, self._note)

    def action_step(self) -> None:
        if self.run is None or self.ended:
            self.notify("No run in progress.", severity="warning")
            return
        if not self.paused:
            self.notify("Pause first (p), then step a frame at a time (n).")
            return
        self._control(lambda run: run.step())

    def action_colour_map(self) -> None:
        self.notify(f"Colour map: {self.query_one(Heatmap).next_cmap()}")

    def action_colour_range(self) -> None:
        self.notify(f"Colour range: {self.query_one(Heatmap).next_range_mode()}")

    def _request(self) -> RunRequest | None:
        """How this run was made, to make another like it."""
        if self.request is not None:
            return self.request
        try:
            return RunRequest.from_record(self.record) if self.record is not None else None
        except (LookupError, ValueError) as exc:
            self.notify(f"Cannot run it again: {exc}", severity="error")
            return None

    def action_zoom(self, factor: float) -> None:
        """For runs with a window (the fractals): zoom about the same centre."""
        self._reframe(lambda w: {"zoom": w["zoom"] * factor})

    def action_pan(self, dx: int, dy: int) -> None:
        """For runs with a window: move its centre by half the window's half height, the same
        step across and down."""
        self._reframe(
            lambda w: {
                "centre_x": w["centre_x"] + dx * HALF_HEIGHT / 2 / w["zoom"],
                "centre_y": w["centre_y"] + dy * HALF_HEIGHT / 2 / w["zoom"],
            }
        )

    def _reframe(self, change: Callable[[dict[str, Any]], dict[str, float]]) -> None:
        """A live run reads the new window as tuned values and recomputes in its own process;
        an ended one is run again there."""
        if (request := self._request()) is None:
            return
        values = {**to_dict(request.params), **self.tuned}
        window = [s for s in request.lab.specs if s.name in WINDOW and s.applies(values)]
        if len(window) < len(WINDOW):
            self.notify("This run has no window to zoom or move.", severity="warning")
            return
        changes = change(values)
        try:  # a window out of range is refused and changes nothing
            params = request.lab.build_params({**values, **changes})
        except ParamError as exc:
            self.notify(str(exc), severity="error")
            return
        if self.run is not None and not self.ended:

            def move(run: Run) -> None:
                for name, value in changes.items():
                    run.tune(name, value)

            if self._control(move):
                self.tuned.update(changes)
            return
        self.app.switch_screen(RunScreen(self.runs_dir, request=replace(request, params=params)))

    def action_rerun(self) -> None:
        """Start another run like this one; a live one goes on beside it."""
        if (request := self._request()) is None:
            return
        if self.run is not None and not self.ended:
            self.app.notify(f"Run {self.run.run_id} goes on beside the new one: the runs board shows both.")
        self.app.switch_screen(RunScreen(self.runs_dir, request=request))

    def action_edit(self) -> None:
        """Run again with changes: the lab's form, filled with this run's values."""
        if self.record is None:
            self.notify("The run has not started yet.", severity="warning")
            return
        self.post_message(OpenForm(self.record.meta.get("lab", ""), like=self.record))

    def action_snapshot(self) -> None:
        if self.frame is None or self.record is None:
            self.notify("No heatmap to save yet.", severity="warning")
            return
        folder = self.record.path / "artifacts"
        name = re.sub(r"[^\w.-]+", "-", self.frame.name)  # "escape count": no space in a file name
        path = folder / f"snapshot-{name}-{self.frame.step}.png"
        try:
            folder.mkdir(exist_ok=True)
            # In the colour map on screen (m chooses it), not the frame's default.
            write_heatmap_png(path, self.frame.data, self.query_one(Heatmap).cmap, self.frame.signed)
        except OSError as exc:
            self.notify(f"Cannot save the heatmap: {exc}", severity="error")
            return
        self.notify(f"Saved {path}")

    def action_back(self) -> None:
        if self.run is not None and not self.ended:
            self.app.notify(f"Run {self.run.run_id} goes on: the runs board (h on the menu) shows it.")
        self.app.pop_screen()

    def on_unmount(self) -> None:
        self._leaving.set()  # the reading thread lets go; the run itself goes on
