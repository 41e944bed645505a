"""The real `meetup-lab` program in a real pseudo-terminal, as a user starts it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from labs.recording import list_runs
from tests.recorded import RUN_ID, make_recorded_run
from tests.support import MEETUP_LAB, cli_env
from tests.terminal import Terminal


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for terminal in opened:
        terminal.close()


def _open(terminals: list[Terminal], *args: str, **env: str) -> Terminal:
    terminal = Terminal([str(MEETUP_LAB), *args], env=cli_env(TERM="xterm-256color", **env))
    terminals.append(terminal)
    return terminal


def test_menu_opens_and_q_quits(terminals: list[Terminal]) -> None:
    terminal = _open(terminals)
    terminal.wait_for("Choose a lab")
    terminal.type("q")
    assert terminal.wait_exit() == 0


def test_run_without_headless_opens_the_run_screen(terminals: list[Terminal], runs_dir: Path) -> None:
    terminal = _open(terminals, "run", "pde", "--set", "grid=32", "--set", "steps=200", "--device", "cpu")
    terminal.wait_for("finished")
    terminal.type("q")
    assert terminal.wait_exit() == 0
    (info,) = list_runs(runs_dir)
    assert info.status == "finished"
    # TensorFlow's own log lines go to the run's log, never to the screen.
    assert b"absl::InitializeLog" not in terminal.output
    assert "absl::InitializeLog" in (info.path / "output.log").read_text()


def test_show_opens_a_recorded_run(terminals: list[Terminal], runs_dir: Path) -> None:
    make_recorded_run(runs_dir)
    terminal = _open(terminals, "show", RUN_ID[:12])
    terminal.wait_for(f"{RUN_ID} (recorded)")
    terminal.type("q")
    assert terminal.wait_exit() == 0


def test_headless_live_view_shows_log_lines_with_brackets(terminals: list[Terminal], runs_dir: Path) -> None:
    # On a terminal the headless run draws a Rich live view; a log line holding
    # brackets (as paths and arrays do) must print as it is, not as markup.
    terminal = _open(terminals, "run", "tests.fixture_labs:OK", "--headless")
    assert terminal.wait_exit(timeout=90) == 0
    assert b"[/tmp/x]" in terminal.output
    assert b"status: finished" in terminal.output
    (info,) = list_runs(runs_dir)
    assert json.loads((info.path / "summary.json").read_text())["status"] == "finished"
