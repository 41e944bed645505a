"""Heatmap render time per frame at 120x60 cells, against a naive Rich Text build.

Run: python benchmarks/bench_heatmap.py
"""

from __future__ import annotations

import time

import numpy as np
from rich.style import Style
from rich.text import Text

from themes.colormaps import COLORMAPS, LEVELS, quantize
from tui.heatmap_render import UPPER_HALF, render_lines

WIDTH, HEIGHT = 120, 60
FRAMES = 200


def naive(field: np.ndarray) -> list[Text]:
    """One Rich Text per line with a freshly built style per cell: the obvious way."""
    rows = quantize(field, 0.0, 1.0)
    colours = ["#{:02x}{:02x}{:02x}".format(*c) for c in COLORMAPS["viridis"]]
    lines = []
    for y in range(0, rows.shape[0], 2):
        text = Text()
        for x in range(rows.shape[1]):
            text.append(UPPER_HALF, Style(color=colours[rows[y, x]], bgcolor=colours[rows[y + 1, x]]))
        lines.append(text)
    return lines


def per_frame_ms(render, fields: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for field in fields:
        render(field)
    return 1000 * (time.perf_counter() - start) / len(fields)


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    # Smooth fields (like a PDE's) and noise (the worst case: no runs to merge).
    smooth = [
        np.sin(np.linspace(0, 6, WIDTH))[None, :] * np.cos(np.linspace(0, 4 + i / 50, 2 * HEIGHT))[:, None]
        for i in range(FRAMES)
    ]
    smooth = [(f + 1) / 2 for f in smooth]
    noise = [rng.random((2 * HEIGHT, WIDTH)) for _ in range(FRAMES)]
    print(f"{'field':<8} {'renderer':<28} {'ms/frame':>9}")
    for name, fields in (("smooth", smooth), ("noise", noise)):
        ours = per_frame_ms(lambda f: render_lines(f, WIDTH, HEIGHT, "viridis", (0.0, 1.0)), fields)
        base = per_frame_ms(naive, fields[:20])
        print(f"{name:<8} {'render_lines (cached runs)':<28} {ours:>9.2f}")
        print(f"{name:<8} {'Rich Text, style per cell':<28} {base:>9.2f}   ({base / ours:.0f}x slower)")
    print(f"\n{WIDTH}x{HEIGHT} cells, {LEVELS} colour levels")
