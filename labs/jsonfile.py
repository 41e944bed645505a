"""Strict JSON, and small JSON files that must never take the program down.

Everything the project writes is JSON by the standard, which has no NaN or
infinity: ``jq``, JavaScript and most tools refuse them. A number that is not
finite (a NaN loss, a failed check's error) is written as ``null``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


def strict(value: Any) -> Any:
    """``value`` with every float that is not finite replaced by None, at any depth."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """Strict JSON text: a number that is not finite is written as null."""
    return json.dumps(strict(value), allow_nan=False, **options)


def read_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``, or ``None`` if it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError covers bad JSON and bad UTF-8
        return None
    return data if isinstance(data, dict) else None


def write_atomic(path: Path, data: dict[str, Any], compact: bool = False) -> None:
    """Write via a temporary file and a rename, so a reader never sees half a file
    (and a failed write, a full disk say, leaves no temporary file behind). ``compact``:
    no indentation, for a file read by programs alone."""
    tmp = path.with_suffix(".tmp")
    layout: dict[str, Any] = {"separators": (",", ":")} if compact else {"indent": 2}
    try:
        tmp.write_text(dumps(data, default=str, **layout) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
