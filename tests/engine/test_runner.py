"""The runner with real supervisors and lab processes: every way a run can end is recorded.

Each run imports TensorFlow in its lab process (a few seconds), so runs are few and small.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labs import events as ev
from labs.recording import RunRecord, list_runs
from labs.registry import get_lab
from labs.runner import Run, RunRequest
from labs.state import RunState
from labs.supervisor import oom_kills
from tests.support import (
    EventPump,
    alive,
    kill_run,
    metric_lines,
    only_run_dir,
    run_cli,
    start_cli,
    terminal_of,
    wait_until,
)

Start = Callable[..., Run]


@pytest.fixture
def start(runs_dir: Path) -> Iterator[Start]:
    """Start a real run of ``ref`` with parameter ``values``; kill whatever is left at teardown."""
    started: list[Run] = []

    def _start(ref: str, **values: Any) -> Run:
        lab = get_lab(ref)
        run = RunRequest(lab, lab.build_params(values), device="cpu", seed=5, lab_ref=ref).start(runs_dir)
        started.append(run)
        return run

    yield _start
    for run in started:
        kill_run(run)


def recorded_metrics(record: RunRecord) -> list[ev.Metric]:
    return [e for e in record.events() if isinstance(e, ev.Metric)]


def recorded_terminal(record: RunRecord) -> ev.Event:
    """The one terminal event in the run's events.jsonl, which must be its last event."""
    events = list(record.events())
    at = [i for i, e in enumerate(events) if isinstance(e, ev.TERMINAL)]
    assert len(at) == 1, f"expected one recorded terminal event, got {[events[i] for i in at]}"
    assert at[0] == len(events) - 1, events[at[0] :]
    return events[at[0]]


def tensorboard_tags(logdir: Path) -> set[str]:
    """The scalar tags in a TensorBoard log folder, read back with TensorFlow."""
    import tensorflow as tf

    files = list(logdir.glob("events.out.tfevents.*"))
    assert files, f"no TensorBoard events file in {logdir}"
    tags = set()
    for file in files:
        for raw in tf.data.TFRecordDataset(str(file)):
            tags |= {value.tag for value in tf.compat.v1.Event.FromString(raw.numpy()).summary.value}
    return tags


def output_log(record: RunRecord) -> str:
    return (record.path / "output.log").read_text(errors="replace")


@pytest.mark.slow
def test_success_is_recorded(start: Start, runs_dir: Path) -> None:
    run = start("tests.fixture_labs:OK", steps=3)
    events = EventPump(run).result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Finished)
    assert terminal.summary == {"answer": 42, "steps": 3, "seed": 5}
    started = events[0]
    assert isinstance(started, ev.Started)
    assert (started.lab, started.run_id, started.device, started.seed) == ("ok", run.run_id, "cpu", 5)
    assert started.params == {"steps": 3} and started.total_steps == 3
    streamed = [e for e in events if isinstance(e, ev.Metric)]
    assert [(m.step, m.values["loss"]) for m in streamed] == [(1, 1.0), (2, 0.5), (3, 1 / 3)]

    record = run.record
    assert record.path.parent == runs_dir
    assert record.status() == "finished"
    summary = record.summary
    assert summary["status"] == "finished"
    assert summary["result"] == {"answer": 42, "steps": 3, "seed": 5}
    assert summary["metrics"] == {"loss": 1 / 3, "step_sq": 9.0}
    assert summary["key_metric"] == {"loss": 1 / 3}
    assert "kind" not in summary and "reason" not in summary
    # The record on disk holds the same stream, terminal included.
    assert [m.values for m in recorded_metrics(record)] == [m.values for m in streamed]
    assert isinstance(next(record.events()), ev.Started)
    assert recorded_terminal(record) == terminal
    assert record.meta["lab_ref"] == "tests.fixture_labs:OK"
    assert record.meta["params"] == {"steps": 3}
    # Log events land in output.log (the child's stderr) as well as in the stream.
    log = output_log(record)
    assert "[info] ok lab starting" in log and "[info] ok lab done" in log
    [info] = list_runs(runs_dir)
    assert (info.run_id, info.lab, info.status, info.key_metric) == (
        run.run_id,
        "ok",
        "finished",
        "loss=0.33333",
    )


@pytest.mark.slow
def test_exception_is_a_failed_run_with_the_traceback(start: Start) -> None:
    run = start("tests.fixture_labs:RAISES")
    events = EventPump(run).result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Failed)
    assert terminal.kind == "exception"
    assert terminal.reason == "ValueError: boom"
    tail = "\n".join(terminal.log_tail)
    assert "Traceback (most recent call last)" in tail
    assert "ValueError: boom" in tail
    assert "run_raises" in tail  # the lab's own frame is in it
    summary = run.record.summary
    assert (summary["status"], summary["kind"], summary["reason"]) == (
        "failed",
        "exception",
        "ValueError: boom",
    )
    assert summary["metrics"] == {"loss": 0.5}  # the metric before the exception counts
    assert [m.values for m in recorded_metrics(run.record)] == [{"loss": 0.5}]
    assert recorded_terminal(run.record) == terminal


@pytest.mark.slow
def test_crashes_are_failed_runs_naming_the_signal(start: Start) -> None:
    # Both crash kinds run side by side: each child pays TensorFlow's import time.
    runs = {
        "SIGSEGV": start("tests.fixture_labs:SEGFAULT", how="segfault"),
        "SIGABRT": start("tests.fixture_labs:SEGFAULT", how="abort"),
    }
    pumps = {name: EventPump(run) for name, run in runs.items()}
    for signal_name, run in runs.items():
        how = run.record.meta["params"]["how"]
        terminal = terminal_of(pumps[signal_name].result())
        assert isinstance(terminal, ev.Failed), terminal
        assert terminal.kind == "crash"
        assert signal_name in terminal.reason
        assert terminal.reason.startswith("the run's process crashed")
        assert terminal.log_tail  # faulthandler's report, at least
        record = run.record
        # What the run logged before it died survived it.
        assert [m.values for m in recorded_metrics(record)] == [{"loss": 0.25}]
        assert f"about to crash by {how}" in output_log(record)
        assert "Fatal Python error" in output_log(record)
        assert recorded_terminal(record) == terminal  # appended by the runner for the dead child
        summary = record.summary
        assert (summary["status"], summary["kind"]) == ("failed", "crash")
        assert signal_name in summary["reason"]
        assert summary["metrics"] == {"loss": 0.25}
        assert record.status() == "failed"


@pytest.mark.slow
def test_cooperative_cancel(start: Start) -> None:
    run = start("tests.fixture_labs:SLOW")
    pump = EventPump(run)
    pump.wait_for_metrics(3)
    # A long grace: the run must stop by itself (the runner checks the flag between events).
    run.cancel(grace=30)
    events = pump.result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Cancelled)
    assert terminal.reason == "cancelled by the user"
    summary = run.record.summary
    assert summary["status"] == "cancelled"
    assert summary["reason"] == "cancelled by the user"
    recorded = recorded_metrics(run.record)
    assert len(recorded) >= 3
    assert [m.step for m in recorded] == list(range(1, len(recorded) + 1))
    assert summary["metrics"] == {"tick": float(len(recorded))}
    assert recorded_terminal(run.record) == terminal
    assert run.record.status() == "cancelled"


@pytest.mark.slow
def test_cancel_of_a_lab_that_checks_the_flag_is_recorded_as_cancelled(start: Start) -> None:
    """RunContext.cancelled is there for labs to check inside long loops and stop early.

    A lab that does so and returns has been cancelled: it must not be recorded as finished.
    """
    run = start("tests.fixture_labs:SLOW", mode="check_flag")
    pump = EventPump(run)
    pump.wait_for_metrics(1)
    run.cancel(grace=30)
    events = pump.result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Cancelled), terminal
    assert run.record.summary["status"] == "cancelled"


@pytest.mark.slow
def test_cancel_of_a_lab_that_ignores_it_stops_it_by_force(start: Start) -> None:
    run = start("tests.fixture_labs:SLOW", mode="ignore")
    pump = EventPump(run)
    pump.wait_for_metrics(1)
    # Let the lab get back into its loop: a cancel that lands before it does is seen between
    # two events, and the run stops politely (the case tested above), not by force.
    time.sleep(0.5)
    pid = run.pid
    run.cancel()  # the default grace, then SIGKILL
    events = pump.result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Cancelled)
    assert "by force" in terminal.reason
    assert not alive(pid)
    record = run.record
    summary = record.summary
    assert summary["status"] == "cancelled"
    assert "by force" in summary["reason"]
    assert summary["metrics"] == {"tick": 1.0}
    assert [m.values for m in recorded_metrics(record)] == [{"tick": 1.0}]
    assert recorded_terminal(record) == terminal  # the runner recorded the verdict itself


@pytest.mark.slow
def test_external_sigkill_is_an_interrupted_run(start: Start) -> None:
    run = start("tests.fixture_labs:SLOW")
    pump = EventPump(run)
    pump.wait_for_metrics(2)
    # The run has its own session (Ctrl+C in the caller's terminal does not reach it).
    assert os.getsid(run.pid) == run.pid != os.getsid(0)
    assert run.record.status() == "running"
    os.kill(run.pid, signal.SIGKILL)
    events = pump.result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Interrupted)
    assert "SIGKILL" in terminal.reason
    record = run.record
    assert record.status() == "interrupted"
    summary = record.summary
    assert summary["status"] == "interrupted"
    assert "SIGKILL" in summary["reason"]
    recorded = recorded_metrics(record)
    assert len(recorded) >= 2
    assert [m.step for m in recorded] == list(range(1, len(recorded) + 1))
    assert recorded_terminal(record) == terminal


@pytest.mark.slow
def test_memory_error_is_an_oom_failure(start: Start) -> None:
    run = start("tests.fixture_labs:MEMORY")
    events = EventPump(run).result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Failed), terminal
    assert terminal.kind == "oom"
    assert terminal.reason.startswith("MemoryError")
    summary = run.record.summary
    assert (summary["status"], summary["kind"]) == ("failed", "oom")
    assert [m.values for m in recorded_metrics(run.record)] == [{"loss": 1.0}]
    assert recorded_terminal(run.record) == terminal


@pytest.mark.slow
def test_run_outlives_the_killed_cli_that_started_it_and_is_stopped_from_another(runs_dir: Path) -> None:
    cli = start_cli("run", "tests.fixture_labs:SLOW", "--headless", "--device", "cpu")
    try:
        run_dir = wait_until(lambda: only_run_dir(runs_dir), "the run folder")
        wait_until(lambda: metric_lines(run_dir), "a metric in events.jsonl")
        run = Run(RunRecord(run_dir))
        assert run.pid is not None and run.supervisor_pid is not None
        assert cli.pid not in (run.pid, run.supervisor_pid)
        cli.kill()  # SIGKILL: the CLI gets no chance to do anything
        cli.wait(10)
        # The run goes on without it: its metrics keep coming and it lists as running.
        seen = len(metric_lines(run_dir))
        wait_until(lambda: len(metric_lines(run_dir)) > seen + 5, "metrics after the CLI died")
        [info] = list_runs(runs_dir)
        assert info.status == "running"
        stop = run_cli("stop", run.run_id)
        assert stop.returncode == 0, stop.stderr
        assert stop.stdout.strip() == f"run {run.run_id}: cancelled"
        summary = run.record.summary
        assert summary is not None and summary["status"] == "cancelled"
        assert isinstance(recorded_terminal(run.record), ev.Cancelled)
        wait_until(lambda: not alive(run.pid), "the lab's process to exit")
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(10)
        cli.stdout.close()
        cli.stderr.close()
        kill_run(Run(RunRecord(run_dir)))


@pytest.mark.parametrize("mode", ["yield", "ignore"])
@pytest.mark.slow
def test_a_killed_supervisor_takes_its_run_down_and_it_is_recorded_interrupted(
    start: Start, runs_dir: Path, mode: str
) -> None:
    """``ignore``: the lab never yields nor looks at the flag, so only the orphan watchdog stops it."""
    run = start("tests.fixture_labs:SLOW", mode=mode)
    pump = EventPump(run)
    pump.wait_for_metrics(1)
    lab_pid, supervisor = run.pid, run.supervisor_pid
    assert lab_pid is not None and supervisor is not None
    os.kill(supervisor, signal.SIGKILL)
    terminal = terminal_of(pump.result())
    assert isinstance(terminal, ev.Interrupted), terminal
    assert "supervisor went away" in terminal.reason
    wait_until(lambda: not alive(lab_pid), "the lab's process to exit", timeout=10)
    [info] = list_runs(runs_dir)
    assert info.status == "interrupted"
    assert run.record.summary["status"] == "interrupted"
    assert recorded_terminal(run.record) == terminal


def test_a_run_folder_nobody_supervises_is_interrupted_never_running(runs_dir: Path) -> None:
    """The lock is taken with the folder: until a supervisor has it the starter holds it, and a
    starter that died before handing it on leaves a run that the next reader records interrupted."""
    lab = get_lab("tests.fixture_labs:OK")
    record = RunRequest(lab, lab.build_params({}), lab_ref="tests.fixture_labs:OK").create(runs_dir)
    assert record.lock_fd is not None
    assert record.meta["lab_ref"] == "tests.fixture_labs:OK"
    assert record.status() == "running" and record.summary is None  # the lock is held: live
    os.close(record.lock_fd)  # as a starter killed right here would leave it
    [info] = list_runs(runs_dir)
    assert info.status == "interrupted"
    summary = record.summary
    assert summary is not None and summary["status"] == "interrupted"
    assert "supervisor" in summary["reason"]
    assert isinstance(recorded_terminal(record), ev.Interrupted)
    # A viewer of the dead run gets its verdict, once.
    assert [type(e) for e in Run(record).events()] == [ev.Interrupted]


def tensorboard_hparams(logdir: Path) -> dict[str, object]:
    """The run's HParams, read back as TensorBoard's HParams tab reads them."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import metadata

    accumulator = EventAccumulator(str(logdir))
    accumulator.Reload()
    content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)[metadata.SESSION_START_INFO_TAG]
    info = metadata.parse_session_start_info_plugin_data(content)
    return {
        name: value.number_value if value.HasField("number_value") else
        value.string_value if value.HasField("string_value") else value.bool_value
        for name, value in info.hparams.items()
    }  # fmt: skip


@pytest.mark.slow
def test_pde_run_produces_frames_artifacts_and_tensorboard(start: Start) -> None:
    run = start("pde", grid=32, steps=200, frame_every=50)
    events = EventPump(run).result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Finished), terminal
    frames = [e for e in events if isinstance(e, ev.Frame)]
    assert [f.step for f in frames] == [0, 50, 100, 150, 200]
    assert all(f.data.shape == (32, 32) and np.isfinite(f.data).all() for f in frames)
    metrics = [e for e in events if isinstance(e, ev.Metric)]
    assert [m.step for m in metrics] == [50, 100, 150, 200]
    assert metrics[-1].values["t"] == pytest.approx(40.0)
    # Heat leaves through the fixed edges: mass only goes down.
    masses = [m.values["mass"] for m in metrics]
    assert masses == sorted(masses, reverse=True)

    artifacts = {e.path for e in events if isinstance(e, ev.Artifact)}
    assert artifacts == {"artifacts/u.npy", "artifacts/u.png"}
    folder = run.record.path
    u = np.load(folder / "artifacts" / "u.npy")
    assert u.shape == (32, 32)
    assert (folder / "artifacts" / "u.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert tensorboard_tags(folder / "tensorboard") >= {"mass", "max", "min", "t", "steps_per_s"}
    hparams = tensorboard_hparams(folder / "tensorboard")
    assert hparams["grid"] == 32 and hparams["steps"] == 200 and hparams["equation"] == "heat"
    assert hparams["seed"] == 5 and hparams["device"] == "cpu"

    summary = run.record.summary
    assert summary["status"] == "finished"
    assert summary["result"]["steps"] == 200
    assert summary["result"]["mass"] == pytest.approx(float(u.sum(dtype=np.float64)), rel=1e-6)
    assert summary["result"]["mass"] == pytest.approx(masses[-1])
    assert summary["key_metric"] == {"mass": masses[-1]}
    assert summary["result"]["mass_change_pct"] < 0
    # The frames were recorded too, for replay.
    assert [f.step for f in run.record.events() if isinstance(f, ev.Frame)] == [0, 50, 100, 150, 200]


def test_a_lab_the_child_cannot_load_is_a_start_failure(runs_dir: Path) -> None:
    """events.Failed: kind "start" means the run never began, with the reason why.

    The child resolves the lab again from the recorded lab_ref (no TensorFlow import
    happens, so this run is cheap).
    """
    lab = get_lab("tests.fixture_labs:OK")
    run = RunRequest(lab, lab.build_params({}), lab_ref="tests.fixture_labs:GONE").start(runs_dir)
    events = EventPump(run).result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Failed), terminal
    assert not any(isinstance(e, ev.Started) for e in events)
    assert "cannot load lab 'tests.fixture_labs:GONE'" in "\n".join(terminal.log_tail)
    assert run.record.summary["status"] == "failed"
    assert terminal.kind == "start"
    assert "cannot load lab 'tests.fixture_labs:GONE'" in terminal.reason


def test_the_kernels_oom_kill_count_is_readable_here() -> None:
    # The runner tells an out-of-memory kill from kill -9 by this count rising.
    count = oom_kills()
    assert count is None or count >= 0
    if Path("/proc/vmstat").read_text().find("oom_kill ") >= 0:
        assert isinstance(count, int)


@pytest.mark.slow
def test_pause_holds_the_run_step_moves_one_frame_and_resume_goes_on(start: Start) -> None:
    run = start("tests.fixture_labs:SLOW", interval=0.02)
    pump = EventPump(run)

    def frames() -> int:
        return sum(isinstance(e, ev.Frame) for e in list(pump.events))

    def settled() -> int:
        """The frame count once it has stopped changing (events in flight have arrived)."""
        seen = [-1]

        def still() -> int | None:
            now = frames()
            if now == seen[0]:
                return now
            seen[0] = now
            time.sleep(0.5)
            return None

        return wait_until(still, "the paused run to go quiet")

    wait_until(lambda: frames() >= 3, "three frames")
    run.pause()
    held = settled()
    time.sleep(0.5)
    assert frames() == held  # paused: nothing moves
    run.step()
    wait_until(lambda: frames() == held + 1, "one more frame")
    assert settled() == held + 1  # and then it holds again
    run.resume()
    wait_until(lambda: frames() >= held + 5, "frames again after resume")
    # Every viewer is told: held, let go for one frame, held again, let go.
    assert [e.held for e in list(pump.events) if isinstance(e, ev.Paused)] == [True, False, True, False]
    assert RunState.of(list(pump.events)).status == "running"
    run.cancel(grace=30)
    assert isinstance(terminal_of(pump.result()), ev.Cancelled)
