"""The lab's own process: ``python -m labs.child RUN_DIR``, or ``--spare``.

It executes one lab run and appends every event to the run folder's
``events.jsonl``, where every viewer reads it. Its stdout and stderr are
``output.log``, so TensorFlow's C++ log lines and a crash's last words land in
the run's log, never on the user's screen. Its supervisor (``labs.supervisor``)
controls it through its stdin (see :class:`Control`).

A spare (``--spare``) imports TensorFlow and waits for ``run RUN_DIR`` on its
stdin: a run given to it starts computing at once. Nothing before that line may
initialise TensorFlow's devices, so that ``CUDA_VISIBLE_DEVICES``, logical
devices and thread settings, which only apply before then, still work.
"""

from __future__ import annotations

import errno
import faulthandler
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from labs import events as ev
from labs.context import RunContext, RunError, check_metric
from labs.devices import Sampler, cuda_visible_devices
from labs.params import ParamError
from labs.recording import OUTPUT, RunRecord
from labs.registry import Lab, get_lab
from labs.state import RunState
from labs.teardown import exit_now
from labs.tensorboard import ScalarWriter

# Once its supervisor is gone, a run that has not stopped by itself within this
# long records itself interrupted and exits: a run nobody can cancel must not go on.
ORPHAN_GRACE_S = 1.5
RUN_NICENESS = 10


class Emitter:
    """Stamps and records events; shared by the lab, the sampler and the control thread.

    The terminal event is recorded exactly once, by whoever gets to :meth:`finish` first.
    """

    def __init__(self, record: RunRecord, scalars: ScalarWriter) -> None:
        self._record = record
        self._log = record.open_events_for_append()
        self.scalars = scalars
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self.state = RunState()
        self._finished = False
        self.write_error: OSError | None = None
        self.on_write_error: Callable[[], None] = lambda: None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def emit(self, event: ev.Event) -> ev.Event:
        event = ev.with_time(event, round(self.elapsed, 3))
        with self._lock:
            if self._finished or self.write_error is not None:
                return event  # a sample that lost the race with the end, or nowhere to write
            try:
                self._write(event)
            except OSError as exc:  # the disk is full, say: stop the run, keep what is recorded
                self.write_error = exc
                self.on_write_error()
        return event

    def _write(self, event: ev.Event) -> None:
        self._record.append(event, handle=self._log)
        self.state.apply(event)
        if isinstance(event, ev.Metric):
            self.scalars.metric(event)
        elif isinstance(event, ev.DeviceSample):
            self.scalars.device(event)
        elif isinstance(event, ev.Log | ev.Stage):
            text = event.message if isinstance(event, ev.Log) else f"stage: {event.name}"
            print(f"[{getattr(event, 'level', 'info')}] {text}", file=sys.stderr, flush=True)

    def finish(self, terminal: ev.Event, result: dict[str, Any]) -> bool:
        """Record the run's verdict and summary, unless another thread already has."""
        with self._lock:
            if self._finished:
                return False
            self._finished = True
            self._record.release_reserve()  # the room kept for this
            if self.write_error is not None:
                terminal = disk_failure(self.write_error, self._record, self.state.step)
            terminal = ev.with_time(terminal, round(self.elapsed, 3))
            self.state.apply(terminal)
            try:
                self._log.close()
            except OSError:
                pass  # what it could not flush is the torn line that append() ends
            # Not through the handle: append() first ends a line a full disk tore.
            self._record.append(terminal)
            self._record.write_summary(terminal, self.state.metrics, result)
            try:
                self.scalars.close()
            except Exception:  # TensorBoard's writer on a full disk: its curves are best effort
                pass
            return True


def disk_failure(exc: OSError, record: RunRecord, step: int) -> ev.Failed:
    """The verdict of a run that could not write its record or its files."""
    what = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        what = "no space left on device"
    return ev.Failed(
        kind="disk",
        reason=f"{what}: the run stopped at step {step}; what it recorded before is kept in {record.path}",
    )


class Control:
    """The supervisor's commands on stdin: cancel, pause, resume, step (one frame),
    and ``set NAME VALUE`` (a number the lab reads from ``ctx.tuning``).

    End of file on stdin means the supervisor is gone: the run is stopped, and if it
    does not stop by itself within ORPHAN_GRACE_S, ``on_orphaned`` ends it.
    A paused run holds between events, so a lab needs no code of its own for it.
    """

    def __init__(
        self,
        emit: Callable[[ev.Event], object],
        on_orphaned: Callable[[], None],
        params: dict[str, Any] | None = None,
    ) -> None:
        """``params``: the run's own values, from which the first change of each is logged."""
        self.stop = threading.Event()
        self._params = params or {}
        self.orphaned = False
        self._emit = emit
        self._on_orphaned = on_orphaned
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
                self._hold(True)
            elif command == "resume":
                self._one_frame = False
                self._hold(False)
            elif command == "step":
                if not self._running.is_set():
                    self._one_frame = True
                    self._hold(False)
            elif command.startswith("set "):
                self._set(command[4:])
        else:
            self.orphaned = True
            threading.Timer(ORPHAN_GRACE_S, self._on_orphaned).start()
        self.stop.set()
        self._running.set()  # a paused run must wake up to stop

    def _hold(self, held: bool) -> None:
        if held == (not self._running.is_set()):
            return
        if held:
            self._running.clear()
        else:
            self._running.set()
        self._emit(ev.Paused(held=held))

    def _set(self, assignment: str) -> None:
        name, _, value = assignment.partition(" ")
        try:
            number = float(value)
        except ValueError:
            print(f"ignored a malformed tuning command: set {assignment}", file=sys.stderr, flush=True)
            return
        before = self.tuning.get(name, self._params.get(name))
        self.tuning[name] = number
        was = f"{before:g} → " if isinstance(before, int | float) else ""
        self._emit(ev.Log(f"{name}: {was}{number:g}"))

    def hold_while_paused(self) -> None:
        self._running.wait()

    def seen(self, event: ev.Event) -> None:
        if self._one_frame and isinstance(event, ev.Frame):
            self._one_frame = False
            self._hold(True)

    def terminal(self) -> ev.Event:
        if self.orphaned:
            return ev.Interrupted(reason=ORPHANED)
        return ev.Cancelled()


ORPHANED = "the run's supervisor went away (killed), so the run stopped itself"


class _NeverFails:
    """Our output (the run's log) as a stream whose writes never raise: on a full disk the
    log loses lines, and the run still ends with its verdict, not a second failure."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError:
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _output_to_log() -> None:
    """Line-buffer our output (it is output.log, set up by the supervisor) and have a crash
    write Python's stack there too."""
    sys.stdout.reconfigure(line_buffering=True, errors="replace")  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True, errors="replace")  # type: ignore[union-attr]
    faulthandler.enable(file=sys.stderr)
    sys.stdout = _NeverFails(sys.stdout)
    sys.stderr = _NeverFails(sys.stderr)


def _import_tensorflow() -> None:
    """What a spare does ahead of its run: the imports only, no device touched."""
    import keras  # noqa: F401
    import tensorflow  # noqa: F401
    from tensorboard.plugins.hparams import api  # noqa: F401  (every run writes its HParams)


def _setup_tensorflow(lab: Lab, params: Any, device: str, seed: int) -> None:
    # Read by CUDA when TensorFlow first touches a device, which has not happened yet
    # (not even in a spare, which has imported TensorFlow already).
    visible = cuda_visible_devices(device)
    if visible is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = visible
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
        if isinstance(event, ev.Metric):
            check_metric(event)  # before anything records it
        emitter.emit(event)
        control.seen(event)


def run(record: RunRecord, warm: bool) -> None:
    record.hold_lab_lock()  # for this process's life: the run is live while it writes
    if record.summary is not None:
        return  # its supervisor died before we began, and a reader has recorded the run
    meta = record.meta
    emitter = Emitter(record, ScalarWriter(record.path / "tensorboard"))

    def end_orphan() -> None:
        if emitter.finish(ev.Interrupted(reason=ORPHANED, log_tail=record.log_tail()), {}):
            exit_now(0)

    control = Control(emitter.emit, end_orphan, meta.get("params"))
    emitter.on_write_error = control.stop.set
    control.start()
    ctx = RunContext(record.path, meta["seed"], meta["device"], control.stop, control.tuning)
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
            emitter.emit(ev.Stage("setting up TensorFlow (warm start)" if warm else "starting TensorFlow"))
            _setup_tensorflow(lab, params, meta["device"], meta["seed"])
            emitter.scalars.open(
                {**meta["params"], "seed": meta["seed"], "device": meta["device"]}, record.run_id
            )
            emitter.emit(ev.Stage("starting the lab"))
            terminal, result = _drive(lab.load_run()(params, ctx), control, emitter)
        except RunError as exc:
            print(exc, file=sys.stderr, flush=True)
            terminal = ev.Failed(kind="exception", reason=str(exc), log_tail=record.log_tail())
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                traceback.print_exc()
                terminal = ev.Failed(
                    kind="exception", reason=f"{type(exc).__name__}: {exc}", log_tail=record.log_tail()
                )
            else:  # the lab's own files (artifacts, a checkpoint) hit the same wall
                terminal = disk_failure(exc, record, emitter.state.step)
        except BaseException as exc:  # a lab's failure of any kind ends the run, not the process
            traceback.print_exc()
            terminal = ev.Failed(
                kind=_classify(exc), reason=f"{type(exc).__name__}: {exc}", log_tail=record.log_tail()
            )
    sampler.stop()
    emitter.finish(terminal, result)


def main() -> None:
    try:
        _main()
    except BaseException:  # a fault of our own (a full disk, say): its last words, then out
        traceback.print_exc()
        exit_now(1)


def _main() -> None:
    _output_to_log()
    # Below the viewers' priority: on a machine whose cores the run fills, the app (and a
    # shell) still answer keys at once, while the run takes every cycle they leave. Its
    # threads, TensorFlow's pools and the workers it starts inherit it.
    os.nice(RUN_NICENESS)
    warm = sys.argv[1] == "--spare"
    if warm:
        _import_tensorflow()
        line = sys.stdin.readline()  # "run RUN_DIR", or end of file: nobody needs the spare
        if not line.startswith("run "):
            exit_now(0)
        run_dir = line[4:].strip()
        # Until now its output went to the spare's log: from here on it is the run's.
        log_fd = os.open(Path(run_dir) / OUTPUT, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
    else:
        run_dir = sys.argv[1]
    run(RunRecord(Path(run_dir)), warm)
    exit_now(0)


if __name__ == "__main__":
    main()
