"""The headless consumer of a run's events: a Rich live view on a terminal,
plain progress lines in a pipe, or JSON lines with ``--json``."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from labs import events as ev
from labs.numbers import cell, fmt
from labs.recording import RunRecord
from labs.runner import Run
from tui.heatmap_render import HeatmapRenderable

PLAIN_INTERVAL_S = 1.0  # at most one progress line a second in a pipe


def follow(run: Run, mode: str = "auto", out: TextIO | None = None) -> str:
    """Consume ``run``'s events until it ends; Ctrl+C cancels it. Returns the status."""
    out = out or sys.stdout
    first_interrupt = True

    def on_interrupt(_signum: int, _frame: Any) -> None:
        nonlocal first_interrupt
        if first_interrupt:
            first_interrupt = False
            run.cancel()
        else:
            run.kill()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        if mode == "json":
            terminal = _json(run.events(), out)
        elif mode == "auto" and out.isatty():
            terminal = _live(run, out)
        else:
            terminal = _plain(run, out)
    finally:
        signal.signal(signal.SIGINT, previous)
    if mode != "json":
        print_summary(run.record, Console(file=out))
    return ev.STATUS[type(terminal)]


def _json(events: Iterator[ev.Event], out: TextIO) -> ev.Event:
    terminal: ev.Event = ev.Failed(kind="crash", reason="no events")
    for event in events:
        out.write(ev.to_json(event) + "\n")
        out.flush()
        terminal = event
    return terminal


def _progress_line(event: ev.Metric, total: int | None) -> str:
    done = f"step {event.step}" + (f"/{total} ({100 * event.step / total:.0f}%)" if total else "")
    values = " ".join(f"{k}={fmt(v)}" for k, v in event.values.items())
    return f"[{event.time:7.1f}s] {done} {values}"


def _plain(run: Run, out: TextIO) -> ev.Event:
    total: int | None = None
    last_line = -PLAIN_INTERVAL_S
    pending: ev.Metric | None = None
    for event in run.events():
        if isinstance(event, ev.Started):
            total = event.total_steps
            print(f"started {event.lab} run {event.run_id} on device {event.device}", file=out)
        elif isinstance(event, ev.Metric):
            pending = event
            now = time.monotonic()
            if now - last_line >= PLAIN_INTERVAL_S:
                print(_progress_line(event, total), file=out, flush=True)
                last_line, pending = now, None
        elif isinstance(event, ev.Log):
            print(f"[{event.time:7.1f}s] {event.message}", file=out, flush=True)
        elif isinstance(event, ev.Artifact):
            print(f"wrote {event.path}: {event.description}", file=out)
        elif isinstance(event, ev.TERMINAL):
            if pending is not None:
                print(_progress_line(pending, total), file=out)
            return event
    raise RuntimeError("the run ended without a terminal event")


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


def _live(run: Run, out: TextIO) -> ev.Event:
    console = Console(file=out)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task(f"{run.lab.name} {run.run_id}", total=None)
    metrics: dict[str, float] = {}
    frame: ev.Frame | None = None
    heat_rows = max(6, min(20, console.size.height - 12))

    def view() -> Group:
        parts: list[Any] = [progress, _metrics_table(metrics)]
        if frame is not None:
            parts.append(HeatmapRenderable(frame, heat_rows, f"{frame.name} @ {frame.step}"))
        return Group(*parts)

    with Live(view(), console=console, refresh_per_second=8, transient=False) as live:
        for event in run.events():
            if isinstance(event, ev.Started):
                progress.update(task, total=event.total_steps)
            elif isinstance(event, ev.Metric):
                metrics = event.values
                progress.update(task, completed=event.step)
            elif isinstance(event, ev.Frame) and (frame is None or event.name == frame.name):
                frame = event  # a lab with several views: follow the first
            elif isinstance(event, ev.Log):
                # Text, not markup: a log line may hold brackets, as paths and arrays do.
                live.console.print(Text.assemble((f"{event.time:7.1f}s ", "dim"), event.message))
            elif isinstance(event, ev.TERMINAL):
                live.update(view())
                return event
            live.update(view())
    raise RuntimeError("the run ended without a terminal event")


def print_summary(record: RunRecord, console: Console | None = None) -> None:
    """The run's status, result and folder, from its record on disk."""
    console = console or Console()
    meta, summary = record.meta, record.summary or {}
    status = record.status()
    console.print(
        f"run {record.run_id} ({meta['lab']}, device {meta['device']}, seed {meta['seed']})",
        markup=False,
        soft_wrap=True,
    )
    line = f"status: {status}"
    if "duration" in summary:
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
    if status in ("failed", "interrupted"):
        tail = record.log_tail(8)
        if tail:
            console.print("last log lines:", markup=False)
            for log_line in tail:
                console.print(f"  {log_line}", markup=False, highlight=False, soft_wrap=True)
    # One line whatever the width, so scripts and copy-paste get the whole path.
    console.print(f"run folder: {record.path}", markup=False, highlight=False, soft_wrap=True)
