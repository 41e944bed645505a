"""The user's settings (the chosen theme), kept in the XDG config folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labs import paths
from labs.jsonfile import read_object, write_atomic


def load(path: Path | None = None) -> dict[str, Any]:
    return read_object(path or paths.config_file()) or {}


def save(settings: dict[str, Any], path: Path | None = None) -> None:
    """Best effort: a read-only home must not break the app."""
    path = path or paths.config_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, settings)
    except OSError:
        pass
