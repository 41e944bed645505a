"""What is wrong with a run folder's JSON files, in words, or None when nothing is.

A run folder may be edited by hand, cut short by a full disk or damaged by a
crash. Every reader asks here first, so that one damaged run lists as
``damaged`` with the reason, and the others list and show as usual.
"""

from __future__ import annotations

from typing import Any

from labs.events import STATUS

STATUSES = tuple(STATUS.values())


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(value: Any) -> bool:
    """A dict of name to number (None stands for a number that was not finite)."""
    return isinstance(value, dict) and all(
        isinstance(k, str) and (v is None or _number(v)) for k, v in value.items()
    )


def meta_problem(meta: dict[str, Any] | None) -> str | None:
    """What is wrong with a ``params.json`` (None: it is a whole run's)."""
    if meta is None:
        return "params.json is missing or is not a JSON object"
    for key in ("lab", "lab_ref", "device", "started_at"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            return f"params.json: {key!r} is missing or not a name"
    if not isinstance(meta.get("params"), dict):
        return "params.json: 'params' is missing or not a JSON object"
    if not isinstance(meta.get("seed"), int) or isinstance(meta.get("seed"), bool):
        return "params.json: 'seed' is missing or not a whole number"
    if not _number(meta.get("started_unix", 0.0)):
        return "params.json: 'started_unix' is not a number"
    names = meta.get("key_metric")
    if not (
        names is None
        or isinstance(names, str)
        or (isinstance(names, list) and all(isinstance(k, str) for k in names))
    ):
        return "params.json: 'key_metric' is not a name or a list of names"
    return None


def summary_problem(summary: dict[str, Any]) -> str | None:
    """What is wrong with a ``summary.json`` that was read as a JSON object."""
    if summary.get("status") not in STATUSES:
        return f"summary.json: 'status' is {summary.get('status')!r}, not one of {', '.join(STATUSES)}"
    duration = summary.get("duration")
    if duration is not None and not (_number(duration) and duration >= 0):
        return f"summary.json: 'duration' is {duration!r}, not a number of seconds"
    for key in ("metrics", "key_metric"):
        if not _numbers(summary.get(key, {})):
            return f"summary.json: {key!r} is not a table of names and numbers"
    if not isinstance(summary.get("result", {}), dict):
        return "summary.json: 'result' is not a JSON object"
    for key in ("reason", "kind"):
        if not isinstance(summary.get(key, ""), str):
            return f"summary.json: {key!r} is not text"
    return None
