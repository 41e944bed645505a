"""Starting runs and viewing them: the one run API every front end calls.

:meth:`RunRequest.start` creates the run folder and starts its supervisor
(``labs.supervisor``) detached: the run belongs to its folder and supervisor,
not to the caller, and goes on whatever becomes of the caller. A :class:`Run`
is a viewer's handle on a run folder, live or ended: it reads the events as
they are appended (:meth:`Run.events`) and sends controls through the run's
FIFO (:mod:`labs.control`). Any number of viewers may hold one at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labs import control, queue
from labs import events as ev
from labs.params import to_dict
from labs.recording import OUTPUT, RunRecord, find_run
from labs.registry import Lab, get_lab
from labs.supervisor import CANCEL_GRACE_S
from labs.tail import follow

if TYPE_CHECKING:
    from labs.warm import Spare

# A control sent while the supervisor is still opening its FIFO is retried this long.
CONTROL_RETRY_S = 2.0
# How often a viewer that has read the verdict looks for the summary written after it.
SUMMARY_POLL_S = 0.02


def child_env() -> dict[str, str]:
    """The environment of a run's processes."""
    env = dict(os.environ)
    # They must import exactly what we can (labs given as module:NAME too).
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    return env


@dataclass(frozen=True)
class RunRequest:
    """What to run: everything needed to start (or restart) a run."""

    lab: Lab
    params: Any
    device: str = "auto"
    seed: int = 0
    lab_ref: str | None = None  # how the lab was named, if not by its built-in name
    sweep: str | None = None  # the id of the sweep it is one run of

    def check(self, runs_dir: Path) -> None:
        """The lab's checks that need the runs folder (ParamError): before a run is started."""
        if self.lab.preflight is not None:
            self.lab.preflight(self.params, runs_dir)

    def create(self, runs_dir: Path) -> RunRecord:
        """The run's folder, its liveness lock held by the caller until a supervisor takes it."""
        return RunRecord.create(
            runs_dir,
            self.lab_ref or self.lab.name,
            self.lab.name,
            to_dict(self.params),
            self.device,
            self.seed,
            self.lab.key_metric,
            self.sweep,
            self.changed(),
        )

    def changed(self) -> list[str]:
        """The parameters that matter to this run and have other values than their defaults."""
        given = to_dict(self.params)
        return [
            spec.name
            for spec in self.lab.specs
            if spec.applies(given) and given.get(spec.name) != spec.default_for(given)
        ]

    def start(self, runs_dir: Path, spare: Spare | None = None) -> Run:
        """Create the run and start its supervisor: ``spare``'s, warm, when it has one."""
        record = self.create(runs_dir)
        assert record.lock_fd is not None
        try:
            control.create(record.path)
            queue.Queue(runs_dir).join(record.run_id, self.device)  # its supervisor waits its turn
            if spare is not None and not spare.take(record):
                # Before any process of the run writes: this line comes first.
                record.append(
                    ev.Log("the warm spare could not take this run (it died or hung): a cold start")
                )
                spare = None
            if spare is None:
                _launch(record)
        finally:
            os.close(record.lock_fd)  # the supervisor holds the lock now (or nobody: interrupted)
            record.lock_fd = None
        return Run(record)

    @classmethod
    def from_record(cls, record: RunRecord) -> RunRequest:
        """The request that made a recorded run, to run it again."""
        meta = record.meta
        lab = get_lab(meta["lab_ref"])
        return cls(lab, lab.build_params(meta["params"]), meta["device"], meta["seed"], meta["lab_ref"])


def _launch(record: RunRecord) -> None:
    """A cold start: a new supervisor, which starts a new lab process."""
    assert record.lock_fd is not None
    with open(record.path / OUTPUT, "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "labs.supervisor", str(record.path), str(record.lock_fd)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,  # the supervisor's own failures, should it have any
            env=child_env(),
            pass_fds=(record.lock_fd,),
            # No controlling terminal: a hang-up or Ctrl+C in the caller's terminal never reaches it.
            start_new_session=True,
        )


class Run:
    """A viewer's handle on one run folder."""

    def __init__(self, record: RunRecord) -> None:
        self.record = record

    @classmethod
    def find(cls, runs_dir: Path, ref: str) -> Run:
        return cls(find_run(runs_dir, ref))

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def pid(self) -> int | None:
        """The lab's process, once its supervisor has started it."""
        pid = self.record.process.get("pid")
        return pid if isinstance(pid, int) else None

    @property
    def supervisor_pid(self) -> int | None:
        pid = self.record.process.get("supervisor")
        return pid if isinstance(pid, int) else None

    def live(self) -> bool:
        return self.record.live()

    def events(self, stop: Callable[[], bool] = lambda: False) -> Iterator[ev.Event]:
        """The run's events from the first, as they come, until and including exactly one
        terminal event; ``stop()`` true ends the stream early (a viewer leaving).

        A run whose supervisor died without a verdict is recorded interrupted here.
        """
        terminal = False
        for event in follow(self.record.path / "events.jsonl", self.live, stop):
            terminal = isinstance(event, ev.TERMINAL)
            yield event
        if terminal:
            # The verdict is appended just before the summary is written: a viewer whose
            # stream has ended reads the summary, not a run that looks unfinished.
            while self.record.summary is None and self.live() and not stop():
                time.sleep(SUMMARY_POLL_S)
            self.record.settle()
            return
        if stop():
            return
        self.record.settle()
        last = self.record.last_event()
        if isinstance(last, ev.TERMINAL):
            yield last

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the supervisor is done (the summary is written); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.live():
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _send(self, command: str) -> None:
        """Send a control; raise :class:`control.NotLive` if the run is not live."""
        deadline = time.monotonic() + CONTROL_RETRY_S
        while True:
            try:
                control.send(self.record.path, command)
                return
            except control.NotLive:
                # A supervisor that has not opened its FIFO yet is starting: wait for it.
                # Without one (ended, or killed while its lab process stops), say so at once.
                if not self.record.supervisor_alive() or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

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
        """Ask the run to stop; its supervisor kills it if it has not after ``grace`` seconds."""
        self._send(f"cancel {grace!r}")

    def kill(self) -> None:
        """Stop the run at once; it is recorded as cancelled."""
        self._send("kill")

    def front(self) -> bool:
        """Move a queued run to the front of its devices' line; False if it is not queued."""
        return queue.Queue(self.record.path.parent).front(self.run_id)
