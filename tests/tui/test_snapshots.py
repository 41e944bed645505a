"""Snapshot tests of every screen at 80x24 and 120x40 in the default theme, and of one
screen (a run's replay, which uses the most of a theme's colours) in every other theme.

Review the SVGs under ``__snapshots__`` when you update them with
``pytest --snapshot-update``.
"""

from __future__ import annotations

import fcntl
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.recorded import (
    make_recorded_comparison,
    make_recorded_playground,
    make_recorded_run,
    make_recorded_sweep,
)
from themes.builtin import THEMES
from tui.app import MeetupLabApp, make_app
from tui.screens.form import FormScreen

SIZES = [(80, 24), (120, 40)]
DEFAULT_THEME, *OTHER_THEMES = [theme.name for theme in THEMES]

pytestmark = pytest.mark.slow  # each starts the app and waits for its screen to settle
at_both_sizes = pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")


@pytest.fixture
def theme() -> str:
    return DEFAULT_THEME


def _app(tmp_path: Path, theme: str, **kwargs: object) -> MeetupLabApp:
    app = make_app(tmp_path / "runs", config_path=tmp_path / "config.json", **kwargs)
    app.theme = theme
    return app


async def _replayed(pilot: Pilot) -> None:
    """Until the replay has ended on screen and the screen has been laid out after it."""
    await pilot.app.workers.wait_for_complete()
    for _ in range(200):
        if getattr(pilot.app.screen, "ended", True):
            break
        await pilot.pause(0.05)
    await _settled(pilot)


async def _settled(pilot: Pilot) -> None:
    # Real time, not only an empty message queue: a label updated last is laid out on the
    # next refresh, and a screenshot taken before it shows the new text at the old size.
    for _ in range(3):
        await pilot.pause(0.1)


@at_both_sizes
class TestMenu:
    def test_menu(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        assert snap_compare(_app(tmp_path, theme), terminal_size=size)


@at_both_sizes
class TestForm:
    def test_form(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        async def form(pilot: Pilot) -> None:
            await pilot.press("enter")
            # Made in a later tick than the key's, and laid out after: on a busy machine the
            # screenshot would otherwise catch the menu or a form half laid out.
            for _ in range(200):
                if isinstance(pilot.app.screen, FormScreen):
                    break
                await pilot.pause(0.05)
            for field in pilot.app.screen.query(Input):
                field.cursor_blink = False  # shown steadily: the wait would catch it on or off
            await _settled(pilot)

        assert snap_compare(_app(tmp_path, theme), terminal_size=size, run_before=form)


@at_both_sizes
class TestRunReplay:
    def test_run_replay(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        record = make_recorded_run(tmp_path / "runs")
        app = _app(tmp_path, theme, replay=record)
        assert snap_compare(app, terminal_size=size, run_before=_replayed)


class TestThemes:
    """Each other theme on the run screen: heatmap, charts, metrics, status and log."""

    @pytest.mark.parametrize("other", OTHER_THEMES)
    def test_run_replay(self, snap_compare, tmp_path: Path, other: str) -> None:
        app = _app(tmp_path, other, replay=make_recorded_run(tmp_path / "runs"))
        assert snap_compare(app, terminal_size=SIZES[-1], run_before=_replayed)


@at_both_sizes
class TestPlaygroundReplay:
    """The logreg playground's output surface with its points and decision boundary."""

    def test_playground_replay(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        app = _app(tmp_path, theme, replay=make_recorded_playground(tmp_path / "runs"))
        assert snap_compare(app, terminal_size=size, run_before=_replayed)


@at_both_sizes
class TestSweepReplay:
    """The minibatch sweep's views: loss against time for every batch size, then its table."""

    def test_sweep_chart(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        app = _app(tmp_path, theme, replay=make_recorded_sweep(tmp_path / "runs"))
        assert snap_compare(app, terminal_size=size, run_before=_replayed)

    def test_sweep_table(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        async def table(pilot: Pilot) -> None:
            await _replayed(pilot)
            await pilot.press("f")
            await pilot.pause(0.1)

        app = _app(tmp_path, theme, replay=make_recorded_sweep(tmp_path / "runs"))
        assert snap_compare(app, terminal_size=size, run_before=table)


@at_both_sizes
class TestHelp:
    def test_help(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        assert snap_compare(_app(tmp_path, theme), press=["question_mark"], terminal_size=size)


@at_both_sizes
class TestRunsBoard:
    """The runs board with two recorded runs (a live run's clock would not hold still)."""

    def test_runs_board(self, snap_compare, theme: str, size: tuple[int, int], fixed_folder: Path) -> None:
        runs = fixed_folder / "runs"
        make_recorded_run(runs)
        make_recorded_sweep(runs)
        app = make_app(runs, config_path=fixed_folder / "config.json")
        app.theme = theme
        assert snap_compare(app, press=["h"], terminal_size=size)


@pytest.fixture
def fixed_folder() -> Iterator[Path]:
    """The same folder for every run of the test (the board names it in its title), held by
    one test at a time: tests run side by side under pytest -n."""
    folder = Path(tempfile.gettempdir()) / "meetup-lab-snapshots"
    with open(Path(tempfile.gettempdir()) / "meetup-lab-snapshots.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        yield folder


@at_both_sizes
class TestCompare:
    """Three marked runs on the board, compared: their table and their curves."""

    def test_compare(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        make_recorded_comparison(tmp_path / "runs")
        keys = ["h", "space", "down", "space", "down", "space", "v"]
        assert snap_compare(_app(tmp_path, theme), press=keys, terminal_size=size)
