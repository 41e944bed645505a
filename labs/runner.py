"""Runs a lab in its own process and streams its events back.

The run is isolated in a child process (``labs.child``) in its own session:
an exception, an abort, a segfault in a loaded C++ op or the out-of-memory
killer ends the child, never the caller. The caller iterates
:meth:`Run.events` (blocking; the TUI does it on a worker thread) and may call
:meth:`Run.cancel` from any thread: first a polite request the run checks
between events, then SIGKILL after a grace period.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labs import events as ev
from labs.devices import cuda_visible_devices
from labs.params import to_dict
from labs.recording import OUTPUT, RunRecord
from labs.registry import Lab, get_lab

CANCEL_GRACE_S = 0.8

_SIGNALS = {
    signal.SIGSEGV: "segmentation fault (SIGSEGV): the process touched memory it does not own",
    signal.SIGABRT: "abort (SIGABRT): a C/C++ check failed or abort() was called",
    signal.SIGBUS: "bus error (SIGBUS)",
    signal.SIGFPE: "arithmetic fault (SIGFPE)",
    signal.SIGILL: "illegal instruction (SIGILL)",
    signal.SIGTERM: "terminated (SIGTERM)",
}


def _describe_signal(number: int) -> str:
    try:
        return _SIGNALS.get(signal.Signals(number), signal.Signals(number).name)
    except ValueError:
        return f"signal {number}"


def oom_kills() -> int | None:
    """The kernel's count of out-of-memory kills so far (Linux), or ``None`` where unknown.

    A run killed by SIGKILL while this count rose was, almost surely, killed
    for memory rather than by a person's kill -9.
    """
    try:
        with open("/proc/vmstat", encoding="ascii") as f:
            for line in f:
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    return int(value)
    except (OSError, ValueError):
        pass
    return None


@dataclass(frozen=True)
class RunRequest:
    """What to run: everything needed to start (or restart) a run."""

    lab: Lab
    params: Any
    device: str = "auto"
    seed: int = 0
    lab_ref: str | None = None  # how the lab was named, if not by its built-in name

    def start(self, runs_dir: Path) -> Run:
        run = Run(
            self.lab, self.params, runs_dir=runs_dir, device=self.device, seed=self.seed, lab_ref=self.lab_ref
        )
        return run.start()

    @classmethod
    def from_record(cls, record: RunRecord) -> RunRequest:
        """The request that made a recorded run, to run it again."""
        meta = record.meta
        lab = get_lab(meta["lab_ref"])
        return cls(lab, lab.build_params(meta["params"]), meta["device"], meta["seed"], meta["lab_ref"])


class Run:
    """One run of a lab: create its record, start it, stream its events."""

    def __init__(
        self,
        lab: Lab,
        params: Any,
        *,
        runs_dir: Path,
        device: str = "auto",
        seed: int = 0,
        lab_ref: str | None = None,
    ):
        self.lab = lab
        self.params = params
        self.device = device
        self.record = RunRecord.create(
            runs_dir, lab_ref or lab.name, lab.name, to_dict(params), device, seed, lab.key_metric
        )
        self._proc: subprocess.Popen[str] | None = None
        self._cancel_requested = threading.Event()
        self._t0 = 0.0
        self._metrics: dict[str, float] = {}
        self._peak_rss = 0.0
        self._terminal: ev.Event | None = None
        self._finish_lock = threading.Lock()
        self._oom_kills_at_start: int | None = None

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> Run:
        env = dict(os.environ)
        # The child must import exactly what we can (labs given as module:NAME too).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
        visible = cuda_visible_devices(self.device)
        if visible is not None:
            env["CUDA_VISIBLE_DEVICES"] = visible
        with open(self.record.path / OUTPUT, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "labs.child", str(self.record.path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,  # until the child redirects its own fds: import errors land here
                text=True,
                encoding="utf-8",
                env=env,
                # Its own session: Ctrl+C in the terminal reaches us, not the run.
                start_new_session=True,
            )
        self._t0 = time.monotonic()
        self._oom_kills_at_start = oom_kills()
        self.record.set_process(self._proc.pid)
        return self

    def events(self) -> Iterator[ev.Event]:
        """The run's events until and including exactly one terminal event."""
        proc = self._require()
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                event = ev.from_json(line)
            except (ValueError, KeyError, TypeError):
                continue  # a line torn by a dying child
            if isinstance(event, ev.Metric):
                with self._finish_lock:  # stop() may be recording them from another thread
                    self._metrics.update(event.values)
            elif isinstance(event, ev.DeviceSample) and event.process_rss_mb:
                self._peak_rss = max(self._peak_rss, event.process_rss_mb)
            elif isinstance(event, ev.TERMINAL):
                continue  # held back until the process has exited and its summary is on disk
            yield event
        proc.stdout.close()
        yield self._finish(proc.wait())

    def _finish(self, returncode: int) -> ev.Event:
        """The run's terminal event, recorded exactly once whoever gets here first."""
        with self._finish_lock:
            if self._terminal is None:
                last = self.record.last_event()
                if isinstance(last, ev.TERMINAL) and self.record.summary is not None:
                    self._terminal = last  # the run ended itself and said how
                else:
                    self._terminal = self._verdict(returncode, self._peak_rss)
                    self.record.append(self._terminal)
                    self.record.write_summary(self._terminal, dict(self._metrics), {})
                proc = self._require()
                if proc.stdin is not None:
                    try:
                        proc.stdin.close()
                    except OSError:
                        pass  # the child is gone and the pipe with it
            return self._terminal

    def _verdict(self, returncode: int, peak_rss: float) -> ev.Event:
        """The terminal event for a child that died without sending one."""
        elapsed = round(time.monotonic() - self._t0, 3)
        tail = self.record.log_tail()
        if self._cancel_requested.is_set():
            return ev.Cancelled(reason="cancelled by the user (stopped by force)", time=elapsed)
        peak = f" (its memory peaked at {peak_rss:.0f} MB)" if peak_rss else ""
        before, now = self._oom_kills_at_start, oom_kills()
        if returncode == -signal.SIGKILL and before is not None and now is not None and now > before:
            return ev.Failed(
                kind="oom",
                reason=f"the kernel's out-of-memory killer ended the run{peak}",
                log_tail=tail,
                time=elapsed,
            )
        if returncode == -signal.SIGKILL:
            return ev.Interrupted(
                reason=f"the run's process was killed (SIGKILL) from outside{peak}",
                log_tail=tail,
                time=elapsed,
            )
        if returncode < 0:
            what = _describe_signal(-returncode)
            reason = f"the run's process crashed: {what}"
        else:
            reason = f"the run's process exited with code {returncode} before reporting a result"
        return ev.Failed(kind="crash", reason=reason, log_tail=tail, time=elapsed)

    def _send(self, command: str) -> None:
        proc = self._require()
        try:
            assert proc.stdin is not None
            proc.stdin.write(command + "\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # already gone

    def pause(self) -> None:
        """Hold the run between two events (its process stays, idle)."""
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def step(self) -> None:
        """From a pause: run until the next frame, then hold again."""
        self._send("step")

    def tune(self, name: str, value: float) -> None:
        """Change a tunable value (a lab's ``Lab.tunables``) while the run goes."""
        self._send(f"set {name} {value!r}")

    def cancel(self, grace: float = CANCEL_GRACE_S) -> None:
        """Ask the run to stop; kill it if it has not stopped after ``grace`` seconds."""
        self._cancel_requested.set()
        self._send("cancel")
        timer = threading.Timer(grace, self.kill)
        timer.daemon = True
        timer.start()

    def stop(self) -> ev.Event:
        """Stop at once (the app is closing) and record the run as cancelled."""
        self._cancel_requested.set()
        self.kill()
        return self._finish(self._require().wait())

    def kill(self) -> None:
        proc = self._require()
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _require(self) -> subprocess.Popen[str]:
        if self._proc is None:
            raise RuntimeError("the run has not been started")
        return self._proc
