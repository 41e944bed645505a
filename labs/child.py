"""The run's own process: ``python -m labs.child RUN_DIR``.

It executes one lab run and writes every event twice: as a JSON line to the
parent (on a private copy of the original stdout) and to the run folder. File
descriptors 1 and 2 are pointed at ``output.log`` first, so TensorFlow's
C++ log lines and a crash's last words land in the run's log, never on the
user's screen. The parent controls the run through our stdin (see
:class:`Control`).
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time
import traceback
from collections.abc import Generator
from pathlib import Path
from typing import Any, TextIO

from labs import events as ev
from labs.context import RunContext, RunError
from labs.devices import Sampler
from labs.params import ParamError
from labs.recording import OUTPUT, RunRecord
from labs.registry import Lab, get_lab
from labs.tensorboard import ScalarWriter


class Emitter:
    """Stamps, records and forwards events; shared by the lab and the sampler thread."""

    def __init__(self, record: RunRecord, pipe: TextIO, scalars: ScalarWriter) -> None:
        self._record = record
        self._pipe = pipe
        self._log = record.open_events_for_append()
        self.scalars = scalars
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self.metrics: dict[str, float] = {}

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def emit(self, event: ev.Event) -> ev.Event:
        event = ev.with_time(event, round(self.elapsed, 3))
        with self._lock:
            self._record.append(event, handle=self._log)
            if isinstance(event, ev.Metric):
                self.metrics.update(event.values)
                self.scalars.metric(event)
            elif isinstance(event, ev.DeviceSample):
                self.scalars.device(event)
            elif isinstance(event, ev.Log):
                print(f"[{event.level}] {event.message}", file=sys.stderr, flush=True)
            try:
                self._pipe.write(ev.to_json(event) + "\n")
                self._pipe.flush()
            except (BrokenPipeError, OSError):
                pass  # the parent is gone; the record on disk still gets everything
        return event

    def close(self) -> None:
        with self._lock:
            self.scalars.close()
            self._log.close()


class Control:
    """The parent's commands on stdin: cancel, pause, resume, step (one frame),
    and ``set NAME VALUE`` (a number the lab reads from ``ctx.tuning``).

    End of file on stdin means the parent is gone, which stops the run too.
    A paused run holds between events, so a lab needs no code of its own for it.
    """

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.orphaned = False
        self._running = threading.Event()
        self._running.set()
        self._one_frame = False
        self.tuning: dict[str, float] = {}

    def start(self) -> None:
        threading.Thread(target=self._watch, name="control", daemon=True).start()

    def _watch(self) -> None:
        for line in sys.stdin:
            command = line.strip()
            if command == "cancel":
                break
            if command == "pause":
                self._running.clear()
            elif command == "resume":
                self._one_frame = False
                self._running.set()
            elif command == "step":
                self._one_frame = True
                self._running.set()
            elif command.startswith("set "):
                self._set(command[4:])
        else:
            self.orphaned = True
        self.stop.set()
        self._running.set()  # a paused run must wake up to stop

    def _set(self, assignment: str) -> None:
        name, _, value = assignment.partition(" ")
        try:
            self.tuning[name] = float(value)
        except ValueError:
            print(f"ignored a malformed tuning command: set {assignment}", file=sys.stderr, flush=True)

    def hold_while_paused(self) -> None:
        self._running.wait()

    def seen(self, event: ev.Event) -> None:
        if self._one_frame and isinstance(event, ev.Frame):
            self._one_frame = False
            self._running.clear()

    def terminal(self) -> ev.Event:
        if self.orphaned:
            return ev.Interrupted(reason="the meetup-lab process watching this run went away")
        return ev.Cancelled()


def _redirect_output(record: RunRecord) -> TextIO:
    """Keep a private handle on the parent's pipe; send fds 1 and 2 to output.log."""
    pipe = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    log_fd = os.open(record.path / OUTPUT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stdout = os.fdopen(1, "w", buffering=1, encoding="utf-8", errors="replace")
    sys.stderr = os.fdopen(2, "w", buffering=1, encoding="utf-8", errors="replace")
    faulthandler.enable(file=sys.stderr)
    return pipe


def _setup_tensorflow(lab: Lab, params: Any, device: str, seed: int) -> None:
    import keras
    import tensorflow as tf

    if lab.before_tensorflow is not None:
        lab.before_tensorflow(params, device)  # before anything starts TensorFlow's runtime
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        # Let several runs and the sampler share a GPU instead of one run taking it all.
        tf.config.experimental.set_memory_growth(gpu, True)
    if device.startswith("gpu") and not gpus:
        raise RuntimeError(f"device {device} was asked for, but TensorFlow sees no GPU")
    keras.utils.set_random_seed(seed)


def _classify(exc: BaseException) -> str:
    if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
        return "oom"
    return "exception"


def _drive(
    steps: Generator[ev.Event, None, dict[str, Any]], control: Control, emitter: Emitter
) -> tuple[ev.Event, dict[str, Any]]:
    """Forward the lab's events until it returns or is stopped."""
    while True:
        control.hold_while_paused()
        if control.stop.is_set():
            steps.close()
            return control.terminal(), {}
        try:
            event = next(steps)
        except StopIteration as done:
            result = done.value or {}
            # A lab that saw ctx.cancelled and returned early was stopped, not finished.
            return (control.terminal() if control.stop.is_set() else ev.Finished(summary=result)), result
        emitter.emit(event)
        control.seen(event)


def run(record: RunRecord) -> int:
    meta = record.meta
    pipe = _redirect_output(record)
    control = Control()
    control.start()
    ctx = RunContext(record.path, meta["seed"], meta["device"], control.stop, control.tuning)
    emitter = Emitter(record, pipe, ScalarWriter(record.path / "tensorboard"))
    sampler = Sampler(os.getpid(), emitter.emit)
    terminal: ev.Event
    result: dict[str, Any] = {}
    try:
        lab = get_lab(meta["lab_ref"])
        params = lab.build_params(meta["params"])
    except (LookupError, ParamError) as exc:
        print(f"the run could not start: {exc}", file=sys.stderr, flush=True)
        terminal = ev.Failed(kind="start", reason=str(exc), log_tail=record.log_tail())
    else:
        try:
            emitter.emit(
                ev.Started(
                    lab=lab.name,
                    run_id=record.run_id,
                    params=meta["params"],
                    device=meta["device"],
                    seed=meta["seed"],
                    total_steps=lab.total_steps(params),
                    run_dir=str(record.path),
                )
            )
            sampler.start()
            _setup_tensorflow(lab, params, meta["device"], meta["seed"])
            emitter.scalars.open()
            terminal, result = _drive(lab.load_run()(params, ctx), control, emitter)
        except RunError as exc:
            print(exc, file=sys.stderr, flush=True)
            terminal = ev.Failed(kind="exception", reason=str(exc), log_tail=record.log_tail())
        except BaseException as exc:  # a lab's failure of any kind ends the run, not the process
            traceback.print_exc()
            terminal = ev.Failed(
                kind=_classify(exc), reason=f"{type(exc).__name__}: {exc}", log_tail=record.log_tail()
            )
    sampler.stop()
    terminal = emitter.emit(terminal)
    record.write_summary(terminal, emitter.metrics, result)
    emitter.close()
    return 0


def main() -> None:
    record = RunRecord(Path(sys.argv[1]))
    code = run(record)
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: TensorFlow's atexit hooks can hang or crash,
    # and everything worth keeping is already on disk.
    os._exit(code)


if __name__ == "__main__":
    main()
