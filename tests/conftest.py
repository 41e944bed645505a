"""Shared fixtures: every test gets its own runs, config and data folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from labs.recording import RunRecord
from labs.runner import Run
from tests.support import kill_run


@pytest.fixture(scope="session")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of compiled ops for the whole session: each op compiles once, not per test,
    nor per worker under ``pytest -n`` (the workers' folders share a parent; the build locks
    a library while it compiles it)."""
    base = tmp_path_factory.getbasetemp()
    cache = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "build-cache"
    cache.mkdir(exist_ok=True)
    return cache


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build_cache: Path) -> Iterator[None]:
    """Point every place meetup-lab writes to at this test's tmp_path (children inherit it)."""
    monkeypatch.setenv("MEETUP_LAB_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(build_cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # No warm spare (a TensorFlow process each) unless a test asks for one: CI has 2 cores.
    monkeypatch.setenv("MEETUP_LAB_WARM_START", "0")
    # Tests run runs side by side on purpose (two crashes at once, a run beside a live one);
    # the queue's tests set their own room.
    monkeypatch.setenv("MEETUP_LAB_CPU_RUNS", "8")
    yield
    # Runs outlive whoever started them: whatever a test left live is killed here.
    for folder in (tmp_path / "runs").glob("*"):
        if RunRecord(folder).live():  # only then are its recorded pids still its own
            kill_run(Run(RunRecord(folder)))


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    """The runs folder; the same one ``$MEETUP_LAB_RUNS_DIR`` names."""
    return tmp_path / "runs"
