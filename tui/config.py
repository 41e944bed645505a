"""The user's settings (the chosen theme), kept in the XDG config folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from labs import paths


def load(path: Path | None = None) -> dict[str, Any]:
    path = path or paths.config_file()
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def save(settings: dict[str, Any], path: Path | None = None) -> None:
    """Best effort: a read-only home must not break the app."""
    path = path or paths.config_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings, indent=2) + "\n")
    except OSError:
        pass
