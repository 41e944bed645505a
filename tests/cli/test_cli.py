"""The ``meetup-lab`` command line: in-process (Typer's CliRunner) and as a real process."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from labs import events as ev
from labs.recording import RunRecord, find_run
from labs.registry import all_labs, get_lab
from tests.recorded import make_recorded_run
from tests.support import MEETUP_LAB, cli_env, metric_lines, only_run_dir, run_cli, start_cli, wait_until
from tui.cli import app

PREFIX = "meetup-lab: error: "


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    # Rich sizes its output from $COLUMNS when set: leave it at its default for a pipe.
    monkeypatch.delenv("COLUMNS", raising=False)
    return CliRunner()


def assert_usage_error(result: Result, *fragments: str) -> str:
    """Exit 2, nothing on stdout, one line on stderr, no traceback; returns the line."""
    assert result.exit_code == 2, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(PREFIX), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


# -- in-process -----------------------------------------------------------------


@pytest.mark.slow
def test_list(cli: CliRunner) -> None:
    result = cli.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    rows = [line.split(None, 1) for line in result.stdout.splitlines()]
    # The built-in labs, each registered as an entry point, in the menu's order.
    assert [name for name, _ in rows] == ["pde", "logreg", "glasses", "customop", "minibatch"]
    assert list(all_labs()) == [name for name, _ in rows]
    assert all(summary == get_lab(name).summary for name, summary in rows)


def test_params_pde(cli: CliRunner) -> None:
    result = cli.invoke(app, ["params", "pde"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    names = [line.split()[0] for line in lines[::2]]
    assert names == [spec.name for spec in get_lab("pde").specs]
    assert names[:2] == ["equation", "grid"]
    by_name = {
        line.split()[0]: (line, help_line) for line, help_line in zip(lines[::2], lines[1::2], strict=True)
    }
    grid, grid_help = by_name["grid"]
    assert grid.split()[:6] == ["grid", "int", "default", "256", "(wave:", "500)"]
    assert grid.endswith("int in [8, 4096]")
    assert grid_help.strip().startswith("grid points per side")
    boundary, _ = by_name["boundary"]
    assert boundary.split()[:4] == ["boundary", "choice", "default", "fixed"]
    assert boundary.endswith("one of fixed, periodic")


def test_params_line_up_under_the_longest_name(cli: CliRunner) -> None:
    lines = cli.invoke(app, ["params", "minibatch"]).stdout.splitlines()
    names, helps = lines[::2], lines[1::2]
    assert len({line.index(" default ") for line in names}) == 1  # experiment_examples is the longest
    assert len({len(line) - len(line.lstrip()) for line in helps}) == 1


def test_params_of_a_lab_given_as_module_and_name(cli: CliRunner) -> None:
    result = cli.invoke(app, ["params", "tests.fixture_labs:SEGFAULT"])
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[:5] == ["how", "choice", "default", "segfault", "one"]


@pytest.mark.parametrize(
    ("lab", "fragments"),
    [
        ("nope", ("unknown lab 'nope'", "available labs are pde")),
        ("tests.fixture_labs:NOPE", ("cannot load lab 'tests.fixture_labs:NOPE'",)),
        ("no_such_module:LAB", ("cannot load lab", "no_such_module")),
        ("labs.pde.lab:PdeParams", ("is not a Lab",)),
    ],
)
def test_params_unknown_lab(cli: CliRunner, lab: str, fragments: tuple[str, ...]) -> None:
    assert_usage_error(cli.invoke(app, ["params", lab]), *fragments)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "nope"], ("unknown lab 'nope'",)),
        (["run", "pde", "--set", "dt=0.3"], ("dt=0.3 is unstable", "0.25")),
        (["run", "pde", "--set", "dt=0.2", "--set", "diffusivity=4"], ("0.0625",)),
        (
            ["run", "pde", "--set", "foo=1"],
            ("unknown parameter 'foo'", "valid parameters are equation, grid"),
        ),
        (["run", "pde", "--set", "grid=abc"], ("grid='abc' is not valid", "int in [8, 4096]")),
        (["run", "pde", "--set", "grid=4"], ("grid=4 is out of range",)),
        (["run", "pde", "--set", "grid"], ("--set 'grid' is not of the form name=value",)),
        (["run", "pde", "--set", "boundary=open"], ("one of fixed, periodic",)),
        (["run", "pde", "--device", "tpu"], ("unknown device 'tpu'", "auto, cpu, gpu or gpu:N")),
        (["run", "pde", "--json"], ("--json goes with --headless",)),
        (["run", "pde", "--headless", "--set", "dt=1"], ("0.25",)),
    ],
)
def test_run_usage_errors(
    cli: CliRunner, runs_dir: Path, args: list[str], fragments: tuple[str, ...]
) -> None:
    assert_usage_error(cli.invoke(app, args), *fragments)
    assert not runs_dir.exists() or not any(runs_dir.iterdir())  # nothing was recorded


def test_runs_on_an_empty_folder(cli: CliRunner, runs_dir: Path, tmp_path: Path) -> None:
    result = cli.invoke(app, ["runs"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"no runs recorded in {runs_dir}\n"
    other = tmp_path / "elsewhere"
    result = cli.invoke(app, ["runs", "--runs-dir", str(other)])
    assert result.exit_code == 0
    assert result.stdout == f"no runs recorded in {other}\n"


@pytest.mark.parametrize("ref", ["nope", "last"])
def test_show_unknown_run(cli: CliRunner, runs_dir: Path, ref: str) -> None:
    assert_usage_error(cli.invoke(app, ["show", ref, "--headless"]), f"no run {ref!r}", str(runs_dir))


def test_show_prints_the_run_folder_on_one_line(cli: CliRunner, runs_dir: Path) -> None:
    """A recorded run (written by the real RunRecord, no process needed) shown headless."""
    record = RunRecord.create(
        runs_dir / "deeper" / "than" / "usual", "pde", "pde", {"grid": 32}, "cpu", 0, "mass"
    )
    record.append(ev.Metric(step=1, values={"mass": 2.5}))
    record.write_summary(ev.Finished(summary={"mass": 2.5}, time=1.0), {"mass": 2.5}, {"mass": 2.5})
    result = cli.invoke(app, ["show", str(record.path), "--headless"])
    assert result.exit_code == 0, result.output
    assert "status: finished after 1.0s" in result.stdout.splitlines()
    assert len(str(record.path)) > 80  # longer than a pipe's 80 columns
    assert f"run folder: {record.path}" in result.stdout.splitlines()


# -- real processes -------------------------------------------------------------


@pytest.mark.slow
def test_headless_pde_run_then_runs_and_show(cli: CliRunner, runs_dir: Path) -> None:
    done = run_cli("run", "pde", "--headless", "--device", "cpu", "--set", "grid=32", "--set", "steps=200")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    run_dir = only_run_dir(runs_dir)
    assert run_dir is not None
    lines = done.stdout.splitlines()
    assert lines[0] == f"started pde run {run_dir.name} on device cpu"
    assert "step 200/200 (100%)" in done.stdout
    assert "status: finished" in done.stdout
    assert "wrote artifacts/u.npy: final field u" in lines
    assert "run folder: " in done.stdout

    result = cli.invoke(app, ["runs"])
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()
    assert header.split()[:4] == ["RUN", "LAB", "STATUS", "STARTED"]
    assert row.split()[:3] == [run_dir.name, "pde", "finished"]
    assert row.split()[-3].startswith("mass=")
    assert row.split()[-2:] == ["grid=32", "steps=200"]  # what it changed from the defaults

    assert (
        cli.invoke(app, ["label", "last", "a  first\ttry"]).stdout
        == f"run {run_dir.name}: labelled 'a first try'\n"
    )
    assert "[a first try]  grid=32 steps=200" in cli.invoke(app, ["runs"]).stdout

    result = cli.invoke(app, ["show", "last", "--headless"])
    assert result.exit_code == 0, result.output
    shown = result.stdout.splitlines()
    assert shown[0] == f"run {run_dir.name} (pde, device cpu, seed 0)"
    assert shown[1] == "label: a first try"
    assert shown[2] == "parameters (* changed from the lab's default):"
    status_at = next(n for n, line in enumerate(shown) if line.startswith("status: "))
    params = {line.lstrip(" *").split()[0]: line.split() for line in shown[3:status_at]}
    assert params["grid"] == ["*", "grid", "32"] and params["equation"] == ["equation", "heat"]
    assert "eps" not in params  # the wave's parameter: it does not apply to heat
    assert shown[status_at].startswith("status: finished after ")
    assert "run folder: " in result.stdout

    # Last, as it fails on its own: the folder is printed whole, on one line, for
    # copying or for a script (a pipe is 80 columns wide to Rich).
    assert f"run folder: {run_dir}" in lines


@pytest.mark.slow
def test_delete_asks_refuses_a_live_run_and_removes_the_folder(cli: CliRunner, runs_dir: Path) -> None:
    done = run_cli("run", "tests.fixture_labs:SLOW", "--detach", "--device", "cpu")
    live = done.stdout.splitlines()[0]
    ended = make_recorded_run(runs_dir)
    try:
        refused = cli.invoke(app, ["delete", live, ended.run_id, "--yes"])
        assert_usage_error(refused, f"{live} is live: stop it first")
        assert ended.path.is_dir()  # nothing deleted when one is refused
        for answer in ("n\n", ""):  # no, and no answer at all
            asked = cli.invoke(app, ["delete", ended.run_id], input=answer)
            assert asked.exit_code == 1 and ended.path.is_dir()
            assert "nothing deleted (--yes deletes without asking)" in asked.stderr
        result = cli.invoke(app, ["delete", ended.run_id], input="y\n")
        assert result.exit_code == 0 and f"deleted {ended.run_id}" in result.stdout
        assert not ended.path.exists()
    finally:
        run_cli("stop", live)


@pytest.mark.slow
def test_headless_json_is_one_event_per_line(runs_dir: Path) -> None:
    done = run_cli(
        "run", "pde", "--headless", "--json", "--device", "cpu",
        "--set", "grid=32", "--set", "steps=200", "--set", "frame_every=100",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    objects = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(isinstance(obj, dict) for obj in objects)
    assert objects[0]["type"] == "started"
    assert objects[-1]["type"] == "finished"
    events = [ev.from_json(line) for line in lines]
    assert sum(isinstance(e, ev.TERMINAL) for e in events) == 1
    assert events[0].run_id == only_run_dir(runs_dir).name
    assert events[0].params["grid"] == 32 and events[0].total_steps == 200
    assert [e.step for e in events if isinstance(e, ev.Metric)] == [100, 200]
    frames = [e for e in events if isinstance(e, ev.Frame)]
    assert [f.step for f in frames] == [0, 100, 200] and frames[0].data.shape == (32, 32)
    assert events[-1].summary["steps"] == 200


@pytest.mark.slow
def test_headless_failed_run_exits_1(cli: CliRunner, runs_dir: Path) -> None:
    done = run_cli("run", "tests.fixture_labs:RAISES", "--headless", "--device", "cpu")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "status: failed" in done.stdout
    assert "ValueError: boom" in done.stdout
    record = find_run(runs_dir, "last")
    assert record.summary["kind"] == "exception"

    result = cli.invoke(app, ["show", record.run_id[:-2], "--headless"])  # a unique prefix
    assert result.exit_code == 0, result.output
    assert "status: failed" in result.stdout
    assert "last log lines:" in result.stdout
    assert "ValueError: boom" in result.stdout


@pytest.mark.slow
def test_a_field_that_blows_up_fails_the_run_with_the_step_and_no_traceback(runs_dir: Path) -> None:
    # The tutorial's forward Euler is shown, not refused; at eps 5 it overflows in tens of steps.
    sets = ["equation=wave", "scheme=tutorial", "eps=5", "grid=32", "steps=5000", "frame_every=100"]
    done = run_cli(
        "run", "pde", *(a for pair in sets for a in ("--set", pair)), "--headless", "--device", "cpu"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "status: failed" in done.stdout
    assert "the field became NaN/inf by step 100: the scheme blew up (the tutorial scheme)" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    record = find_run(runs_dir, "last")
    assert record.summary["kind"] == "exception" and "by step 100" in record.summary["reason"]


@pytest.mark.slow
def test_a_metric_past_float32_fails_the_run_before_anything_records_it(runs_dir: Path) -> None:
    """The tutorial's pond at its own eps: the field stays finite in float32 for a while after
    its energy (float64) has left float32's range, which TensorBoard's scalars need."""
    sets = ["equation=wave", "scheme=tutorial", "grid=64", "steps=100000", "frame_every=2000"]
    done = run_cli(
        "run", "pde", *(a for pair in sets for a in ("--set", pair)), "--headless", "--device", "cpu"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    record = find_run(runs_dir, "last")
    reason = record.summary["reason"]
    assert reason.startswith("diverged at step ") and ": energy " in reason
    assert "is beyond what float32 holds" in reason
    step = int(reason.split()[3].rstrip(":"))
    metrics = [e for e in record.events() if isinstance(e, ev.Metric)]
    assert metrics and all(m.step < step for m in metrics)  # the bad one was never recorded
    assert all(abs(v) < 3.4e38 for m in metrics for v in m.values.values())


@pytest.mark.slow
def test_ctrl_c_cancels_a_headless_run(runs_dir: Path) -> None:
    proc = start_cli("run", "tests.fixture_labs:SLOW", "--headless", "--device", "cpu")
    try:
        run_dir = wait_until(lambda: only_run_dir(runs_dir), "the run folder")
        wait_until(lambda: metric_lines(run_dir), "a metric in events.jsonl")
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert "status: cancelled" in stdout
    record = find_run(runs_dir, "last")
    assert record.path == run_dir
    assert record.status() == "cancelled"
    assert record.summary["metrics"]["tick"] >= 1


@pytest.mark.parametrize("command", ["run", "params"])
@pytest.mark.slow
def test_a_user_lab_that_fails_to_import_is_one_line_naming_the_file(tmp_path: Path, command: str) -> None:
    (tmp_path / "badsyn.py").write_text("def x(:\n")
    (tmp_path / "badimp.py").write_text('raise RuntimeError("no config here")\n')
    syntax, raises = tmp_path / "badsyn.py", tmp_path / "badimp.py"
    expected = {
        "badsyn:X": f"cannot load lab 'badsyn:X': {syntax}, line 1: SyntaxError: invalid syntax",
        "badimp:X": f"cannot load lab 'badimp:X' (from {raises}): RuntimeError: no config here",
    }
    for ref, message in expected.items():
        args = [command, ref, "--headless"] if command == "run" else [command, ref]
        done = subprocess.run(
            [str(MEETUP_LAB), *args], cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2
        assert done.stderr == f"meetup-lab: error: {message}\n"
        assert done.stdout == ""
    assert not (tmp_path / "runs").exists()  # refused before any run folder was made
