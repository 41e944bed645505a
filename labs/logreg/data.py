"""The logreg lab's 2-D data: TensorFlow Playground's four sets.

The 2-D generators follow the Playground's ``dataset.ts`` (points in
[-6, 6]², noise as a fraction, label 1 or 0 where the Playground says +1 or
-1), so a set looks here as it does there. Digits come from labs/digits.py.
"""

from __future__ import annotations

import numpy as np

PLAYGROUND_SETS = ("gauss", "circle", "xor", "spiral")
EXTENT = 6.0  # the Playground draws [-6, 6] on both axes


def points(
    kind: str, count: int, noise: float, rng: np.random.Generator, separation: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: ``count`` points of shape (count, 2) and labels 0/1."""
    half = count // 2
    if kind == "gauss":
        # Two Gaussians on the diagonal, ``separation`` apart; the Playground's
        # variance scale (0.5 at no noise, 4 at 50 %).
        std = np.sqrt(0.5 + 7.0 * noise)
        centre = separation / (2 * np.sqrt(2))
        pos = rng.normal(centre, std, (half, 2))
        neg = rng.normal(-centre, std, (count - half, 2))
        x, y = np.vstack([pos, neg]), np.r_[np.ones(half), np.zeros(count - half)]
    elif kind == "circle":
        radius = 5.0
        r = np.r_[rng.uniform(0, radius * 0.5, half), rng.uniform(radius * 0.7, radius, count - half)]
        angle = rng.uniform(0, 2 * np.pi, count)
        x = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
        jitter = rng.uniform(-radius, radius, (count, 2)) * noise
        y = (np.hypot(*(x + jitter).T) < radius * 0.5).astype(np.float64)
    elif kind == "xor":
        x = rng.uniform(-5, 5, (count, 2))
        x += np.where(x > 0, 0.3, -0.3)  # the Playground's padding off the axes
        jitter = rng.uniform(-5, 5, (count, 2)) * noise
        y = ((x + jitter).prod(axis=1) >= 0).astype(np.float64)
    elif kind == "spiral":
        parts = []
        for delta, size in ((0.0, half), (np.pi, count - half)):
            i = np.arange(size)
            r = i / size * 5
            t = 1.75 * i / size * 2 * np.pi + delta
            arm = np.column_stack([r * np.sin(t), r * np.cos(t)])
            parts.append(arm + rng.uniform(-1, 1, (size, 2)) * noise)
        x, y = np.vstack(parts), np.r_[np.ones(half), np.zeros(count - half)]
    else:
        raise ValueError(f"unknown data set {kind!r}: use one of {', '.join(PLAYGROUND_SETS)}")
    order = rng.permutation(count)  # shuffled, so any split takes both classes
    return x[order].astype(np.float64), y[order]


def grid(side: int) -> np.ndarray:
    """``side``² points covering [-6, 6]², row by row from the top (y = +6) down."""
    ticks = np.linspace(-EXTENT, EXTENT, side)
    gx, gy = np.meshgrid(ticks, ticks[::-1])
    return np.column_stack([gx.ravel(), gy.ravel()])


def markers(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points as a frame's markers: (x, y) scaled to [0, 1] across and down, and the class."""
    across = (x[:, 0] + EXTENT) / (2 * EXTENT)
    down = (EXTENT - x[:, 1]) / (2 * EXTENT)
    return np.column_stack([across, down, y]).astype(np.float32)
