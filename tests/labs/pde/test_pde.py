"""The heat-equation lab's numerics, without the runner (TensorFlow in this process)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from labs import events as ev
from labs.context import Diverged, RunContext
from labs.params import ParamError
from labs.pde import heat as pde
from labs.pde.heat import analytic_gaussian, heat_steps_numpy, initial_field, make_heat_stepper
from labs.pde.lab import PdeParams
from tests.support import drain


def advance(u0: np.ndarray, alpha: float, steps: int, boundary: str) -> np.ndarray:
    stepper = make_heat_stepper(alpha, boundary)
    return stepper(tf.constant(u0), tf.constant(steps)).numpy()


@pytest.mark.parametrize("boundary", ["fixed", "periodic"])
def test_tensorflow_stepper_matches_numpy_reference(boundary: str) -> None:
    rng = np.random.default_rng(7)
    # A rough field (white noise), not square, so a transposed stencil or a wrong roll shows.
    u0 = rng.random((40, 52), dtype=np.float32)
    if boundary == "fixed":
        u0[0, :] = u0[-1, :] = u0[:, 0] = u0[:, -1] = 0.0
    got = advance(u0, 0.23, 60, boundary)
    want = heat_steps_numpy(u0, 0.23, 60, boundary)
    assert got.shape == want.shape == u0.shape
    assert got.dtype == np.float32
    # Same float32 arithmetic; only the order of additions (and fused multiply-adds) may differ.
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
    # And the field actually moved: the test compares stepping, not two copies of u0.
    assert np.abs(got - u0).max() > 0.1


def test_fixed_boundary_keeps_edges_at_zero() -> None:
    p = PdeParams(grid=32, initial="square", boundary="fixed")
    u = advance(initial_field(p, 0), 0.25, 300, "fixed")
    assert np.all(u[0, :] == 0) and np.all(u[-1, :] == 0)
    assert np.all(u[:, 0] == 0) and np.all(u[:, -1] == 0)
    assert u.max() > 0


def test_periodic_boundary_conserves_mass() -> None:
    p = PdeParams(grid=64, boundary="periodic", initial="drops")
    u0 = initial_field(p, seed=3)
    u = advance(u0, 0.25, 2000, "periodic")
    mass0, mass = u0.sum(dtype=np.float64), u.sum(dtype=np.float64)
    assert mass0 > 1.0
    assert abs(mass - mass0) / mass0 < 1e-5
    # It diffused (so the check is not on an unchanged field): the drops flattened out.
    assert u.max() < 0.5 * u0.max()


def test_fixed_boundary_loses_mass() -> None:
    """Heat flows out through u = 0 edges: a periodic-only mass check would miss a wrong boundary."""
    p = PdeParams(grid=32, boundary="fixed", initial="drops")
    u0 = initial_field(p, seed=3)
    u = advance(u0, 0.25, 2000, "fixed")
    assert u.sum(dtype=np.float64) < 0.9 * u0.sum(dtype=np.float64)


def test_gaussian_matches_the_analytic_solution() -> None:
    # grid 128: sigma starts at 8 cells; after t = 40 (200 steps of dt = 0.2, D = 1) the
    # variance is 8² + 2·D·t = 144, sigma = 12, so the edges (63.5 cells from the centre,
    # over 5 sigma) hold < 1e-6: the fixed u = 0 boundary is invisible and the
    # infinite-plane solution applies.
    #
    # What remains is the scheme's own error: the 5-point Laplacian's O(dx²) truncation
    # (dx²/12 · D · u_xxxx, and u_xxxx ~ 3·peak/sigma⁴) and explicit Euler's O(dt) error
    # (dt/2 · u_tt), integrated over t = 40. Both come to a few 1e-4 on a peak of ~0.44
    # (measured: 2.6e-4), so atol 1e-3 has margin; a wrong diffusion rate or time does
    # not fit in it (a 10% longer time lowers the peak by ~0.02).
    grid, dt, steps = 128, 0.2, 200
    p = PdeParams(grid=grid, dt=dt, boundary="fixed", initial="gaussian")
    u = advance(initial_field(p, 0), p.diffusivity * dt, steps, "fixed")
    want = analytic_gaussian(grid, p.diffusivity, steps * dt)
    assert want[0, :].max() < 1e-6
    np.testing.assert_allclose(u, want, rtol=0, atol=1e-3)
    assert np.abs(u - analytic_gaussian(grid, p.diffusivity, 1.1 * steps * dt)).max() > 1e-2


def test_blow_up_raises_floating_point_error_naming_the_step(tmp_path: Path) -> None:
    """The non-finite check of ``labs.pde.run``.

    Validated parameters are always stable, so the blow-up is reached the way an
    unchecked record would: a PdeParams built without ``__post_init__`` with
    alpha = 1 (four times the stable limit). The square's sharp edges seed the
    fastest-growing mode at amplitude ~1; it grows ~7x a step, so float32
    overflows (~1e38) after about 45 steps: the first check, at step 100, sees it.
    """
    with pytest.raises(ParamError, match="0.25"):
        PdeParams(grid=32, dt=1.0)
    values = {f.name: f.default for f in dataclasses.fields(PdeParams)}
    values.update(grid=32, dt=1.0, steps=300, frame_every=100, initial="square")
    unstable = object.__new__(PdeParams)
    for name, value in values.items():
        object.__setattr__(unstable, name, value)

    ctx = RunContext(run_dir=tmp_path, seed=0, device="cpu")
    seen: list[ev.Event] = []
    with pytest.raises(Diverged, match=r"by step 100\b") as info:
        for event in pde.run(unstable, ctx):
            seen.append(event)
    assert "alpha = 1" in str(info.value)
    # It got as far as the initial frame, and reported no metric from the blown-up field.
    assert [e.step for e in seen if isinstance(e, ev.Frame)] == [0]
    assert not any(isinstance(e, ev.Metric) for e in seen)


def test_run_generator_reports_frames_metrics_and_artifacts(tmp_path: Path) -> None:
    p = PdeParams(grid=32, steps=120, frame_every=50, boundary="periodic")
    ctx = RunContext(run_dir=tmp_path, seed=0, device="cpu")
    seen, summary = drain(pde.run(p, ctx))
    metrics = [e for e in seen if isinstance(e, ev.Metric)]
    assert [m.step for m in metrics] == [50, 100, 120]  # the last chunk is the remainder
    assert [f.step for f in seen if isinstance(f, ev.Frame)] == [0, 50, 100, 120]
    assert summary["steps"] == 120
    assert summary["t"] == pytest.approx(120 * p.dt)
    assert abs(summary["mass_change_pct"]) < 1e-3  # periodic: mass is conserved
    final = np.load(tmp_path / "artifacts" / "u.npy")
    assert final.shape == (32, 32)
    assert summary["mass"] == pytest.approx(float(final.sum(dtype=np.float64)))
    assert (tmp_path / "artifacts" / "u.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
