"""Escape-time fractals: the Mandelbrot set and Julia sets.

z ← z² + c, counting the iterations until |z| > 2. For the Mandelbrot set c
is the pixel and z starts at 0; for a Julia set z starts at the pixel and c is
fixed. At zoom 1 the window is the TensorFlow tutorial's [-2, 1] × [-1.3, 1.3].
The area estimate is the share of pixels that never escaped times the
window's area; more iterations can only remove pixels, so it never grows
with them, and it approaches the set's area, about 1.5066.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from labs import events as ev
from labs.context import RunContext

if TYPE_CHECKING:
    from labs.pde.lab import PdeParams

HALF_WIDTH, HALF_HEIGHT = 1.5, 1.3  # the tutorial's window at zoom 1
# Each compiled call is sized to take about this long, so that a window moved while the
# run goes (zoom, pan) is seen within it, whatever the grid and the iterations.
CALL_S = 0.05
MANDELBROT_AREA = 1.5066  # the best known estimate (Förstemann, 2012: 1.50659…)


def window(cx: float, cy: float, zoom: float, width: int) -> tuple[np.ndarray, float]:
    """The pixel centres as complex numbers (row 0 at the top), and one pixel's area."""
    hw, hh = HALF_WIDTH / zoom, HALF_HEIGHT / zoom
    height = max(1, round(width * hh / hw))
    xs = cx - hw + (np.arange(width) + 0.5) * (2 * hw / width)
    ys = cy + hh - (np.arange(height) + 0.5) * (2 * hh / height)
    plane = xs[None, :] + 1j * ys[:, None]
    return plane.astype(np.complex64), (2 * hw / width) * (2 * hh / height)


def zoom_limit(cx: float, cy: float, width: int) -> tuple[float, float]:
    """The largest zoom whose pixels complex64 still tells apart here, and float32's step there.

    Neighbouring pixel centres must differ by at least one float32 step at the window's
    centre, and never by less than one near |z| = 1, the orbits' scale, where their
    rounding happens. Past it the image turns to flat blocks.
    """
    step = float(np.spacing(np.float32(max(abs(cx), abs(cy), 1.0))))
    return 2 * HALF_WIDTH / (width * step), step


def counts_numpy(plane: np.ndarray, iterations: int, julia_c: complex | None = None) -> np.ndarray:
    """The reference: escape counts (iterations survived) in complex64 NumPy."""
    c = plane if julia_c is None else np.complex64(julia_c)
    z = np.zeros_like(plane) if julia_c is None else plane.copy()
    counts = np.zeros(plane.shape, np.float32)
    for _ in range(iterations):
        z = np.where(np.abs(z) <= 2, z * z + c, z)
        counts += np.abs(z) <= 2
    return counts


def make_iterator(julia_c: complex | None) -> Any:
    """A compiled ``advance(z, c, counts, n)``: n more iterations on the device."""
    import tensorflow as tf

    @tf.function(jit_compile=True)
    def advance(z: tf.Tensor, c: tf.Tensor, counts: tf.Tensor, n: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        def body(i: tf.Tensor, z: tf.Tensor, counts: tf.Tensor) -> tuple[tf.Tensor, ...]:
            inside = tf.abs(z) <= 2
            z = tf.where(inside, z * z + c, z)  # escaped points stay put, so they never overflow
            return i + 1, z, counts + tf.cast(tf.abs(z) <= 2, tf.float32)

        _, z, counts = tf.while_loop(lambda i, _z, _c: i < n, body, (0, z, counts))
        return z, counts

    return advance


def _window(p: PdeParams, ctx: RunContext) -> tuple[float, float, float]:
    """The window to draw: the parameters', or the one the user moved to while the run goes."""
    return (
        ctx.tuning.get("zoom", p.zoom),
        ctx.tuning.get("centre_x", p.centre_x),
        ctx.tuning.get("centre_y", p.centre_y),
    )


def run(p: PdeParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import tensorflow as tf

    julia_c = complex(p.c_re, p.c_im) if p.equation == "julia" else None
    what = "Mandelbrot set" if julia_c is None else f"Julia set of c = {julia_c}"
    yield ev.Stage("compiling the iteration with XLA")
    advance = make_iterator(julia_c)
    every = max(1, p.iterations // 20)  # about twenty frames as the set sharpens
    shown: tuple[float, float, float] | None = None
    done = chunk = 0
    while True:
        if (current := _window(p, ctx)) != shown:
            # A new window (zoom or pan while the run goes): start over there, in this process.
            # The compiled iteration is reused: the shape is the same, only the values change.
            shown, (zoom, cx, cy) = current, current
            plane, pixel_area = window(cx, cy, zoom, p.grid)
            yield ev.Log(
                f"{what}: {plane.shape[1]}x{plane.shape[0]} pixels around "
                f"({cx:g}, {cy:g}), zoom {zoom:g}, {p.iterations} iterations"
            )
            c = tf.constant(plane if julia_c is None else np.full_like(plane, julia_c))
            z = tf.zeros_like(c) if julia_c is None else tf.constant(plane)
            counts = tf.zeros(plane.shape, tf.float32)
            done, started, area = 0, time.perf_counter(), 0.0
            chunk = chunk or 1  # the first call compiles: one iteration
            # A new window's first image after one call (about CALL_S of iterations), then
            # every `every` iterations.
            next_frame = min(every, chunk)
        if done >= p.iterations:
            break
        call = min(chunk, p.iterations - done, max(1, next_frame - done))
        t0 = time.perf_counter()
        z, counts = advance(z, c, counts, tf.constant(call))
        took = time.perf_counter() - t0
        done += call
        if call == chunk:  # a full call: resize the next one towards CALL_S
            chunk = max(1, min(every, round(chunk * CALL_S / max(took, 1e-4))))
        if done < next_frame and done < p.iterations:
            continue
        next_frame = (done // every + 1) * every
        counts_np = counts.numpy()
        inside = int((counts_np >= done).sum())
        area = inside * pixel_area
        yield ev.Metric(
            step=done,
            values={
                "area": area,
                "inside_pct": 100 * inside / counts_np.size,
                "iterations_per_s": done / (time.perf_counter() - started),
            },
        )
        yield ctx.frame("escape count", done, counts_np)
    yield ctx.save_array("counts", counts_np, "escape counts")
    yield ctx.save_heatmap_png("counts", counts_np)
    zoom, cx, cy = shown
    result: dict[str, Any] = {"iterations": done, "area": area, "zoom": zoom, "centre_x": cx, "centre_y": cy}
    if julia_c is None and (zoom, cx, cy) == (1.0, -0.5, 0.0):
        result["area_error"] = area - MANDELBROT_AREA
    return result
