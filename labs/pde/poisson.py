"""Poisson's equation ∇²u = f on a periodic grid, solved by FFT (``tf.signal``).

The domain is [0, 2π)² with n points a side (h = 2π/n). In Fourier space the
Laplacian is a multiplication by its symbol: ``-(kx² + ky²)`` (spectral:
exact for band-limited fields) or ``(2 cos kx h - 2)/h² + (2 cos ky h - 2)/h²``
(the 5-point stencil: second-order accurate). The zero mode has no inverse:
a periodic f must have mean 0, so its mean is removed (and reported) and u is
chosen with mean 0. Computed in float64 (rounding-level error) or float32
(twice the speed, error near 1e-6 of the field's size).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from labs import events as ev
from labs.context import RunContext

if TYPE_CHECKING:
    from labs.pde.lab import PdeParams


def grid_points(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(n) * (2 * np.pi / n)
    return np.meshgrid(x, x, indexing="xy")


def symbol(n: int, kind: str, rfft: bool) -> np.ndarray:
    """The Laplacian's Fourier symbol on an n×n grid (columns halved for a real FFT)."""
    h = 2 * np.pi / n
    k = np.fft.fftfreq(n, d=1 / n)
    kx = np.fft.rfftfreq(n, d=1 / n) if rfft else k
    KX, KY = np.meshgrid(kx, k, indexing="xy")
    if kind == "spectral":
        return -(KX**2 + KY**2)
    return (2 * np.cos(KX * h) - 2) / h**2 + (2 * np.cos(KY * h) - 2) / h**2


def source(n: int, kind: str, seed: int) -> np.ndarray:
    x, y = grid_points(n)
    if kind == "manufactured":
        return manufactured(n)[1]
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.standard_normal((n, n))
    f = np.zeros((n, n))  # point charges: a few + and - unit charges
    for sign in (1.0, -1.0, 1.0, -1.0):
        f[rng.integers(0, n), rng.integers(0, n)] += sign * n * n / (4 * np.pi**2)
    return f


def manufactured(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(u, f) with u = sin x · sin 2y, so f = ∇²u = -5 u."""
    x, y = grid_points(n)
    u = np.sin(x) * np.sin(2 * y)
    return u, -5 * u


def inverse_symbol(n: int, kind: str, dtype: str) -> np.ndarray:
    """1 / symbol over the real FFT's half plane, with the zero mode mapped to 0.

    The zero mode has no inverse; mapping it to 0 both removes the mean of f
    and gives u mean 0, so no separate subtraction pass is needed.
    """
    s = symbol(n, kind, rfft=True)
    s[0, 0] = 1.0
    inverse = 1.0 / s
    inverse[0, 0] = 0.0
    return inverse.astype(dtype)


def make_numpy_solver(n: int, kind: str, dtype: str = "float64") -> Callable[[np.ndarray], np.ndarray]:
    """The reference: the same solve with NumPy's real FFT (symbol computed once, as for TF)."""
    inverse = inverse_symbol(n, kind, dtype)

    def solve(f: np.ndarray) -> np.ndarray:
        return np.fft.irfft2(np.fft.rfft2(f) * inverse, s=f.shape).astype(dtype, copy=False)

    return solve


def make_solver(n: int, kind: str, dtype: str = "float64") -> Any:
    """A compiled ``solve(f) -> (u, mean of f)`` on the device; f of the given dtype."""
    import tensorflow as tf

    complex_dtype = {"float32": np.complex64, "float64": np.complex128}[dtype]
    inv = tf.constant(inverse_symbol(n, kind, dtype).astype(complex_dtype))

    @tf.function
    def solve(f: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        uh = tf.signal.rfft2d(f) * inv
        return tf.signal.irfft2d(uh, fft_length=[n, n]), tf.reduce_mean(f)

    return solve


def laplacian(u: np.ndarray, kind: str) -> np.ndarray:
    """The discrete Laplacian the solve inverts, applied to u: for the residual."""
    return np.fft.irfft2(np.fft.rfft2(u) * symbol(u.shape[0], kind, rfft=True), s=u.shape)


def run(p: PdeParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import tensorflow as tf

    n = p.grid
    f = source(n, p.source, ctx.seed)
    yield ev.Log(
        f"Poisson on a periodic {n}x{n} grid by FFT ({p.precision}), {p.symbol} symbol, {p.source} source"
    )
    solve = make_solver(n, p.symbol, p.precision)
    started = time.perf_counter()
    u_t, mean_t = solve(tf.constant(f, p.precision))
    u, mean = u_t.numpy().astype(np.float64), float(mean_t.numpy())
    seconds = time.perf_counter() - started
    residual = float(np.abs(laplacian(u, p.symbol) - (f - mean)).max())
    values = {"residual": residual, "f_mean_removed": mean, "u_max_abs": float(np.abs(u).max())}
    if p.source == "manufactured":
        values["error_vs_exact"] = float(np.abs(u - manufactured(n)[0]).max())
    yield ev.Metric(step=1, values=values)
    # f and u side by side, each scaled to its largest magnitude: they differ in size.
    side = np.concatenate([f / (np.abs(f).max() or 1), u / (np.abs(u).max() or 1)], axis=1)
    yield ctx.frame("f | u", 1, side, signed=True)
    yield ctx.save_array("u", u, "solution u")
    yield ctx.save_array("f", f, "source f")
    yield ctx.save_heatmap_png("u", u, signed=True)
    yield ctx.save_heatmap_png("f", f, signed=True)
    return {**values, "solve_s": seconds}
