"""Raindrops on a pond: the wave equation of TensorFlow's old PDE tutorial.

``u_tt = L u - damping u_t`` with the tutorial's 9-point Laplacian kernel
[[0.5, 1, 0.5], [1, -6, 1], [0.5, 1, 0.5]] and zero outside the pond.
The tutorial's update reads the old state for both fields (forward Euler):
its checkerboard mode grows whenever eps·8 > damping (0.3 % a step at its
eps = 0.03, damping = 0.04), hidden by its [-0.1, 0.1] display clipping.
The default here is symplectic Euler (velocity first, then position), stable
while 8·eps² + 2·eps·damping < 4 (eps < 1/√2 undamped), whose energy stays
bounded without damping.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from labs import events as ev
from labs.context import RunContext
from labs.pde.march import march

if TYPE_CHECKING:
    from labs.pde.lab import PdeParams

KERNEL = np.array([[0.5, 1.0, 0.5], [1.0, -6.0, 1.0], [0.5, 1.0, 0.5]], dtype=np.float32)
# The largest eigenvalue of -L: the checkerboard (and every mode with cos θx = -1) reaches 8.
LAMBDA_MAX = 8.0


def stable_eps(damping: float) -> float:
    """The largest stable eps of symplectic Euler with this damping.

    One step maps a mode (u, u_t) of -L's eigenvalue λ by [[1 - e²λ, e(1 - e·d)], [-eλ, 1 - e·d]]:
    determinant 1 - e·d, trace 2 - e²λ - e·d. Both roots stay in the unit circle while
    |det| <= 1 and |trace| < 1 + det, that is 0 <= e·d <= 2 and e²λ + 2e·d < 4 (undamped, det
    is 1 and the roots are a rotation: bounded). The second is the tighter, hardest at λmax:
    e < (√(d² + 4λmax) - d) / λmax.
    """
    return (math.sqrt(damping**2 + 4 * LAMBDA_MAX) - damping) / LAMBDA_MAX


def laplacian_numpy(u: np.ndarray) -> np.ndarray:
    p = np.pad(u, 1)
    out = np.zeros_like(u)
    for dy in range(3):
        for dx in range(3):
            out += KERNEL[dy, dx] * p[dy : dy + u.shape[0], dx : dx + u.shape[1]]
    return out


def energy(u: np.ndarray, ut: np.ndarray) -> float:
    """Discrete energy ½Σ u_t² + ½Σ u·(-L u); constant for the exact undamped flow."""
    u64, ut64 = u.astype(np.float64), ut.astype(np.float64)
    return float(0.5 * (ut64**2).sum() - 0.5 * (u64 * laplacian_numpy(u64)).sum())


def steps_numpy(
    u: np.ndarray, ut: np.ndarray, eps: float, damping: float, steps: int, scheme: str
) -> tuple[np.ndarray, np.ndarray]:
    """The reference: the same updates in plain NumPy."""
    u, ut = np.array(u, np.float32), np.array(ut, np.float32)
    e, d = np.float32(eps), np.float32(damping)
    for _ in range(steps):
        if scheme == "tutorial":
            u, ut = u + e * ut, ut + e * (laplacian_numpy(u) - d * ut)
        else:
            ut = ut + e * (laplacian_numpy(u) - d * ut)
            u = u + e * ut
    return u, ut


def make_stepper(eps: float, damping: float, scheme: str) -> Any:
    """A compiled ``advance(u, ut, n)``: n steps on the device."""
    import tensorflow as tf

    e, d = tf.constant(eps, tf.float32), tf.constant(damping, tf.float32)
    k = [[float(v) for v in row] for row in KERNEL]

    def laplacian(u: tf.Tensor) -> tf.Tensor:
        # Zero outside the pond; nine shifted slices, which XLA fuses into one loop.
        p = tf.pad(u, [[1, 1], [1, 1]])
        h, w = tf.shape(u)[0], tf.shape(u)[1]
        return tf.add_n([k[dy][dx] * p[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)])

    def step(u: tf.Tensor, ut: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if scheme == "tutorial":
            return u + e * ut, ut + e * (laplacian(u) - d * ut)
        ut = ut + e * (laplacian(u) - d * ut)
        return u + e * ut, ut

    @tf.function(jit_compile=True)
    def advance(u: tf.Tensor, ut: tf.Tensor, n: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        _, u, ut = tf.while_loop(lambda i, _u, _v: i < n, lambda i, a, b: (i + 1, *step(a, b)), (0, u, ut))
        return u, ut

    return advance


def raindrops(grid: int, drops: int, seed: int) -> np.ndarray:
    """The tutorial's initial pond: a few random cells set to random heights."""
    rng = np.random.default_rng(seed)
    u = np.zeros((grid, grid), np.float32)
    u[rng.integers(0, grid, drops), rng.integers(0, grid, drops)] = rng.uniform(0, 1, drops)
    return u


def checkerboard_amplitude(u: np.ndarray) -> float:
    """The field's projection on the (-1)^(i+j) mode, the one the tutorial's scheme amplifies."""
    signs = np.indices(u.shape).sum(axis=0) % 2 * 2 - 1
    return float(abs((u * signs).mean()))


def run(p: PdeParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import tensorflow as tf

    u0 = raindrops(p.grid, p.drops, ctx.seed)
    ut0 = np.zeros_like(u0)
    energy0 = energy(u0, ut0)
    yield ev.Log(
        f"wave equation on a {p.grid}x{p.grid} pond, {p.drops} drops, eps {p.eps:g}, "
        f"damping {p.damping:g}, {p.scheme} scheme"
    )
    yield ctx.frame("u", 0, u0, signed=True)

    def report(step: int, fields: tuple[np.ndarray, ...], rate: float) -> Iterable[ev.Event]:
        u, ut = fields
        values = {
            "energy": energy(u, ut),
            "checkerboard": checkerboard_amplitude(u),
            "max_abs": float(np.abs(u).max()),
            "steps_per_s": rate,
        }
        return ev.Metric(step=step, values=values), ctx.frame("u", step, u, signed=True)

    advance = make_stepper(p.eps, p.damping, p.scheme)
    state = (tf.constant(u0), tf.constant(ut0))
    (u, ut), _ = yield from march(advance, state, p.steps, p.frame_every, report, f"the {p.scheme} scheme")
    for name, final in (("u", u), ("ut", ut)):
        yield ctx.save_array(name, final, f"final {name}")
        yield ctx.save_heatmap_png(name, final, signed=True)
    e = energy(u, ut)
    return {"steps": p.steps, "energy": e, "energy_change_pct": 100 * (e - energy0) / energy0}
