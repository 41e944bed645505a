"""The run service through the real CLI: detached runs, attach, stop, runs, and what
signals and a closed output do to a foreground run. Real supervisors, real signals."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from labs import events as ev
from labs.recording import RunRecord, list_runs
from labs.runner import Run
from tests.recorded import make_recorded_run
from tests.support import metric_lines, only_run_dir, run_cli, run_dirs, start_cli, wait_until
from tui.headless import _Viewer

SLOW = "tests.fixture_labs:SLOW"


def _detach(*args: str) -> Run:
    done = run_cli("run", *args, "--detach", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    run_id, folder = done.stdout.splitlines()
    assert Path(folder).name == run_id
    assert f"meetup-lab attach {run_id}" in done.stderr
    return Run(RunRecord(Path(folder)))


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


@pytest.mark.slow
def test_detached_runs_side_by_side_listed_attached_and_stopped(runs_dir: Path) -> None:
    first, second = _detach(SLOW), _detach(SLOW, "--set", "interval=0.2")
    for run in (first, second):
        wait_until(lambda r=run: metric_lines(r.record.path), f"a metric from {run.run_id}")
    listing = run_cli("runs")
    assert listing.returncode == 0
    lines = {line.split()[0]: line for line in listing.stdout.splitlines()[1:]}
    for run in (first, second):
        assert lines[run.run_id].split()[2] == "running"

    # attach follows the live run (here in a pipe: plain lines); Ctrl+C lets go of it.
    attach = start_cli("attach", first.run_id[:-2])
    assert attach.stdout is not None
    assert attach.stdout.readline().startswith(f"started slow run {first.run_id}")
    while "step" not in attach.stdout.readline():
        pass
    attach.send_signal(signal.SIGINT)
    out, err = attach.communicate(timeout=30)
    assert attach.returncode == 0, err
    assert f"detached; run {first.run_id} goes on" in err
    _no_traceback(out + err)
    assert first.live()

    # A second viewer attached while `stop` cancels: it sees the end, exits as the run did.
    viewer = start_cli("attach", first.run_id)
    stop = run_cli("stop", first.run_id)
    assert (stop.returncode, stop.stdout.strip()) == (0, f"run {first.run_id}: cancelled")
    out, err = viewer.communicate(timeout=30)
    assert viewer.returncode == 130, err
    assert "status: cancelled" in out
    assert second.live()  # the other run never noticed
    assert run_cli("stop", second.run_id).returncode == 0

    again = run_cli("stop", first.run_id)
    assert again.returncode == 2
    assert again.stderr.strip() == f"meetup-lab: error: run {first.run_id} is not live: it is cancelled"
    # attach on an ended run replays it, then prints its summary.
    replay = run_cli("attach", "last")
    assert replay.returncode == 130
    assert "status: cancelled" in replay.stdout
    assert {i.status for i in list_runs(runs_dir)} == {"cancelled"}


@pytest.mark.slow
def test_sigterm_cancels_a_foreground_run_and_a_hang_up_leaves_it_going(runs_dir: Path) -> None:
    cli = start_cli("run", SLOW, "--headless", "--device", "cpu")
    run_dir = wait_until(lambda: only_run_dir(runs_dir), "the run folder")
    wait_until(lambda: metric_lines(run_dir), "a metric")
    cli.send_signal(signal.SIGTERM)
    out, err = cli.communicate(timeout=30)
    assert cli.returncode == 143
    run_id = run_dir.name
    assert err.strip().splitlines()[-1] == f"meetup-lab: terminated: run {run_id} was cancelled"
    _no_traceback(out + err)
    assert RunRecord(run_dir).summary["status"] == "cancelled"

    hung = start_cli("run", SLOW, "--headless", "--device", "cpu")
    second = wait_until(lambda: [p for p in run_dirs(runs_dir) if p != run_dir], "the second run")[0]
    wait_until(lambda: metric_lines(second), "a metric")
    hung.send_signal(signal.SIGHUP)  # the terminal went away
    out, err = hung.communicate(timeout=30)
    assert hung.returncode == 129
    _no_traceback(out + err)
    run = Run(RunRecord(second))
    seen = len(metric_lines(second))
    wait_until(lambda: len(metric_lines(second)) > seen + 3, "the run going on after the hang-up")
    assert run.live()
    run.cancel()
    assert run.wait(30)


@pytest.mark.slow
def test_a_closed_output_leaves_the_run_going_with_one_line_on_stderr(runs_dir: Path) -> None:
    cli = start_cli("run", SLOW, "--headless", "--device", "cpu")
    assert cli.stdout is not None
    assert cli.stdout.readline().startswith("started slow run")
    cli.stdout.close()  # as `| head -1` does once it has its line
    assert cli.wait(30) == 141
    assert cli.stderr is not None
    err = cli.stderr.read()
    cli.stderr.close()
    run_dir = only_run_dir(runs_dir)
    assert run_dir is not None
    assert err.strip() == (
        f"meetup-lab: output closed; run {run_dir.name} goes on: meetup-lab attach {run_dir.name}"
    )
    run = Run(RunRecord(run_dir))
    assert run.live()
    run.kill()
    terminal = [e for e in run.events() if isinstance(e, ev.TERMINAL)]
    assert isinstance(terminal[-1], ev.Cancelled)


@pytest.mark.slow
def test_detach_and_headless_are_refused_together() -> None:
    done = run_cli("run", "pde", "--detach", "--headless")
    assert done.returncode == 2
    assert done.stderr.strip() == "meetup-lab: error: --detach and --headless are two ways to run: choose one"
    unknown = run_cli("attach", "nope")
    assert unknown.returncode == 2 and "no run 'nope'" in unknown.stderr
    _no_traceback(unknown.stderr)


def test_ctrl_c_after_the_run_ended_is_no_error(runs_dir: Path) -> None:
    """A second Ctrl+C may land after the first one's cancel has ended the run."""
    run = Run(make_recorded_run(runs_dir))
    viewer = _Viewer(run, foreground=True)
    viewer.handle(signal.SIGINT, None)
    viewer.handle(signal.SIGINT, None)  # kill(): the run is not live, and nothing is raised
    assert viewer.signal == signal.SIGINT and not viewer.detached
