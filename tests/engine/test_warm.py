"""The warm start: a spare run process with TensorFlow imported and no device touched."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from labs import events as ev
from labs.recording import list_runs
from labs.registry import get_lab
from labs.runner import RunRequest
from labs.warm import Spare
from tests.support import EventPump, alive, terminal_of
from tui.app import make_app
from tui.screens.run import RunScreen


@pytest.mark.slow
def test_a_warm_run_honours_the_device_logical_devices_and_threads(runs_dir: Path) -> None:
    spare = Spare()
    lab = get_lab("tests.fixture_labs:DEVICES")
    params = lab.build_params({"logical_cpus": 3, "threads": 2})
    run = RunRequest(lab, params, device="cpu", lab_ref="tests.fixture_labs:DEVICES").start(runs_dir, spare)
    events = EventPump(run).result()

    terminal = terminal_of(events)
    assert isinstance(terminal, ev.Finished), terminal
    stages = [e.name for e in events if isinstance(e, ev.Stage)]
    assert stages[0] == "setting up TensorFlow (warm start)"  # it was the spare that ran it
    assert terminal.summary["pid"] == run.pid != spare.process.pid  # the spare's lab process
    # --device cpu hides every GPU; the logical devices and threads asked for took effect,
    # so nothing in the spare had started TensorFlow's runtime before the run came.
    assert terminal.summary["cuda_visible_devices"] == "-1"
    assert (terminal.summary["logical_cpus"], terminal.summary["intra_op_threads"]) == (3, 2)
    assert [e.values for e in events if isinstance(e, ev.Metric)] == [{"gpus": 0.0}]
    # Its output is the run's, from the run's start.
    assert "stage: setting up TensorFlow (warm start)" in (run.record.path / "output.log").read_text()
    spare.process.wait(30)


def test_a_spare_nobody_takes_goes_away_with_the_app_that_kept_it(runs_dir: Path) -> None:
    spare = Spare()
    supervisor = spare.process.pid
    spare.close()  # as the app closing (or dying) closes its end
    assert spare.process.wait(60) == 0
    assert not alive(supervisor)
    assert list_runs(runs_dir) == []


@pytest.mark.slow
def test_a_dead_spare_means_a_cold_start(runs_dir: Path) -> None:
    spare = Spare()
    spare.process.kill()
    spare.process.wait()
    lab = get_lab("tests.fixture_labs:OK")
    run = RunRequest(lab, lab.build_params({}), lab_ref="tests.fixture_labs:OK").start(runs_dir, spare)
    events = EventPump(run).result()
    assert isinstance(terminal_of(events), ev.Finished)
    assert events[0] == ev.Log("the warm spare could not take this run (it died or hung): a cold start")
    assert [e.name for e in events if isinstance(e, ev.Stage)][0] == "starting TensorFlow"


@pytest.mark.slow
def test_a_hung_spare_is_killed_and_the_run_starts_cold(runs_dir: Path) -> None:
    """A spare that does not answer must never start the run later, beside the cold one."""
    spare = Spare()
    os.kill(spare.process.pid, signal.SIGSTOP)
    lab = get_lab("tests.fixture_labs:OK")
    run = RunRequest(lab, lab.build_params({}), lab_ref="tests.fixture_labs:OK").start(runs_dir, spare)
    assert spare.process.wait(30) == -signal.SIGKILL
    events = EventPump(run).result()
    assert isinstance(terminal_of(events), ev.Finished)
    assert events[0] == ev.Log("the warm spare could not take this run (it died or hung): a cold start")
    assert run.supervisor_pid != spare.process.pid


@pytest.mark.slow
async def test_the_app_starts_runs_warm_keeps_a_new_spare_and_lets_it_go_on_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEETUP_LAB_WARM_START", "1")
    app = make_app(tmp_path / "runs", config_path=tmp_path / "config.json")
    async with app.run_test(size=(100, 32)) as pilot:

        async def until(condition: Callable[[], object], what: str) -> None:
            for _ in range(900):
                if condition():
                    return
                await pilot.pause(0.1)
            raise AssertionError(f"gave up waiting for {what}")

        await until(lambda: app._spare is not None, "the spare, once the menu is up")
        assert app._spare is not None
        first = app._spare.process
        await pilot.press("enter")  # the pde form
        await pilot.press("ctrl+r")  # its defaults: heat on 256x256
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen) and screen.run is not None
        run = screen.run

        await until(lambda: list(run.record.events("stage")), "the run's first stage")
        first_stage = next(run.record.events("stage"))
        assert isinstance(first_stage, ev.Stage) and first_stage.name == "setting up TensorFlow (warm start)"
        await pilot.press("c")
        await until(lambda: screen.ended, "the cancelled run")
        await until(lambda: app._spare is not None, "a new spare")
        assert app._spare is not None
        second = app._spare.process
    assert second.wait(60) == 0  # the app closed: its spare went with it
    assert first.wait(60) == 0  # the first ended with its run
    assert [i.status for i in list_runs(tmp_path / "runs")] == ["cancelled"]
