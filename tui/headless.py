"""The headless viewer of a run: a Rich live view on a terminal, plain progress
lines in a pipe, or JSON lines with ``--json``.

It is a viewer like any other: it reads the run folder's events and sends
controls, and the run goes on if it goes away. What the signals do:

- ``run --headless`` (a foreground run): Ctrl+C or SIGTERM cancels the run
  (a second Ctrl+C stops it by force) and waits for its verdict.
- ``attach``: Ctrl+C or SIGTERM detaches and leaves the run going.
- Both: a hang-up (SIGHUP, the terminal closed) or a closed output (a broken
  pipe) detaches; the run goes on.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
from rich.cells import cell_len
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from labs import events as ev
from labs.control import NotLive
from labs.numbers import cell, fmt
from labs.recording import RunRecord
from labs.runner import Run
from labs.state import RunState
from tui.clock import clock
from tui.heatmap_render import HeatmapRenderable, fit

PLAIN_INTERVAL_S = 1.0  # at most one progress line a second in a pipe
HEAT_MIN_LINES = 4  # the least a field is drawn in, even where the screen has no room (Live crops)
METRICS_GAP = 2  # columns between the field and the metrics beside it
LOG_ROOM = 3  # lines left above the live view, where the run's latest log lines stay in sight
SUMMARY_WAIT_S = 10.0  # for the supervisor to write the summary after the terminal event
DETACHED = "detached"


@dataclass(frozen=True)
class Outcome:
    """How viewing a run ended: the run's status (or ``detached``), and the signal that
    ended the viewing, if one did."""

    status: str
    signal: int | None = None


class _Viewer:
    """Follows a run until it ends or the viewer lets go of it (``detached``)."""

    def __init__(self, run: Run, foreground: bool) -> None:
        self.run = run
        self.foreground = foreground
        self.detached = False
        self.signal: int | None = None  # the signal that ended the viewing, if one did
        self._interrupts = 0

    def handle(self, signum: int, _frame: Any) -> None:
        self.signal = signum
        if signum == signal.SIGHUP or not self.foreground:
            self.detached = True
            return
        self._interrupts += 1
        try:
            if self._interrupts == 1:
                self.run.cancel()
            else:
                self.run.kill()
        except (NotLive, OSError):
            pass  # it has ended meanwhile: its terminal event is on its way

    def events(self) -> Iterator[ev.Event]:
        return self.run.events(stop=lambda: self.detached)


def follow(run: Run, mode: str = "auto", out: TextIO | None = None, foreground: bool = True) -> Outcome:
    """Show ``run``'s events until it ends, or until this viewer detaches."""
    out = out or sys.stdout
    viewer = _Viewer(run, foreground)
    watched = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, viewer.handle) for signum in watched}
    try:
        try:
            if mode == "json":
                _json(viewer.events(), out)
            elif mode == "auto" and out.isatty():
                _live(viewer, out)
            else:
                _plain(viewer.events(), out)
        except OSError:  # the terminal or the pipe we print to is gone: let go of the run
            viewer.detached = True
        if viewer.detached:
            return Outcome(DETACHED, viewer.signal)
        run.wait(SUMMARY_WAIT_S)
        if mode != "json":
            try:
                print_summary(run.record, Console(file=out))
            except OSError:
                return Outcome(DETACHED)
        return Outcome(run.record.status(), viewer.signal)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _json(events: Iterator[ev.Event], out: TextIO) -> None:
    for event in events:
        out.write(ev.to_json(event) + "\n")
        out.flush()


def _progress_line(state: RunState) -> str:
    done = f"step {state.step}" + (
        f"/{state.total} ({100 * state.step / state.total:.0f}%)" if state.total else ""
    )
    values = " ".join(f"{k}={fmt(v)}" for k, v in state.metrics.items())
    return f"[{state.elapsed:7.1f}s] {done} {values}"


def _plain(events: Iterator[ev.Event], out: TextIO) -> None:
    state = RunState()
    last_line = -PLAIN_INTERVAL_S
    pending = False
    for event in events:
        state.apply(event)
        if isinstance(event, ev.Started):
            print(f"started {event.lab} run {event.run_id} on device {event.device}", file=out, flush=True)
        elif isinstance(event, ev.Stage):
            print(f"[{event.time:7.1f}s] {event.name}", file=out, flush=True)
        elif isinstance(event, ev.Queued):
            print(f"[{event.time:7.1f}s] {state.stage}", file=out, flush=True)
        elif isinstance(event, ev.Metric):
            pending = True
            now = time.monotonic()
            if now - last_line >= PLAIN_INTERVAL_S:
                print(_progress_line(state), file=out, flush=True)
                last_line, pending = now, False
        elif isinstance(event, ev.Log):
            print(f"[{event.time:7.1f}s] {event.message}", file=out, flush=True)
        elif isinstance(event, ev.Paused):
            print(f"[{event.time:7.1f}s] {'paused' if event.held else 'resumed'}", file=out, flush=True)
        elif isinstance(event, ev.Artifact):
            print(f"wrote {event.path}: {event.description}", file=out, flush=True)
        elif isinstance(event, ev.TERMINAL) and pending:
            print(_progress_line(state), file=out, flush=True)


def _params_table(meta: dict[str, Any], params: dict[str, Any]) -> Table:
    """The parameters that matter to the run (a heat run's, not the wave's); those it
    changed from the lab's defaults marked with *."""
    from labs.registry import get_lab

    try:
        specs = get_lab(str(meta.get("lab_ref"))).specs
        shown = [s.name for s in specs if s.name in params and s.applies(params)]
    except LookupError:  # a user's lab that is gone: all of them, then
        shown = list(params)
    changed = set(meta.get("changed") or [])
    table = Table(show_header=False, box=None)
    for name in shown:
        table.add_row(f"{'*' if name in changed else ' '} {name}", cell(params[name]))
    return table


def _metrics_table(values: dict[str, float]) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    for name, value in values.items():
        table.add_row(Text(name), Text(fmt(value)))  # Text: names are not markup
    return table


def _result_table(table: ev.Table) -> Table:
    shown = Table(title=table.name, title_justify="left", box=None, pad_edge=False, header_style="bold")
    for column in table.columns:
        shown.add_column(Text(column), no_wrap=True)
    for row in table.rows:
        shown.add_row(*(Text(cell(v)) for v in row))
    return shown


def _drawn(data: np.ndarray, width: int, lines: int, colour: bool) -> tuple[int, int]:
    """(columns, lines) a field takes drawn within width x lines, as
    :func:`tui.heatmap_render.render_lines` draws it: keeping its aspect."""
    shape = data.shape[0], data.shape[1]
    if colour:  # half blocks: two data rows a line
        cols, rows = fit(shape, width, 2 * lines)
        return cols, (rows + 1) // 2
    cols, rows = fit(shape, width // 2, lines)  # the ASCII ramp: two characters a data column
    return 2 * cols, rows


def _frame_view(frame: ev.Frame, metrics: Table, console: Console) -> Any:
    """The frame as large as the screen lets it be, and the metrics: above it, or beside it
    where that draws the field larger (a square field on a wide, low terminal).

    The field keeps its aspect within the terminal's width and the lines that the rest of
    the view and the log leave, so the whole view fits the screen (Live would crop its
    colour bar). Not on a terminal, Rich's size is 80x25, or $COLUMNS x $LINES.
    """
    width, height = console.size
    colour = not console.no_color and console.color_system is not None

    def caption_lines(at: int) -> int:
        if not frame.caption:
            return 0
        return len(console.render_lines(Text(frame.caption), console.options.update_width(at)))

    def field(room: int, taken: int) -> tuple[int, int]:
        """(columns, lines) of the field within ``room`` columns and the lines left after
        the log's, ``taken`` and those around the field: the progress line, the frame's
        title, its caption wrapped at ``room`` and its colour bar."""
        around = 2 + caption_lines(room) + (frame.data.ndim == 2)
        lines = height - LOG_ROOM - taken - around
        return _drawn(frame.data, room, max(HEAT_MIN_LINES, lines), colour)

    title = f"{frame.name} @ {frame.step}"
    stacked = field(width, len(metrics.rows))
    room = width - console.measure(metrics).maximum - METRICS_GAP
    beside = field(room, 0) if room > 0 else (0, 0)
    if beside[0] <= stacked[0]:
        return Group(metrics, HeatmapRenderable(frame, stacked[1], title))
    # As wide as the field, or as the caption up to the room it was wrapped in: then it
    # wraps to the lines counted for it.
    grid = Table.grid(padding=(0, METRICS_GAP, 0, 0))
    grid.add_column(width=max(beside[0], min(room, cell_len(frame.caption))))
    grid.add_column()
    grid.add_row(HeatmapRenderable(frame, beside[1], title), metrics)
    return grid


def _live(viewer: _Viewer, out: TextIO) -> None:
    console = Console(file=out)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[steps]}"),
        TextColumn("{task.fields[clock]}"),
        console=console,
    )
    task = progress.add_task(viewer.run.run_id, total=None, clock="", steps="")
    state = RunState()

    def view() -> Group:
        line = f"{state.status}  {clock(state.running_time)}"
        if state.eta is not None:
            line += f"  ETA {clock(state.eta)}"
        if state.stage is not None:
            line += f"  {state.stage} {state.stage_time:.1f} s"
        steps = f"{state.step}/{state.total}" if state.total else str(state.step)  # no total: no "/None"
        progress.update(task, total=state.total, completed=state.step, clock=line, steps=steps)
        metrics = _metrics_table(state.metrics)
        frame = next((v for v in state.views.values() if isinstance(v, ev.Frame)), None)
        if frame is None:  # a lab with several views: follow the first
            return Group(progress, metrics)
        return Group(progress, _frame_view(frame, metrics, console))

    with Live(view(), console=console, refresh_per_second=8, transient=False) as live:
        for event in viewer.events():
            state.apply(event)
            if isinstance(event, ev.Log):
                # Text, not markup: a log line may hold brackets, as paths and arrays do.
                live.console.print(Text.assemble((f"{event.time:7.1f}s ", "dim"), event.message))
            live.update(view())  # only what is shown at the next refresh is rendered


def print_summary(record: RunRecord, console: Console | None = None) -> None:
    """The run's status, result and folder, from its record on disk."""
    console = console or Console()
    info = record.info()
    if info.status == "damaged":
        console.print(f"run {record.run_id}: damaged — {info.reason}", markup=False, soft_wrap=True)
        console.print(f"run folder: {record.path}", markup=False, highlight=False, soft_wrap=True)
        return
    meta, summary = record.meta, record.summary or {}
    console.print(
        f"run {record.run_id} ({meta['lab']}, device {meta['device']}, seed {meta['seed']})",
        markup=False,
        soft_wrap=True,
    )
    if info.label:
        console.print(f"label: {info.label}", markup=False, highlight=False, soft_wrap=True)
    params = meta.get("params")
    if isinstance(params, dict) and params:
        console.print("parameters (* changed from the lab's default):", markup=False, highlight=False)
        console.print(_params_table(meta, params))
    line = f"status: {info.status}"
    if summary.get("duration") is not None:
        line += f" after {summary['duration']:.1f}s"
    if summary.get("reason"):
        line += f" — {summary['reason']}"
    console.print(line, markup=False, highlight=False, soft_wrap=True)
    result = summary.get("result") or summary.get("metrics") or {}
    if result:
        console.print(_metrics_table(result))
    for table in record.tables():
        # At its natural width, even in a pipe (80 columns to Rich): a folded table cannot be read or parsed.
        cells = [table.columns, *([cell(v) for v in row] for row in table.rows)]
        natural = sum(max(len(str(r[i])) for r in cells) for i in range(len(table.columns)))
        width = console.width
        console.width = max(width, natural + 2 * len(table.columns))
        console.print(_result_table(table))
        console.width = width
    if info.status in ("failed", "interrupted"):
        tail = record.log_tail(8)
        if tail:
            console.print("last log lines:", markup=False)
            for log_line in tail:
                console.print(f"  {log_line}", markup=False, highlight=False, soft_wrap=True)
    # One line whatever the width, so scripts and copy-paste get the whole path.
    console.print(f"run folder: {record.path}", markup=False, highlight=False, soft_wrap=True)
