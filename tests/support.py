"""Helpers for tests that drive real runs: bounded waits, never a timing assertion."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labs import events as ev
from labs.runner import Run

REPO = Path(__file__).resolve().parent.parent
MEETUP_LAB = Path(sys.executable).parent / "meetup-lab"
WAIT_S = 60.0  # upper bound for anything a test waits on; a hang fails, it does not block


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail clearly after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


class EventPump:
    """Consumes ``run.events()`` on a thread, so a test can act while the run goes on."""

    def __init__(self, run: Run):
        self.run = run
        self.events: list[ev.Event] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._consume, daemon=True)
        self._thread.start()

    def _consume(self) -> None:
        try:
            for event in self.run.events():
                self.events.append(event)
        except BaseException as exc:  # surfaced by result()
            self.error = exc

    def metrics(self) -> list[ev.Metric]:
        return [e for e in list(self.events) if isinstance(e, ev.Metric)]

    def wait_for_metrics(self, count: int = 1) -> list[ev.Metric]:
        def enough() -> list[ev.Metric] | None:
            if not self._thread.is_alive():
                pytest.fail(f"the run ended before {count} metric(s): {self.events[-1:]}")
            metrics = self.metrics()
            return metrics if len(metrics) >= count else None

        return wait_until(enough, f"{count} metric(s) from {self.run.run_id}")

    def result(self, timeout: float = WAIT_S) -> list[ev.Event]:
        """All events, once the run has ended; kills the run and fails if it does not end."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            kill_run(self.run)
            self._thread.join(10)
            pytest.fail(f"run {self.run.run_id} did not end within {timeout:.0f} s; killed it")
        if self.error is not None:
            raise self.error
        return self.events


def terminal_of(events: list[ev.Event]) -> ev.Event:
    """The run's terminal event, checking there is exactly one and it comes last."""
    terminals = [e for e in events if isinstance(e, ev.TERMINAL)]
    assert len(terminals) == 1, f"expected exactly one terminal event, got {terminals}"
    assert events[-1] is terminals[0], "the terminal event must come last"
    return terminals[0]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0)
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_group(pid: int) -> None:
    """SIGKILL a process group (a run's lab process and its supervisor each lead one)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def kill_run(run: Run) -> None:
    """Whatever is left of a run, killed: its lab process group, then its supervisor."""
    for pid in (run.pid, run.supervisor_pid):
        if pid is not None:
            kill_group(pid)


def run_pid(run_dir: Path) -> int | None:
    try:
        return json.loads((run_dir / "process.json").read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return None


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a ``meetup-lab`` subprocess.

    PYTHONPATH names the repository so that ``tests.fixture_labs:NAME`` loads: the
    console script's sys.path starts at the venv's bin folder, not the working directory.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    # Rich takes a terminal's size from these over the terminal's own (pytest-xdist's workers
    # set both), and a program in a pseudo-terminal must see the pseudo-terminal's.
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env.pop("FORCE_COLOR", None)
    env.update(extra)
    return env


def start_cli(*args: str, **popen: Any) -> subprocess.Popen[str]:
    """``meetup-lab ARGS`` in the background; its output piped unless ``popen`` says otherwise
    (a test that does not read a chatty command's output must send it elsewhere, or it blocks)."""
    options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **popen}
    return subprocess.Popen([str(MEETUP_LAB), *args], cwd=REPO, env=cli_env(), text=True, **options)


def run_cli(*args: str, timeout: float = WAIT_S, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MEETUP_LAB), *args],
        cwd=REPO,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def metric_lines(run_dir: Path) -> list[dict[str, Any]]:
    """The metric lines recorded in a run folder so far (read straight from the file)."""
    try:
        text = (run_dir / "events.jsonl").read_text()
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if obj.get("type") == "metric":
            out.append(obj)
    return out


def run_dirs(runs_dir: Path) -> list[Path]:
    """The run folders in ``runs_dir``: not its queue or its index."""
    return [p for p in runs_dir.iterdir() if (p / "params.json").is_file()] if runs_dir.is_dir() else []


def only_run_dir(runs_dir: Path) -> Path | None:
    """The single run folder in ``runs_dir`` once it exists."""
    folders = run_dirs(runs_dir)
    assert len(folders) <= 1, f"expected one run folder, found {folders}"
    return folders[0] if folders else None


def drain(steps: Generator[ev.Event, None, dict[str, Any]]) -> tuple[list[ev.Event], dict[str, Any]]:
    """Run a lab's generator to its end in this process: its events and its summary."""
    events: list[ev.Event] = []
    while True:
        try:
            events.append(next(steps))
        except StopIteration as done:
            return events, done.value


def read_png(path: Path) -> Any:
    """The HxWx3 pixels of a PNG as written by ``labs.png`` (8-bit RGB, no filtering)."""
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, at = {}, 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        tag = data[at + 4 : at + 8]
        chunks[tag] = chunks.get(tag, b"") + data[at + 8 : at + 8 + length]
        at += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + 3 * width)
    assert (raw[:, 0] == 0).all()  # no scanline filter
    return raw[:, 1:].reshape(height, width, 3)
