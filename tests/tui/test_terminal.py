"""The real `meetup-lab` program in a real pseudo-terminal, as a user starts it."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual import constants
from textual._xterm_parser import XTermParser

from labs.recording import list_runs
from tests.recorded import RUN_ID, make_recorded_run
from tests.support import MEETUP_LAB, cli_env, metric_lines, only_run_dir, start_cli, wait_until
from tests.terminal import Terminal
from tui.app import make_app
from tui.driver import IDLE_WAIT_S, PromptEscapeDriver, input_wait
from tui.headless import LOG_ROOM
from tui.heatmap_render import UPPER_HALF


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


@pytest.mark.slow
def test_menu_opens_and_q_quits(terminals: list[Terminal]) -> None:
    terminal = _open(terminals)
    terminal.wait_for("Choose a lab")
    terminal.type("q")
    assert terminal.wait_exit() == 0


def test_the_app_reads_keys_through_its_own_driver(tmp_path: Path) -> None:
    assert make_app(tmp_path / "runs").driver_class is PromptEscapeDriver


def test_the_drivers_wait_for_keys_ends_when_a_lone_escape_is_due(monkeypatch: pytest.MonkeyPatch) -> None:
    # With nothing pending it waits as Textual's does (it wakes only to see its exit flag); with
    # an ESC that may begin an arrow's sequence, no longer than the escape delay (Textual's
    # waited its whole 100 ms, so Escape came late whatever ESCDELAY said).
    monkeypatch.setattr(constants, "ESCAPE_DELAY", 0.05)  # as ESCDELAY=50, meetup-lab's own
    parser = XTermParser()
    assert input_wait(parser) == IDLE_WAIT_S
    assert list(parser.feed("\x1b")) == []  # not yet a key: it may be an arrow's start
    assert 0 <= input_wait(parser) <= constants.ESCAPE_DELAY < IDLE_WAIT_S
    assert list(parser.feed("[B"))  # the arrow, read whole
    assert input_wait(parser) == IDLE_WAIT_S


@pytest.mark.slow
def test_an_arrows_sequence_is_the_arrow_and_a_lone_escape_is_escape(terminals: list[Terminal]) -> None:
    # The driver's own wait for keys (tui/driver.py): an arrow, written at once, is never read
    # as Escape and letters, and an ESC with nothing after it is Escape, here in one key each.
    terminal = _open(terminals)
    terminal.wait_for("Choose a lab")
    terminal.type("\x1b[B")  # down: the second lab (read as Escape, "[" and "B", it would open pde)
    terminal.type("\r")
    terminal.wait_until(lambda screen: "One node by maximum likelihood" in screen and "^r Run" in screen)
    terminal.type("\x1b")
    terminal.wait_until(lambda screen: "Choose a lab" in screen)
    terminal.type("q")
    assert terminal.wait_exit() == 0


@pytest.mark.slow
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


@pytest.mark.slow
def test_show_opens_a_recorded_run(terminals: list[Terminal], runs_dir: Path) -> None:
    make_recorded_run(runs_dir)
    terminal = _open(terminals, "show", RUN_ID[:12])
    terminal.wait_for(f"{RUN_ID} (recorded)")
    terminal.type("q")
    assert terminal.wait_exit() == 0


@pytest.mark.slow
def test_a_new_theme_is_sent_to_the_terminal_once(terminals: list[Terminal], runs_dir: Path) -> None:
    # Each widget restyled asked for its own repaint after the screen had painted itself in the
    # new colours: every row went to the terminal twice (on the run screen 19 KB more, the same
    # again, on a slow link ahead of what comes next).
    make_recorded_run(runs_dir)
    terminal = _open(terminals, "show", RUN_ID[:12])
    terminal.wait_for("Save PNG")
    terminal.settle(1.0)
    sent = len(terminal.output)
    terminal.type("t")
    terminal.wait_until(lambda screen: "Theme: meetup-light" in screen)
    terminal.settle(1.0)  # what else the change brings (the notice's own paints) comes meanwhile
    after = bytes(terminal.output[sent:])
    # A move to row 12, in the heatmap's panel and clear of the notice: a whole paint moves
    # there once, to its first column; any later paint of a widget there would move again.
    assert after.count(b"\x1b[12;") == 1


@pytest.mark.slow
def test_headless_live_view_shows_log_lines_with_brackets(terminals: list[Terminal], runs_dir: Path) -> None:
    # On a terminal the headless run draws a Rich live view; a log line holding
    # brackets (as paths and arrays do) must print as it is, not as markup.
    terminal = _open(terminals, "run", "tests.fixture_labs:OK", "--headless")
    assert terminal.wait_exit(timeout=90) == 0
    assert b"[/tmp/x]" in terminal.output
    assert b"status: finished" in terminal.output
    (info,) = list_runs(runs_dir)
    assert json.loads((info.path / "summary.json").read_text())["status"] == "finished"


@pytest.mark.parametrize("how", ["kill -9", "hang-up"])
@pytest.mark.slow
def test_a_run_outlives_the_app_in_its_terminal_and_a_new_viewer_attaches(
    terminals: list[Terminal], runs_dir: Path, how: str
) -> None:
    """The app killed (SIGKILL) or its terminal gone (the SSH drop: SIGHUP): the run goes on,
    ends finished with its summary, and `attach` follows it live meanwhile."""
    args = ["run", "pde", "--set", "grid=128", "--set", "steps=300000", "--set", "frame_every=5000"]
    terminal = _open(terminals, *args, "--device", "cpu")
    run_dir = wait_until(lambda: only_run_dir(runs_dir), "the run folder")
    wait_until(lambda: metric_lines(run_dir), "the run computing")
    if how == "kill -9":
        os.kill(terminal.proc.pid, signal.SIGKILL)
    else:
        os.close(terminal.master)  # the terminal goes: the kernel hangs up on its session
        terminal.master = os.open(os.devnull, os.O_RDONLY)  # for close() at teardown
    assert terminal.proc.wait(30) is not None
    seen = len(metric_lines(run_dir))
    viewer = start_cli("attach", run_dir.name)
    assert viewer.stdout is not None
    lines = []
    for line in viewer.stdout:  # plain progress lines: every event from the start, then live ones
        lines.append(line)
    viewer.wait(30)
    assert viewer.returncode == 0, "".join(lines)
    assert lines[0].startswith(f"started pde run {run_dir.name}")
    assert any("step 300000/300000" in line for line in lines)
    assert "status: finished" in "".join(lines)
    assert len(metric_lines(run_dir)) > seen  # it computed on after the app went
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["result"]["steps"] == 300000


def _last_field(output: bytes, title: str) -> list[str]:
    """The lines of the last frame the live view drew (its final state), control sequences
    taken out: from its title to its colour bar, each line with whatever is beside it."""
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode("utf-8", "replace"))
    drawn = re.split(r"[\r\n]+", text[text.rindex(title) :])
    field = list(itertools.takewhile(lambda line: UPPER_HALF in line, drawn[1:]))
    assert drawn[len(field) + 1].startswith("0"), drawn[: len(field) + 2]  # the colour bar: 0 to max
    return field


@pytest.mark.parametrize(("columns", "lines"), [(80, 24), (80, 60)])
@pytest.mark.slow
def test_headless_heatmap_fills_the_terminal_it_can_and_keeps_its_aspect(
    terminals: list[Terminal], columns: int, lines: int
) -> None:
    args = ["run", "pde", "--headless", "--device", "cpu", "--set", "grid=32", "--set", "steps=200"]
    terminal = Terminal([str(MEETUP_LAB), *args], cli_env(TERM="xterm-256color", NO_COLOR=""), columns, lines)
    terminals.append(terminal)
    assert terminal.wait_exit(timeout=90) == 0
    field = _last_field(bytes(terminal.output), "u @ 200")
    width = max(line.count(UPPER_HALF) for line in field)
    assert width == 2 * len(field)  # a square grid, half blocks: two data rows a line
    if lines == 24:
        # Low: as tall as the screen allows, the log's lines, the progress line, the title and
        # the colour bar aside (the metrics go beside it); the old fixed size was 24 wide.
        assert len(field) == lines - LOG_ROOM - 3 and width > 24
    else:
        assert width == columns  # tall: the whole width
