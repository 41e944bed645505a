"""The run screen: a viewer of one run folder, live or ended.

It reads the run's ``events.jsonl`` on a worker thread, from the first event and
then as they are appended, and hands them here one by one through the app's queue,
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
from typing import TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Header, RichLog
from textual.worker import Worker, WorkerState

from labs import events as ev
from labs.control import NotLive
from labs.numbers import fmt
from labs.params import ParamError, to_dict
from labs.png import write_snapshot_png
from labs.recording import RunRecord
from labs.registry import Lab, get_lab
from labs.runner import Run, RunRequest
from labs.state import RunState
from tui.messages import OpenForm
from tui.widgets.device_panel import DevicePanel
from tui.widgets.footer import Footer
from tui.widgets.heatmap import Heatmap
from tui.widgets.metric_charts import MetricCharts
from tui.widgets.metrics_panel import MetricsPanel
from tui.widgets.run_status import RunStatus
from tui.widgets.views import LineChart, ResultTable

View = ev.Frame | ev.Chart | ev.Table
T = TypeVar("T")
# Events are folded into the state as they come, but the panels are repainted at most this
# often (five times a second): a run that emits hundreds of events a second would otherwise
# keep the app busy repainting, and keys would wait their turn behind it.
PAINT_S = 0.2


class RunScreen(Screen[None]):
    # What the footer offers follows the run: check_action hides what cannot be done now.
    BINDINGS = [
        Binding("c", "cancel", "Cancel", tooltip="cancel the run (politely, then by force after 0.8 s)"),
        Binding("p", "pause", "Pause", tooltip="pause the run: it holds between two frames"),
        Binding("p", "resume", "Resume", tooltip="resume the paused run"),
        Binding("n", "step", "Step", tooltip="step one frame while paused"),
        Binding(
            "r", "rerun", "Rerun",
            tooltip="run again with the same parameters (also a recorded run; a live one goes on beside it)",
        ),
        Binding(
            "e", "edit", "Edit run", show=False,
            tooltip="run again with changes: the form, filled with this run's parameters",
        ),
        Binding(
            "s", "snapshot", "Save PNG",
            tooltip="save the heatmap as the screen shows it (colour map and range, with its colour bar) "
            "as a PNG in the run's artifacts/",
        ),
        Binding(
            "f", "next_view", "Next view", show=False,
            tooltip="next view: every run shows its parameters (those that matter to it, with the device and "
            "seed), beside what it draws (logreg softmax: the weight images and the confusion matrix; "
            "minibatch: its chart and tables, which the arrow keys scroll)",
        ),
        Binding(
            "m", "colour_map", "Colour map", show=False,
            tooltip="next colour map: viridis, inferno, gray, coolwarm",
        ),
        Binding(
            "v", "colour_range", "Colour range", show=False,
            tooltip="colour range: auto (each frame's min and max), fixed (frozen at the current range) or "
            "symmetric about 0",
        ),
        Binding(
            "plus,equals_sign", "zoom(2.0)", "Zoom in", show=False,
            tooltip="zoom in about the centre (Mandelbrot, Julia): a live run recomputes the new window in "
            "its own process; an ended one runs again there",
        ),
        Binding("minus", "zoom(0.5)", "Zoom out", show=False, tooltip="zoom out, the same way"),
        Binding("shift+left", "pan(-1, 0)", "Pan left", show=False, tooltip="move the window left"),
        Binding("shift+right", "pan(1, 0)", "Pan right", show=False, tooltip="move the window right"),
        Binding("shift+up", "pan(0, 1)", "Pan up", show=False, tooltip="move the window up"),
        Binding("shift+down", "pan(0, -1)", "Pan down", show=False, tooltip="move the window down"),
        Binding(
            "left_square_bracket", "tune(-1)", "Rate -",
            tooltip="learning rate down the Playground's ladder (1e-5 … 10) while a logreg run trains; "
            "logged and charted",
        ),
        Binding("right_square_bracket", "tune(1)", "Rate +", tooltip="learning rate up the ladder"),
        Binding("l", "log", "Log", tooltip="the log on the whole screen (the arrows scroll it), and back"),
        Binding("escape", "back", "Back", tooltip="back; a live run goes on (the runs board shows it)"),
    ]  # fmt: skip
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
        self._unpainted: set[str] = set()  # what changed since the panels were last painted
        self._new_metrics: list[dict[str, float]] = []  # for the charts, in order
        self._paint_timer: Timer | None = None
        self._footer_for: tuple[bool, bool, bool] | None = None  # the _offered() the footer shows

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
        # Lines wrap at the log's width (Textual's RichLog wraps at no less than 78 columns).
        yield RichLog(id="log", wrap=True, markup=False, highlight=False, max_lines=2000, min_width=20)
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
        self.query_one("#log").border_subtitle = "l: the whole log"  # at 80x24 it shows two lines
        # The log stays on its newest line as the screen's layout changes under it (Textual
        # scrolls to the end on each write, with the height it had then), until scrolled up.
        self.query_one("#log", RichLog).anchor()
        if self.record is not None:
            self.run = Run(self.record)
            live = self.run.live()
            self.sub_title = self.record.run_id + ("" if live else " (recorded)")
            self._follow(self.run)
        elif self.request is not None:
            self._start()

    def on_screen_resume(self) -> None:
        # What came while another screen was on top, on the next tick: the screen as it was
        # is shown at once, so the key that brought it back is not kept waiting for a paint.
        if self._unpainted and self._paint_timer is None:
            self._paint_timer = self.set_timer(PAINT_S, self._paint)

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
        self._refresh_footer()  # the keys of a live run
        self._follow(self.run)

    @work(thread=True, exclusive=True, exit_on_error=False, group="run", description="follow run")
    def _follow(self, run: Run) -> None:
        # call_later posts a message, which is thread-safe and, unlike call_from_thread, never
        # blocks; posted to the app, not to this screen: under a screen on top (the help) each
        # message this screen takes has Textual repaint the one on top, and what shows of this
        # one through it, in full (the same in a bare Textual app, once anything below changed).
        ended = False
        for event in run.events(stop=self._leaving.is_set):
            ended = ended or isinstance(event, ev.TERMINAL)
            self.app.call_later(self._hand_over, self._apply, event)
        if not ended and not self._leaving.is_set():
            self.app.call_later(self._hand_over, self._replay_ended, run.record.status())

    def _hand_over(self, take: Callable[[T], None], what: T) -> None:
        """``take(what)``, for the worker, on the app's queue: in the order the worker handed
        them over, unless the screen was left by then or is being taken down."""
        if not self.is_attached:  # left, with events still on their way
            return
        try:
            take(what)
        except NoMatches:
            if self.query("#log"):  # the screen's widgets are all there: a real error
                raise
            # Else they are being taken down (the app is closing) as the event comes.

    def _replay_ended(self, status: str) -> None:
        """The record ran out without a verdict that could be recorded (a read-only folder of a
        killed run, say): ``status`` is what the folder says."""
        self._record_ended = True
        self._note = status
        self._paint("status")
        log = self.query_one("#log", RichLog)
        log.write(f"the record ends here, without a result: the run is {status}")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            # Reading the run broke (say, its folder was deleted): say so instead of freezing.
            self._record_ended = True
            self._note = "failed"
            self._paint("status")
            self.query_one("#log", RichLog).write(f"cannot follow the run: {event.worker.error}")

    def _apply(self, event: ev.Event) -> None:
        self.state.apply(event)
        log = self.query_one("#log", RichLog)
        if isinstance(event, ev.Started):
            log.write(f"{event.time:6.1f}s started {event.lab} on {event.device}, seed {event.seed}")
        elif isinstance(event, ev.Stage):
            log.write(f"{event.time:6.1f}s {event.name}")
        elif isinstance(event, ev.Metric):
            self._new_metrics.append(event.values)
            self._unpainted.add("metrics")
        elif isinstance(event, ev.VIEWS):
            self.view = self.view or event.name
            if event.name == self.view or len(self.views) != self._views_shown:
                self._unpainted.add("view")  # a new view: the title counts it
        elif isinstance(event, ev.Paused):
            self.paused, self._note = event.held, None
            log.write(f"{event.time:6.1f}s {'paused' if event.held else 'resumed'}")
        elif isinstance(event, ev.Log):
            log.write(f"{event.time:6.1f}s {event.message}")
        elif isinstance(event, ev.Artifact):
            log.write(f"{event.time:6.1f}s wrote {event.path}: {event.description}")
        elif isinstance(event, ev.DeviceSample):
            self._unpainted.add("devices")
        elif isinstance(event, ev.TERMINAL):
            self._note = None
            if isinstance(event, ev.Finished):
                result = ", ".join(f"{k}={fmt(v)}" for k, v in event.summary.items())
                log.write(f"{event.time:6.1f}s finished: {result}")
            else:
                log.write(f"{event.time:6.1f}s {ev.STATUS[type(event)]}: {event.reason}")
                for line in getattr(event, "log_tail", ())[-8:]:
                    log.write(f"    {line}")
        self._unpainted.add("status")
        if self.ended:
            self._paint()  # the last picture at once, not a tick later
        elif self._paint_timer is None and self.app.screen is self:  # else painted when resumed
            self._paint_timer = self.set_timer(PAINT_S, self._paint)

    def _paint(self, *also: str) -> None:
        """Repaint what changed since the last paint (and ``also`` those panels), from the state,
        which holds the latest of everything."""
        if self._paint_timer is not None:
            self._paint_timer.stop()
            self._paint_timer = None
        self._unpainted |= set(also)
        if self.app.screen is not self:
            # Under the help or a question: repainting here would mean blending the whole
            # screen under the one on top on every paint, which the keys there would wait
            # behind. The state keeps folding; the screen is painted when it is shown again.
            # (Not `is_current`: that is true under a modal too, the screen below showing.)
            return
        unpainted, self._unpainted = self._unpainted, set()
        if "metrics" in unpainted:
            charts = self.query_one(MetricCharts)
            charts.add(self._new_metrics)
            self._new_metrics = []
            self.query_one(MetricsPanel).show(self.state.step, self.state.metrics, frozenset(charts.series))
        if "view" in unpainted and self.view is not None:
            self._show(self.views[self.view])
        if "devices" in unpainted and self.state.device_sample is not None:
            self.query_one(DevicePanel).show(self.state.device_sample)
        if "status" in unpainted:
            self.query_one(RunStatus).show(self.state, self._note)
        self._refresh_footer()

    def _refresh_footer(self) -> None:
        """Redraw the footer's keys when what they depend on has changed."""
        if self._offered() != self._footer_for:
            self._footer_for = self._offered()
            self.refresh_bindings()

    def _show(self, view: View) -> None:
        switcher = self.query_one("#views", ContentSwitcher)
        if isinstance(view, ev.Frame):
            self.query_one(Heatmap).show(view.data, view.signed, view.points, view.contour, view.labels)
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
        caption = view.caption if isinstance(view, ev.Frame) else ""  # what its rows and columns are
        panel.border_subtitle = "arrows scroll" if switcher.current == "table" else caption

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
        self._refresh_footer()  # s saves a heatmap, not a table
        self.notify(f"View: {self.view}")

    def _tunable(self) -> tuple[str, tuple[float, ...]] | None:
        lab = self._lab()
        return next(iter(lab.tunables.items()), None) if lab is not None else None

    @property
    def live(self) -> bool:
        return self.run is not None and not self.ended

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only what can be done now is offered (and done): cancel and pause a live run, resume
        and step a paused one, save a heatmap on show, tune a lab that has a rate."""
        if action in ("cancel", "pause"):
            return self.live and not (action == "pause" and self.paused)
        if action in ("resume", "step"):
            return self.live and self.paused
        if action == "snapshot":
            return self.frame is not None
        if action == "tune":
            return self._tunable() is not None and self.live
        return True

    def _offered(self) -> tuple[bool, bool, bool]:
        """What check_action depends on: when it changes, the footer is redrawn."""
        return self.live, self.paused, self.frame is not None

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
            self._paint("status")

    def action_pause(self) -> None:
        self._hold(True)

    def action_resume(self) -> None:
        self._hold(False)

    def _hold(self, pausing: bool) -> None:
        if self._control(lambda run: run.pause() if pausing else run.resume()):
            # Shown at once; the run's own Paused event confirms it.
            self.paused = pausing
            self._note = "paused" if pausing else "running"
            self._paint("status")

    def action_step(self) -> None:
        self._control(lambda run: run.step())  # offered only while paused

    def action_log(self) -> None:
        """The log on the whole screen, focused so that the arrows scroll it; again, back."""
        log = self.query_one("#log", RichLog)
        if self.maximized is log:
            self.minimize()
        else:
            self.maximize(log, container=False)
            log.focus()

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
        self._reframe(factor, 0, 0)

    def action_pan(self, dx: int, dy: int) -> None:
        """For runs with a window: move it across or up, by a step the lab chooses."""
        self._reframe(1.0, dx, dy)

    def _reframe(self, factor: float, dx: int, dy: int) -> None:
        """The lab says how the window moves. A live run reads the new window as tuned values
        and recomputes in its own process; an ended one is run again there."""
        if (request := self._request()) is None:
            return
        values = {**to_dict(request.params), **self.tuned}
        reframe = request.lab.reframe
        changes = reframe(values, factor, dx, dy) if reframe is not None else None
        if changes is None:
            self.notify("This run has no window to zoom or move.", severity="warning")
            return
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
        if self.frame is None or self.record is None:  # offered only with a heatmap on show
            return
        folder = self.record.path / "artifacts"
        name = re.sub(r"[^\w.-]+", "-", self.frame.name)  # "escape count": no space in a file name
        path = folder / f"snapshot-{name}-{self.frame.step}.png"
        try:
            folder.mkdir(exist_ok=True)
            # As the screen shows it: the colour map (m) and range (v) chosen, with its colour bar.
            heatmap = self.query_one(Heatmap)
            write_snapshot_png(path, self.frame.data, heatmap.cmap, heatmap.value_range())
        except OSError as exc:
            self.notify(f"Cannot save the heatmap: {exc}", severity="error")
            return
        self.notify(f"Saved {path}")

    def action_back(self) -> None:
        if self.maximized is not None:  # the log on the whole screen: back to the run's panels
            self.minimize()
            return
        if self.run is not None and not self.ended:
            self.app.notify(f"Run {self.run.run_id} goes on: the runs board (h on the menu) shows it.")
        self.app.pop_screen()

    def on_unmount(self) -> None:
        self._leaving.set()  # the reading thread lets go; the run itself goes on
