"""The heat (diffusion) equation ``u_t = D ∇²u``.

On an n×n grid with spacing dx = 1, stepped by explicit Euler with the
5-point Laplacian inside one XLA-compiled ``tf.function`` that runs many steps
per emitted frame. A plain NumPy version of the same stepping is kept beside
it: the tests and the benchmark compare the two.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from labs import events as ev
from labs.context import RunContext
from labs.pde.march import march

if TYPE_CHECKING:
    from labs.pde.lab import PdeParams

DX = 1.0  # grid spacing; lengths and times are in grid units


def stable_dt(diffusivity: float) -> float:
    """Explicit Euler with the 5-point Laplacian is stable for dt <= dx²/(4D)."""
    return DX**2 / (4 * diffusivity)


# -- initial conditions -------------------------------------------------------


def gaussian_sigma(grid: int) -> float:
    return grid / 16


def initial_field(p: PdeParams, seed: int) -> np.ndarray:
    n = p.grid
    y, x = np.mgrid[0:n, 0:n].astype(np.float64)
    if p.initial == "gaussian":
        c, s = (n - 1) / 2, gaussian_sigma(n)
        u = np.exp(-((x - c) ** 2 + (y - c) ** 2) / (2 * s**2))
    elif p.initial == "square":
        u = ((abs(x - n / 2) < n / 8) & (abs(y - n / 2) < n / 8)).astype(np.float64)
    else:  # drops: a rain of narrow Gaussians
        rng = np.random.default_rng(seed)
        u = np.zeros((n, n))
        s = max(n / 64, 1.0)
        centres, heights = rng.uniform(0, n, (20, 2)), rng.uniform(0.3, 1, 20)
        for (cx, cy), a in zip(centres, heights, strict=True):
            u += a * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s**2))
    if p.boundary == "fixed":
        u[0, :] = u[-1, :] = u[:, 0] = u[:, -1] = 0.0
    return u.astype(np.float32)


def analytic_gaussian(grid: int, diffusivity: float, t: float) -> np.ndarray:
    """The spreading Gaussian on an infinite plane: variance grows by 2Dt per axis."""
    c, s0 = (grid - 1) / 2, gaussian_sigma(grid)
    var = s0**2 + 2 * diffusivity * t
    y, x = np.mgrid[0:grid, 0:grid].astype(np.float64)
    return (s0**2 / var) * np.exp(-((x - c) ** 2 + (y - c) ** 2) / (2 * var))


# -- stepping -----------------------------------------------------------------


def heat_steps_numpy(u: np.ndarray, alpha: float, steps: int, boundary: str) -> np.ndarray:
    """The reference: the same explicit Euler steps in plain NumPy (alpha = D dt / dx²)."""
    u = np.array(u, dtype=np.float32)
    a = np.float32(alpha)
    for _ in range(steps):
        if boundary == "periodic":
            lap = np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1)
            u += a * (lap - 4 * u)
        else:
            c = u[1:-1, 1:-1]
            c += a * (u[:-2, 1:-1] + u[2:, 1:-1] + u[1:-1, :-2] + u[1:-1, 2:] - 4 * c)
    return u


def make_heat_stepper(alpha: float, boundary: str) -> Any:
    """A compiled ``advance(u, n)`` that takes n explicit Euler steps on the device."""
    import tensorflow as tf

    a = tf.constant(alpha, tf.float32)

    def step(u: tf.Tensor) -> tf.Tensor:
        if boundary == "periodic":
            # Wrap one cell round each edge, then take the same 5-point stencil.
            p = tf.concat([u[-1:], u, u[:1]], axis=0)
            p = tf.concat([p[:, -1:], p, p[:, :1]], axis=1)
        else:
            p = tf.pad(u, [[1, 1], [1, 1]])
        lap = p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * u
        new = u + a * lap
        if boundary == "periodic":
            return new
        # Hold the edges at 0 by a mask over the whole grid: XLA fuses it into
        # the stencil, where padding an updated interior cost a copy (2x slower).
        return new * tf.pad(tf.ones_like(u[1:-1, 1:-1]), [[1, 1], [1, 1]])

    @tf.function(jit_compile=True)
    def advance(u: tf.Tensor, n: tf.Tensor) -> tf.Tensor:
        _, u = tf.while_loop(lambda i, _u: i < n, lambda i, v: (i + 1, step(v)), (0, u))
        return u

    return advance


# -- the run ------------------------------------------------------------------


def run(p: PdeParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import tensorflow as tf

    alpha = p.diffusivity * p.dt / DX**2
    u0 = initial_field(p, ctx.seed)
    mass0 = float(u0.sum()) * DX**2
    yield ev.Log(
        f"heat equation on a {p.grid}x{p.grid} grid, {p.boundary} boundary, "
        f"alpha = D·dt/dx² = {alpha:.4g} (stable up to 0.25)"
    )
    yield ctx.frame("u", 0, u0)

    def report(step: int, fields: tuple[np.ndarray, ...], rate: float) -> Iterable[ev.Event]:
        (u,) = fields
        values = {
            "t": step * p.dt,
            "mass": float(u.sum(dtype=np.float64)) * DX**2,
            "max": float(u.max()),
            "min": float(u.min()),
            "steps_per_s": rate,
        }
        return ev.Metric(step=step, values=values), ctx.frame("u", step, u)

    advance = make_heat_stepper(alpha, p.boundary)
    hint = f"alpha = {alpha:.4g}; explicit Euler needs alpha <= 0.25"
    (u,), rate = yield from march(advance, (tf.constant(u0),), p.steps, p.frame_every, report, hint)
    mass = float(u.sum(dtype=np.float64)) * DX**2
    yield ctx.save_array("u", u, "final field u")
    yield ctx.save_heatmap_png("u", u)
    return {
        "steps": p.steps,
        "t": p.steps * p.dt,
        "mass": mass,
        "mass_change_pct": 100 * (mass - mass0) / mass0 if mass0 else 0.0,
        "steps_per_s": rate,
    }
