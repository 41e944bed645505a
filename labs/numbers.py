"""How numbers are written for people: in the TUI, the headless output and run lists."""

from __future__ import annotations

from typing import Any


def fmt(value: Any) -> str:
    """Five significant digits for floats; anything else as it is."""
    return f"{value:.5g}" if isinstance(value, float) else str(value)


def cell(value: Any) -> str:
    """A table cell: as ``fmt``, with a dash where nothing was measured."""
    return "—" if value is None else fmt(value)
