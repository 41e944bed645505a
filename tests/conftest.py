"""Shared fixtures: every test gets its own runs, config and data folders."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every place meetup-lab writes to at this test's tmp_path (children inherit it)."""
    monkeypatch.setenv("MEETUP_LAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """The runs folder; the same one ``$MEETUP_LAB_RUNS_DIR`` names."""
    return tmp_path / "runs"
