"""Snapshot tests of every screen, at 80x24 and 120x40, in each theme.

Review the SVGs under ``tests/__snapshots__`` when you update them with
``pytest --snapshot-update``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.recorded import (
    make_recorded_comparison,
    make_recorded_playground,
    make_recorded_run,
    make_recorded_sweep,
)
from themes.builtin import THEMES
from tui.app import MeetupLabApp, make_app

SIZES = [(80, 24), (120, 40)]
THEME_NAMES = [theme.name for theme in THEMES]

pytestmark = [
    pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}"),
    pytest.mark.parametrize("theme", THEME_NAMES),
]


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
    # Real time, not only an empty message queue: a label updated last is laid out on the
    # next refresh, and a screenshot taken before it shows the new text at the old size.
    for _ in range(3):
        await pilot.pause(0.1)


class TestMenu:
    def test_menu(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        assert snap_compare(_app(tmp_path, theme), terminal_size=size)


class TestForm:
    def test_form(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        assert snap_compare(_app(tmp_path, theme), press=["enter"], terminal_size=size)


class TestRunReplay:
    def test_run_replay(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        record = make_recorded_run(tmp_path / "runs")
        app = _app(tmp_path, theme, replay=record)
        assert snap_compare(app, terminal_size=size, run_before=_replayed)


class TestPlaygroundReplay:
    """The logreg playground's output surface with its points and decision boundary."""

    def test_playground_replay(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        app = _app(tmp_path, theme, replay=make_recorded_playground(tmp_path / "runs"))
        assert snap_compare(app, terminal_size=size, run_before=_replayed)


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


class TestHelp:
    def test_help(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        assert snap_compare(_app(tmp_path, theme), press=["question_mark"], terminal_size=size)


class TestRunsBoard:
    """The runs board with two recorded runs (a live run's clock would not hold still)."""

    def test_runs_board(self, snap_compare, theme: str, size: tuple[int, int]) -> None:
        # A fixed folder: the board names it in its title.
        runs = Path(tempfile.gettempdir()) / "meetup-lab-snapshots" / "runs"
        shutil.rmtree(runs.parent, ignore_errors=True)
        make_recorded_run(runs)
        make_recorded_sweep(runs)
        app = make_app(runs, config_path=runs.parent / "config.json")
        app.theme = theme
        assert snap_compare(app, press=["h"], terminal_size=size)


class TestCompare:
    """Three marked runs on the board, compared: their table and their curves."""

    def test_compare(self, snap_compare, tmp_path: Path, theme: str, size: tuple[int, int]) -> None:
        make_recorded_comparison(tmp_path / "runs")
        keys = ["h", "space", "down", "space", "down", "space", "v"]
        assert snap_compare(_app(tmp_path, theme), press=keys, terminal_size=size)
