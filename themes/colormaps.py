"""Colour maps for heatmaps: 32 levels each, shared by the TUI and PNG artifacts.

32 levels is deliberate: Textual caches about a thousand styles, and a small
palette keeps every heatmap cell a cache hit. No UI imports here, so the
engine can colour its PNG artifacts with the same maps the screen uses.
"""

from __future__ import annotations

import numpy as np

LEVELS = 32

# Anchor colours, interpolated to LEVELS entries. The sequential maps follow
# matplotlib's perceptually uniform maps; "coolwarm" is Moreland's diverging map.
_ANCHORS: dict[str, list[str]] = {
    "viridis": ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"],
    "inferno": ["#000004", "#420a68", "#932667", "#dd513a", "#fca50a", "#fcffa4"],
    "gray": ["#000000", "#ffffff"],
    "coolwarm": ["#3b4cc0", "#7b9ff9", "#dddddd", "#f49a7b", "#b40426"],
}
SEQUENTIAL = ("viridis", "inferno", "gray")
DIVERGING = ("coolwarm",)

# For terminals without colour: a ramp of characters from light to dense.
ASCII_RAMP = " .:-=+*#%@"


def _hex_to_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _interpolate(anchors: list[str], levels: int) -> np.ndarray:
    points = np.array([_hex_to_rgb(c) for c in anchors], dtype=np.float64)
    where = np.linspace(0, len(anchors) - 1, levels)
    out = np.empty((levels, 3))
    for channel in range(3):
        out[:, channel] = np.interp(where, np.arange(len(anchors)), points[:, channel])
    return np.round(out).astype(np.uint8)


COLORMAPS: dict[str, np.ndarray] = {name: _interpolate(a, LEVELS) for name, a in _ANCHORS.items()}


def default_cmap(signed: bool) -> str:
    """Signed fields get a diverging map centred on 0; others a sequential one."""
    return DIVERGING[0] if signed else SEQUENTIAL[0]


def quantize(field: np.ndarray, vmin: float, vmax: float, levels: int = LEVELS) -> np.ndarray:
    """Map values to level indices 0..levels-1; NaN goes to 0, values clip to the range."""
    span = vmax - vmin if vmax > vmin else 1.0
    scaled = (np.nan_to_num(field, nan=vmin) - vmin) / span
    return np.clip((scaled * levels).astype(np.int64), 0, levels - 1)


def value_range(field: np.ndarray, signed: bool) -> tuple[float, float]:
    """Auto colour range over the finite values; symmetric about 0 for signed fields."""
    finite = field[np.isfinite(field)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if signed:
        bound = max(abs(lo), abs(hi)) or 1.0
        return -bound, bound
    return lo, hi


def to_rgb(field: np.ndarray, name: str, signed: bool = False) -> np.ndarray:
    """An HxWx3 uint8 image of ``field`` under colour map ``name``."""
    vmin, vmax = value_range(field, signed)
    return COLORMAPS[name][quantize(field, vmin, vmax)]
