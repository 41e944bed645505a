"""The run screen: a live run, or a recorded one replayed from disk.

Both read a stream of events on a worker thread (the live run's pipe, or the
record's ``events.jsonl``) and post them here as :class:`RunEvent` messages,
so a replay shows exactly what the live run showed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
from labs.numbers import fmt
from labs.params import ParamError, to_dict
from labs.pde.fractal import HALF_HEIGHT
from labs.png import write_heatmap_png
from labs.recording import RunRecord
from labs.registry import Lab, get_lab
from labs.runner import Run, RunRequest
from themes.colormaps import default_cmap
from tui.messages import ReplayEnded, RunEvent
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
        self.request = request
        self.record = record
        self.active_run: Run | None = None
        # The latest of each view: a lab may draw several (weights and output, a chart and tables).
        self.views: dict[str, View] = {}
        self.view: str | None = None  # the name of the one shown
        self.tuned: dict[str, float] = {}  # values changed while the run goes
        self.ended = False
        self.paused = False

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
            self.sub_title = f"{self.record.run_id} (recorded)"
            self._follow(self.record.events(), replay=self.record)
        elif self.request is not None:
            self._start()

    def _start(self) -> None:
        assert self.request is not None
        try:
            self.active_run = self.request.start(self.runs_dir)
        except OSError as exc:
            self._apply(ev.Failed(kind="start", reason=f"cannot start the run: {exc}"))
            return
        self.record = self.active_run.record
        self.sub_title = self.active_run.run_id
        self.refresh_bindings()  # the rate keys show for a live run that has them
        self._follow(self.active_run.events())

    @work(thread=True, exclusive=True, exit_on_error=False, group="run", description="follow run")
    def _follow(self, events: Iterable[ev.Event], replay: RunRecord | None = None) -> None:
        # post_message is thread-safe and, unlike call_from_thread, never blocks.
        ended = False
        for event in events:
            ended = ended or isinstance(event, ev.TERMINAL)
            self.post_message(RunEvent(event))
        if replay is not None and not ended:
            self.post_message(ReplayEnded(replay.status()))

    @on(ReplayEnded)
    def _on_replay_ended(self, message: ReplayEnded) -> None:
        self.ended = True
        self.query_one(RunStatus).set(status=message.status)
        log = self.query_one("#log", RichLog)
        log.write(f"the record ends here, without a result: the run is {message.status}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            # Reading the run broke (say, its folder was deleted): say so instead of freezing.
            self.ended = True
            self.query_one(RunStatus).set(status="failed")
            self.query_one("#log", RichLog).write(f"cannot follow the run: {event.worker.error}")

    @on(RunEvent)
    def _on_run_event(self, message: RunEvent) -> None:
        self._apply(message.event)

    def _apply(self, event: ev.Event) -> None:
        status = self.query_one(RunStatus)
        log = self.query_one("#log", RichLog)
        if isinstance(event, ev.Started):
            status.set(status="running", total=event.total_steps, elapsed=event.time)
            log.write(f"{event.time:6.1f}s started {event.lab} on {event.device}, seed {event.seed}")
        elif isinstance(event, ev.Metric):
            status.set(step=event.step, elapsed=event.time)
            self.query_one(MetricsPanel).show(event.step, event.values)
            self.query_one(MetricCharts).add(event.values)
        elif isinstance(event, ev.VIEWS):
            another_view = event.name not in self.views
            self.views[event.name] = event
            self.view = self.view or event.name
            if event.name == self.view or another_view:  # a new view: the title counts it
                self._show(self.views[self.view])
        elif isinstance(event, ev.Log):
            log.write(f"{event.time:6.1f}s {event.message}")
        elif isinstance(event, ev.Artifact):
            log.write(f"{event.time:6.1f}s wrote {event.path}: {event.description}")
        elif isinstance(event, ev.DeviceSample):
            status.set(elapsed=event.time)
            self.query_one(DevicePanel).show(event)
        elif isinstance(event, ev.TERMINAL):
            self.ended = True
            status.set(status=ev.STATUS[type(event)], elapsed=event.time)
            if isinstance(event, ev.Finished):
                result = ", ".join(f"{k}={fmt(v)}" for k, v in event.summary.items())
                log.write(f"{event.time:6.1f}s finished: {result}")
            else:
                log.write(f"{event.time:6.1f}s {ev.STATUS[type(event)]}: {event.reason}")
                for line in getattr(event, "log_tail", ())[-8:]:
                    log.write(f"    {line}")

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
        tunables = self.request.lab.tunables if self.request is not None else {}
        return next(iter(tunables.items()), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The footer offers the rate keys only for a live run of a lab that has them.
        if action == "tune":
            return self._tunable() is not None and self.active_run is not None
        return True

    def action_tune(self, direction: int) -> None:
        """Step a tunable value (the learning rate) along its ladder while the run goes."""
        tunable = self._tunable()
        if tunable is None or self.request is None:
            self.notify("This run has nothing to tune while it goes.", severity="warning")
            return
        if (run := self._live_run()) is None:
            return
        name, ladder = tunable
        current = self.tuned.get(name, getattr(self.request.params, name))
        further = [v for v in ladder if (v - current) * direction > 1e-12 * abs(current)]
        if not further:
            self.notify(f"{name} is already at its {'largest' if direction > 0 else 'smallest'}: {current:g}")
            return
        value = min(further) if direction > 0 else max(further)
        run.tune(name, value)
        self.tuned[name] = value
        self.notify(f"{name}: {current:g} → {value:g}")

    def action_cancel(self) -> None:
        if (run := self._live_run()) is None:
            return
        run.cancel()
        self.query_one(RunStatus).set(status="cancelling")

    def _live_run(self) -> Run | None:
        if self.active_run is None or self.ended:
            self.notify("No run in progress.", severity="warning")
            return None
        return self.active_run

    def action_pause(self) -> None:
        if (run := self._live_run()) is None:
            return
        self.paused = not self.paused
        if self.paused:
            run.pause()
        else:
            run.resume()
        self.query_one(RunStatus).set(status="paused" if self.paused else "running")

    def action_step(self) -> None:
        if (run := self._live_run()) is None:
            return
        if not self.paused:
            self.notify("Pause first (p), then step a frame at a time (n).")
            return
        run.step()

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
        """For runs with a window (the fractals): run again, zoomed about the same centre."""
        self._reframe(lambda p: {"zoom": p.zoom * factor})

    def action_pan(self, dx: int, dy: int) -> None:
        """For runs with a window: run again with its centre moved by half the window's half
        height, the same step across and down."""
        self._reframe(
            lambda p: {
                "centre_x": p.centre_x + dx * HALF_HEIGHT / 2 / p.zoom,
                "centre_y": p.centre_y + dy * HALF_HEIGHT / 2 / p.zoom,
            }
        )

    def _reframe(self, change: Callable[[Any], dict[str, float]]) -> None:
        if (request := self._request()) is None:
            return
        values = to_dict(request.params)
        window = [s for s in request.lab.specs if s.name in WINDOW and s.applies(values)]
        if len(window) < len(WINDOW):
            self.notify("This run has no window to zoom or move.", severity="warning")
            return
        try:  # before stopping this run: a window out of range leaves it going
            params = request.lab.build_params({**values, **change(request.params)})
        except ParamError as exc:
            self.notify(str(exc), severity="error")
            return
        if self.active_run is not None and not self.ended:
            self.active_run.stop()
        self.app.switch_screen(RunScreen(self.runs_dir, request=replace(request, params=params)))

    def action_rerun(self) -> None:
        if not self.ended:
            self.notify("The run is still going: cancel it first (c).", severity="warning")
            return
        if (request := self._request()) is not None:
            self.app.switch_screen(RunScreen(self.runs_dir, request=request))

    def action_snapshot(self) -> None:
        if self.frame is None or self.record is None:
            self.notify("No heatmap to save yet.", severity="warning")
            return
        folder = self.record.path / "artifacts"
        path = folder / f"snapshot-{self.frame.name}-{self.frame.step}.png"
        try:
            folder.mkdir(exist_ok=True)
            write_heatmap_png(path, self.frame.data, default_cmap(self.frame.signed), self.frame.signed)
        except OSError as exc:
            self.notify(f"Cannot save the heatmap: {exc}", severity="error")
            return
        self.notify(f"Saved {path}")

    def action_back(self) -> None:
        if self.active_run is not None and not self.ended:
            self.notify("The run is still going: cancel it first (c).", severity="warning")
            return
        self.app.pop_screen()

    def on_unmount(self) -> None:
        # Quitting mid-run stops the run and records it as cancelled, now:
        # the app may exit before the worker thread would have recorded it.
        if self.active_run is not None and not self.ended:
            self.active_run.stop()
