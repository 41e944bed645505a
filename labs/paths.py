"""Where meetup-lab keeps runs and settings (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path

RUNS_DIR_ENV = "MEETUP_LAB_RUNS_DIR"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def runs_dir(override: str | Path | None = None) -> Path:
    """``--runs-dir``, else ``$MEETUP_LAB_RUNS_DIR``, else ``$XDG_DATA_HOME/meetup-lab/runs``."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(RUNS_DIR_ENV):
        return Path(os.environ[RUNS_DIR_ENV]).expanduser()
    return _xdg("XDG_DATA_HOME", ".local/share") / "meetup-lab" / "runs"


def config_file() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "meetup-lab" / "config.json"


def cache_dir() -> Path:
    """Built things worth keeping between runs (compiled ops): ``$XDG_CACHE_HOME/meetup-lab``."""
    return _xdg("XDG_CACHE_HOME", ".cache") / "meetup-lab"
