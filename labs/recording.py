"""Run folders on disk: everything a run logged survives the run's death.

A run folder holds ``params.json`` (written before the run starts),
``events.jsonl`` (one event per line, flushed as it goes), ``output.log``
(everything the run's process printed, TensorFlow's own lines included),
``artifacts/``, ``tensorboard/`` and, once the run has ended, ``summary.json``.
A folder without a summary whose process is gone was interrupted.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from labs import events as ev
from labs.jsonfile import read_object, write_atomic
from labs.numbers import fmt

PARAMS = "params.json"
EVENTS = "events.jsonl"
SUMMARY = "summary.json"
OUTPUT = "output.log"
PROCESS = "process.json"


def _read_tail(path: Path, nbytes: int) -> str | None:
    """The last ``nbytes`` of a file as text (a torn first line is the caller's to skip)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - nbytes))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


@dataclass(frozen=True)
class RunInfo:
    """One line of ``meetup-lab runs``."""

    run_id: str
    lab: str
    status: str
    started: str
    started_unix: float
    duration: float | None
    key_metric: str
    path: Path


class RunRecord:
    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(
        cls,
        runs_dir: Path,
        lab_ref: str,
        lab: str,
        params: dict[str, Any],
        device: str,
        seed: int,
        key_metric: str | tuple[str, ...] | None = None,
    ) -> RunRecord:
        now = datetime.now()
        run_id = f"{now:%Y%m%d-%H%M%S}-{lab}-{secrets.token_hex(2)}"
        path = Path(runs_dir) / run_id
        path.mkdir(parents=True)
        meta = {
            "run_id": run_id,
            "lab": lab,
            "lab_ref": lab_ref,
            "params": params,
            "device": device,
            "seed": seed,
            "key_metric": key_metric,
            "started_at": now.isoformat(timespec="seconds"),
            "started_unix": time.time(),
        }
        write_atomic(path / PARAMS, meta)
        return cls(path)

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def meta(self) -> dict[str, Any]:
        meta = read_object(self.path / PARAMS)
        if meta is None:
            raise LookupError(f"{self.path} is not a run folder (no readable {PARAMS})")
        return meta

    def set_process(self, pid: int) -> None:
        # The start time tells a live run from a new process that reuses its pid.
        try:
            created = psutil.Process(pid).create_time()
        except psutil.Error:
            created = None
        write_atomic(self.path / PROCESS, {"pid": pid, "create_time": created})

    def append(self, event: ev.Event, handle: Any = None) -> None:
        """Append one event line. A writer that appends often passes its open handle."""
        line = ev.to_json(event) + "\n"
        if handle is not None:
            handle.write(line)
            handle.flush()
            return
        path = self.path / EVENTS
        with open(path, "a+b") as f:
            # A process killed mid-line leaves a partial line: end it first.
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")
            f.write(line.encode())

    def open_events_for_append(self) -> Any:
        return open(self.path / EVENTS, "a", buffering=1, encoding="utf-8")

    def events(self, only: str | None = None) -> Iterator[ev.Event]:
        """The recorded events (``only``: of that type, say "table"); a torn last line
        (a killed writer) is skipped."""
        try:
            f = open(self.path / EVENTS, encoding="utf-8")
        except FileNotFoundError:
            return
        wanted = f'"type":"{only}"' if only else ""
        with f:
            for line in f:
                if wanted not in line:  # skips decoding the rest: a PDE run records thousands of frames
                    continue
                try:
                    yield ev.from_json(line)
                except (ValueError, KeyError, TypeError):
                    continue

    def tables(self) -> list[ev.Table]:
        """The last of each table the run reported, in the order they first came."""
        latest = {t.name: t for t in self.events("table") if isinstance(t, ev.Table)}
        return list(latest.values())

    def last_event(self) -> ev.Event | None:
        """The last complete event line, read from the end of the file."""
        tail = _read_tail(self.path / EVENTS, 65536) or ""
        for line in reversed(tail.splitlines()):
            try:
                return ev.from_json(line)
            except (ValueError, KeyError, TypeError):
                continue
        return None

    @property
    def summary(self) -> dict[str, Any] | None:
        return read_object(self.path / SUMMARY)

    def write_summary(
        self, terminal: ev.Event, metrics: dict[str, float], lab_summary: dict[str, Any]
    ) -> None:
        meta = self.meta
        wanted = meta.get("key_metric") or []
        candidates = [wanted] if isinstance(wanted, str) else list(wanted)
        key = next((name for name in candidates if name in metrics), None)
        summary: dict[str, Any] = {
            "status": ev.STATUS[type(terminal)],
            "duration": round(terminal.time, 3),
            "ended_at": datetime.now().isoformat(timespec="seconds"),
            "metrics": metrics,
            "key_metric": {key: metrics[key]} if key is not None else {},
            "result": lab_summary,
        }
        if isinstance(terminal, ev.Failed):
            summary["kind"] = terminal.kind
        if isinstance(terminal, ev.Failed | ev.Cancelled | ev.Interrupted):
            summary["reason"] = terminal.reason
        write_atomic(self.path / SUMMARY, summary)

    def status(self) -> str:
        summary = self.summary
        if summary is not None:
            return summary["status"]
        process = read_object(self.path / PROCESS)
        if process and _alive(process.get("pid"), process.get("create_time")):
            return "running"
        return "interrupted"

    def log_tail(self, lines: int = 20) -> tuple[str, ...]:
        text = _read_tail(self.path / OUTPUT, 16384) or ""
        return tuple(text.splitlines()[-lines:])

    def info(self) -> RunInfo:
        meta = self.meta
        summary = self.summary or {}
        key = summary.get("key_metric") or {}
        return RunInfo(
            run_id=self.run_id,
            lab=meta["lab"],
            status=self.status(),
            started=meta["started_at"],
            started_unix=meta.get("started_unix", 0.0),
            duration=summary.get("duration"),
            key_metric=", ".join(f"{k}={fmt(v)}" for k, v in key.items()) or "-",
            path=self.path,
        )


def _alive(pid: object, create_time: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        process = psutil.Process(pid)
        if isinstance(create_time, int | float) and abs(process.create_time() - create_time) >= 1.0:
            return False  # the pid now belongs to another process
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def list_runs(runs_dir: Path) -> list[RunInfo]:
    """Recorded runs, newest first; folders that are not runs are skipped."""
    if not runs_dir.is_dir():
        return []
    infos = []
    for path in runs_dir.iterdir():
        if (path / PARAMS).is_file():
            try:
                infos.append(RunRecord(path).info())
            except (LookupError, KeyError, TypeError, ValueError, AttributeError):
                continue  # a folder damaged by hand: list the others
    return sorted(infos, key=lambda info: (info.started_unix, info.run_id), reverse=True)


def find_run(runs_dir: Path, ref: str) -> RunRecord:
    """A run by id, unique id prefix, ``last``, or folder path."""
    if not ref.strip():
        raise LookupError("no run given: name a run id, a unique prefix of one, or `last`")
    if (Path(ref) / PARAMS).is_file():
        return RunRecord(Path(ref))
    runs = list_runs(runs_dir)
    if ref == "last" and runs:
        return RunRecord(runs[0].path)
    matches = [r for r in runs if r.run_id == ref] or [r for r in runs if r.run_id.startswith(ref)]
    if len(matches) == 1:
        return RunRecord(matches[0].path)
    if not matches:
        raise LookupError(f"no run {ref!r} in {runs_dir} (see `meetup-lab runs`)")
    raise LookupError(f"{ref!r} matches {len(matches)} runs: give more of the run id")
