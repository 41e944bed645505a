"""A run's supervisor: ``python -m labs.supervisor RUN_DIR LOCK_FD`` (or ``--spare``).

Started detached (its own session, no terminal, stdin from /dev/null) by
whoever starts the run, it outlives that front end, the shell and a hang-up.
For its whole life it holds the run's liveness lock (``supervisor.lock``,
inherited as LOCK_FD, taken before the run folder was a run folder). It starts
the lab's process (``labs.child``), passes the controls that viewers write to
the run's FIFO on to it, and records exactly one verdict when it ends. It
imports no TensorFlow: its own start costs a fraction of a second.

A spare supervisor (``--spare FD``, see :mod:`labs.warm`) starts its lab
process at once, which imports TensorFlow and waits; it is given a run, with
the run's lock, over the Unix socket FD.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from labs import control, queue
from labs import events as ev
from labs.recording import OUTPUT, RunRecord
from labs.state import RunState

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


def lab_process(log_path: Path, args: list[str]) -> subprocess.Popen[str]:
    """The lab's process (``labs.child ARGS``), its output in the run's log.

    Its own session, so that a forced stop kills its process group: the workers
    and probes some labs start go with it.
    """
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "labs.child", *args],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=log,
            text=True,
            encoding="utf-8",
            start_new_session=True,
        )


class Supervisor:
    """Waits for the run's turn on its devices, starts its lab process (``start``), passes
    controls on to it, and records the verdict."""

    def __init__(self, record: RunRecord, start: Callable[[], subprocess.Popen[str]]) -> None:
        self.record = record
        self.child: subprocess.Popen[str] | None = None
        self._start = start
        self._cancel_requested = threading.Event()
        self._t0 = time.monotonic()
        self._oom_kills_at_start = oom_kills()
        self._stdin_lock = threading.Lock()

    def run(self) -> None:
        self.record.set_process(None, os.getpid())  # no lab process while the run waits its turn
        threading.Thread(target=self._read_controls, name="controls", daemon=True).start()
        signal.signal(signal.SIGTERM, lambda _s, _f: self.cancel(CANCEL_GRACE_S))
        slots = self._admit()  # held until this process ends: the devices stay the run's
        if slots is None:
            self.record.release_reserve()
            cancelled = ev.Cancelled("cancelled while queued", round(time.monotonic() - self._t0, 3))
            self.record.append(cancelled)
            self.record.write_summary(cancelled, {}, {})
        else:
            self._t0 = time.monotonic()  # the run's time starts with its process, not in the queue
            with self._stdin_lock:
                self.child = self._start()
            self.record.set_process(self.child.pid, os.getpid())
            if self._cancel_requested.is_set():
                self._tell("cancel")  # a cancel that came as it left the queue
            self._finish(self.child.wait())
        try:
            (self.record.path / control.FIFO).unlink()
        except OSError:
            pass

    def _admit(self) -> list[int] | None:
        """The run's device slots once its turn has come; None if it was cancelled first."""
        runs_dir = self.record.path.parent
        line = queue.Queue(runs_dir)
        told: list[int] = []

        def live(run_id: str) -> bool:
            return RunRecord(runs_dir / run_id).supervisor_alive()

        def waiting(devices: str, ahead: int) -> None:
            if told != [ahead]:  # each change of place, once
                told[:] = [ahead]
                self.record.append(ev.Queued(devices, ahead, round(time.monotonic() - self._t0, 3)))

        return line.admit(self.record.run_id, live, self._cancel_requested.is_set, waiting)

    def _read_controls(self) -> None:
        for command in control.commands(self.record.path / control.FIFO):
            name, _, rest = command.partition(" ")
            if name == "cancel":
                try:
                    grace = float(rest) if rest else CANCEL_GRACE_S
                except ValueError:
                    grace = CANCEL_GRACE_S
                self.cancel(grace)
            elif name == "kill":
                self._cancel_requested.set()
                self.kill()
            elif name in control.COMMANDS:
                self._tell(command)

    def _tell(self, command: str) -> None:
        with self._stdin_lock:
            if self.child is None:
                return  # still queued: the cancel flag is all there is to tell
            try:
                assert self.child.stdin is not None
                self.child.stdin.write(command + "\n")
                self.child.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the lab's process is gone already

    def cancel(self, grace: float) -> None:
        """Ask the run to stop; kill it if it has not stopped after ``grace`` seconds."""
        self._cancel_requested.set()
        self._tell("cancel")
        timer = threading.Timer(grace, self.kill)
        timer.daemon = True
        timer.start()

    def kill(self) -> None:
        self._cancel_requested.set()
        if self.child is not None and self.child.poll() is None:
            try:
                os.killpg(self.child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _finish(self, returncode: int) -> None:
        """Record the verdict of a lab process that ended without recording its own."""
        if self.record.summary is not None:
            return  # the run ended itself and said how
        self.record.release_reserve()
        state = RunState.of(self.record.events())
        terminal = state.terminal
        if terminal is None:
            terminal = self._verdict(returncode, state.peak_rss_mb)
            self.record.append(terminal)
        self.record.write_summary(terminal, state.metrics, state.result)

    def _verdict(self, returncode: int, peak_rss: float) -> ev.Event:
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
            reason = f"the run's process crashed: {_describe_signal(-returncode)}"
        else:
            reason = f"the run's process exited with code {returncode} before reporting a result"
        return ev.Failed(kind="crash", reason=reason, log_tail=tail, time=elapsed)


def _spare(channel_fd: int) -> None:
    """Start a lab process that imports TensorFlow, then wait to be given a run."""
    channel = socket.socket(fileno=channel_fd)
    child = lab_process(Path(os.devnull), ["--spare"])
    try:
        message, fds, _flags, _addr = socket.recv_fds(channel, 4096, 1)
    except OSError:
        message, fds = b"", []
    if message and fds and child.poll() is None:
        try:
            channel.sendall(b"ok")
            go = channel.recv(16) == b"go"
        except OSError:
            go = False
    else:
        go = False  # the app that kept the spare has gone, or the spare's lab process died
    channel.close()
    if not go:
        child.kill()
        child.wait()
        return
    record = RunRecord(Path(message.decode()), lock_fd=fds[0])
    # Our own last words go to the run's log from here on, as a cold supervisor's do.
    log = os.open(record.path / OUTPUT, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.dup2(log, 2)
    os.close(log)

    def start() -> subprocess.Popen[str]:
        try:
            assert child.stdin is not None
            child.stdin.write(f"run {record.path}\n")
            child.stdin.flush()
        except OSError:
            pass  # it died just now: the supervisor records how, as for any lab process
        return child

    Supervisor(record, start).run()


def main() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.argv[1] == "--spare":
        _spare(int(sys.argv[2]))
        return
    record = RunRecord(Path(sys.argv[1]), lock_fd=int(sys.argv[2]))
    Supervisor(record, lambda: lab_process(record.path / OUTPUT, [str(record.path)])).run()


if __name__ == "__main__":
    main()
