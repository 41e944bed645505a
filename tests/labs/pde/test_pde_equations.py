"""The pde lab's other equations, each against a known answer and its NumPy reference.

TensorFlow runs in this process (no runner): these test the numerics.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from labs import events as ev
from labs.context import RunContext
from labs.params import ParamError, build
from labs.pde import fractal, gray_scott, poisson, wave
from labs.pde.lab import EQUATIONS, LAB, PdeParams, run
from tests.support import drain

# -- wave ---------------------------------------------------------------------


def _wave(
    u: np.ndarray, eps: float, damping: float, steps: int, scheme: str
) -> tuple[np.ndarray, np.ndarray]:
    advance = wave.make_stepper(eps, damping, scheme)
    a, b = advance(tf.constant(u), tf.constant(np.zeros_like(u)), tf.constant(steps))
    return a.numpy(), b.numpy()


@pytest.mark.parametrize("scheme", ["symplectic", "tutorial"])
def test_wave_tensorflow_matches_numpy(scheme: str) -> None:
    u0 = wave.raindrops(48, 30, seed=1)
    got_u, got_ut = _wave(u0, 0.1, 0.04, 60, scheme)
    want_u, want_ut = wave.steps_numpy(u0, np.zeros_like(u0), 0.1, 0.04, 60, scheme)
    # Same float32 updates; only the order of the nine kernel terms may differ.
    np.testing.assert_allclose(got_u, want_u, atol=1e-5)
    np.testing.assert_allclose(got_ut, want_ut, atol=1e-5)
    assert np.abs(got_u - u0).max() > 0.01  # the pond moved


def test_symplectic_energy_stays_bounded_without_damping() -> None:
    u = wave.raindrops(96, 40, seed=0)
    ut = np.zeros_like(u)
    e0 = wave.energy(u, ut)
    advance = wave.make_stepper(0.1, 0.0, "symplectic")
    a, b = tf.constant(u), tf.constant(ut)
    ratios = []
    for _ in range(20):
        a, b = advance(a, b, tf.constant(150))
        ratios.append(wave.energy(a.numpy(), b.numpy()) / e0)
    # Symplectic Euler conserves a modified energy; the discrete energy itself
    # oscillates by O(eps² λmax) = 0.08 at most here, and never drifts.
    assert max(abs(r - 1) for r in ratios) < 0.08
    assert abs(ratios[-1] - ratios[9]) < 0.08


def test_damping_drains_the_energy() -> None:
    u = wave.raindrops(64, 40, seed=0)
    e0 = wave.energy(u, np.zeros_like(u))
    a, b = _wave(u, 0.1, 0.5, 1000, "symplectic")
    # Velocity damping 0.5 over t = 100 removes energy at rate ~0.5: e^-50 of it remains at most.
    assert wave.energy(a, b) < 0.01 * e0


def test_the_tutorial_scheme_grows_the_checkerboard_and_symplectic_does_not() -> None:
    u = wave.raindrops(64, 40, seed=2)
    u += 1e-3 * (np.indices(u.shape).sum(axis=0) % 2 * 2 - 1).astype(np.float32)
    start = wave.checkerboard_amplitude(u)
    tutorial, _ = _wave(u, 0.03, 0.04, 1000, "tutorial")
    symplectic, _ = _wave(u, 0.03, 0.04, 1000, "symplectic")
    # Forward Euler multiplies that mode by sqrt(1 - eps·d + 8 eps²) ≈ 1.003 a step: ~20x in 1000 steps.
    assert wave.checkerboard_amplitude(tutorial) > 5 * start
    assert wave.checkerboard_amplitude(symplectic) < start


def test_unstable_wave_step_is_refused_with_the_limit() -> None:
    limit = r"eps must stay below \(√\(damping² \+ 32\) - damping\)/8"
    with pytest.raises(ParamError, match=limit + r" = 0\.7021"):  # the default damping 0.04
        build(PdeParams, {"equation": "wave", "eps": "0.8"})
    with pytest.raises(ParamError, match=r"with damping 3: " + limit + r" = 0\.4254"):
        build(PdeParams, {"equation": "wave", "eps": "0.6", "damping": "3"})
    build(PdeParams, {"equation": "wave", "eps": "0.8", "scheme": "tutorial"})  # shown, not refused


@pytest.mark.parametrize(("share", "stable"), [(0.95, True), (1.05, False)])
def test_the_damped_stability_limit_is_where_the_stepping_turns(share: float, stable: bool) -> None:
    damping = 3.0
    u = wave.raindrops(32, 10, seed=0)
    u += 1e-3 * (np.indices(u.shape).sum(axis=0) % 2 * 2 - 1).astype(np.float32)  # the fastest mode
    a, b = _wave(u, share * wave.stable_eps(damping), damping, 300, "symplectic")
    # Just above the limit the checkerboard grows about 1.2x a step (1e23 in 300 steps);
    # just below, every mode decays, as damping 3 makes it.
    grown = not np.isfinite(a).all() or np.abs(a).max() > 1e6
    assert grown is not stable
    if stable:
        assert wave.energy(a, b) < wave.energy(u, np.zeros_like(u))


# -- gray-scott ---------------------------------------------------------------


def _gray_scott(preset: str, grid: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    feed, kill = gray_scott.PRESETS[preset]
    u0, v0 = gray_scott.initial_state(grid, seed=0)
    u, v = gray_scott.make_stepper(feed, kill)(tf.constant(u0), tf.constant(v0), tf.constant(steps))
    return u.numpy(), v.numpy()


@pytest.mark.slow
def test_gray_scott_tensorflow_matches_numpy() -> None:
    feed, kill = gray_scott.PRESETS["stripes"]
    u0, v0 = gray_scott.initial_state(48, seed=0)
    u, v = gray_scott.make_stepper(feed, kill)(tf.constant(u0), tf.constant(v0), tf.constant(200))
    want_u, want_v = gray_scott.steps_numpy(u0, v0, feed, kill, 200)
    # A nonlinear map in float32: rounding differences grow a little over 200 steps.
    np.testing.assert_allclose(u.numpy(), want_u, atol=1e-4)
    np.testing.assert_allclose(v.numpy(), want_v, atol=1e-4)


@pytest.mark.parametrize("preset", list(gray_scott.PRESETS))
@pytest.mark.slow
def test_gray_scott_stays_in_the_unit_square_and_keeps_its_fixed_point(preset: str) -> None:
    u, v = _gray_scott(preset, 64, 3000)
    assert 0 <= u.min() and u.max() <= 1 and 0 <= v.min() and v.max() <= 1
    ones, zeros = np.ones((32, 32), np.float32), np.zeros((32, 32), np.float32)
    fu, fv = gray_scott.make_stepper(0.03, 0.055)(tf.constant(ones), tf.constant(zeros), tf.constant(500))
    assert np.array_equal(fu.numpy(), ones) and np.array_equal(fv.numpy(), zeros)


def _blobs(mask: np.ndarray) -> list[np.ndarray]:
    """Connected components (4-neighbours, periodic) of a boolean field."""
    label = np.zeros(mask.shape, int)
    height, width = mask.shape
    found = []
    for i, j in zip(*np.nonzero(mask), strict=True):
        if label[i, j]:
            continue
        label[i, j] = len(found) + 1
        stack, cells = [(i, j)], []
        while stack:
            a, b = stack.pop()
            cells.append((a, b))
            for x, y in (
                ((a + 1) % height, b),
                ((a - 1) % height, b),
                (a, (b + 1) % width),
                (a, (b - 1) % width),
            ):
                if mask[x, y] and not label[x, y]:
                    label[x, y] = len(found) + 1
                    stack.append((x, y))
        found.append(label == len(found) + 1)
    return found


def _elongation(blob: np.ndarray) -> float:
    """Perimeter² / area: about 16-20 for a compact blob of cells, far more for a stripe."""
    perimeter = (blob != np.roll(blob, 1, 0)).sum() + (blob != np.roll(blob, 1, 1)).sum()
    return float(perimeter**2 / blob.sum())


def _pattern(preset: str) -> list[np.ndarray]:
    """The blobs of the minority phase of v (the spots, or the stripes) after 20,000 steps."""
    _, v = _gray_scott(preset, 128, 20_000)
    high = v > (v.min() + v.max()) / 2
    return _blobs(high if high.mean() < 0.5 else ~high)


@pytest.mark.slow
def test_spots_give_many_round_blobs_and_stripes_long_ones() -> None:
    spots, stripes = _pattern("spots"), _pattern("stripes")
    # Measured: 69 spots of median elongation 21; 6 stripes of median elongation 274.
    assert len(spots) >= 30
    assert np.median([_elongation(b) for b in spots]) < 30
    assert len(stripes) < len(spots) / 3
    assert np.median([_elongation(b) for b in stripes]) > 60


# -- poisson ------------------------------------------------------------------


def _solve(f: np.ndarray, kind: str, dtype: str = "float64") -> tuple[np.ndarray, float]:
    u, mean = poisson.make_solver(f.shape[0], kind, dtype)(tf.constant(f, dtype))
    return u.numpy(), float(mean.numpy())


def test_spectral_solve_of_a_manufactured_solution_is_exact() -> None:
    u_exact, f = poisson.manufactured(64)
    u, mean = _solve(f, "spectral")
    # sin x · sin 2y is band-limited: only float64 rounding remains.
    assert np.abs(u - u_exact).max() < 1e-12
    assert abs(mean) < 1e-12


def test_five_point_symbol_is_second_order() -> None:
    errors = []
    for n in (32, 64, 128):
        u_exact, f = poisson.manufactured(n)
        errors.append(np.abs(_solve(f, "5-point")[0] - u_exact).max())
    # Halving h divides a second-order error by 4.
    for coarse, fine in zip(errors, errors[1:], strict=False):
        assert 3.8 < coarse / fine < 4.2


def test_the_zero_mode_is_removed_and_reported() -> None:
    rng = np.random.default_rng(0)
    f = rng.standard_normal((32, 32)) + 3.0
    u, mean = _solve(f, "5-point")
    assert mean == pytest.approx(f.mean())
    assert abs(u.mean()) < 1e-12
    assert np.abs(poisson.laplacian(u, "5-point") - (f - f.mean())).max() < 1e-10
    np.testing.assert_allclose(u, poisson.make_numpy_solver(32, "5-point")(f), atol=1e-12)


def test_float32_solve_matches_numpy_within_float32_rounding() -> None:
    f = poisson.source(128, "random", 0).astype(np.float32)
    u, _ = _solve(f, "spectral", "float32")
    reference = poisson.make_numpy_solver(128, "spectral", "float32")(f)
    assert u.dtype == np.float32
    # Two FFTs of 128² points: each output sums many terms, so rounding grows
    # like log2(n²) ≈ 14 float32 epsilons (1.2e-7) of the field's largest value.
    assert np.abs(u - reference).max() < 50 * 1.2e-7 * np.abs(reference).max()
    u_exact, f = poisson.manufactured(64)
    u, _ = _solve(f.astype(np.float32), "spectral", "float32")
    assert np.abs(u - u_exact).max() < 1e-6


# -- mandelbrot and julia -----------------------------------------------------


def _counts(width: int, iterations: int, julia_c: complex | None = None) -> tuple[np.ndarray, float]:
    plane, pixel_area = (
        fractal.window(-0.5, 0.0, 1.0, width) if julia_c is None else fractal.window(0, 0, 1, width)
    )
    c = tf.constant(plane if julia_c is None else np.full_like(plane, julia_c))
    z = tf.zeros_like(c) if julia_c is None else tf.constant(plane)
    _, counts = fractal.make_iterator(julia_c)(
        z, c, tf.zeros(plane.shape, tf.float32), tf.constant(iterations)
    )
    return counts.numpy(), pixel_area


def test_the_julia_window_is_centred_on_the_set_by_default() -> None:
    p = build(PdeParams, {"equation": "julia"})
    plane, _ = fractal.window(p.centre_x, p.centre_y, p.zoom, 120)
    counts = fractal.counts_numpy(plane, 60, complex(p.c_re, p.c_im))
    # A Julia set is symmetric under z -> -z: a window centred on 0 shows it turned half a turn
    # onto itself (a few pixels on the set's edge may round either way).
    assert (counts == counts[::-1, ::-1]).mean() > 0.99


@pytest.mark.parametrize("julia_c", [None, complex(-0.8, 0.156)])
def test_escape_counts_match_numpy(julia_c: complex | None) -> None:
    counts, _ = _counts(120, 60, julia_c)
    plane, _ = fractal.window(-0.5, 0.0, 1.0, 120) if julia_c is None else fractal.window(0, 0, 1, 120)
    want = fractal.counts_numpy(plane, 60, julia_c)
    # complex64 on both sides; a fused multiply-add can tip a pixel on the set's edge.
    assert (counts == want).mean() > 0.999


def test_a_zoom_past_what_complex64_resolves_is_refused_with_the_limit() -> None:
    top, _ = fractal.zoom_limit(-0.5, 0.0, 400)
    # At the limit neighbouring pixels are still distinct numbers; at 4x it, some coincide.
    at_limit, _ = fractal.window(-0.5, 0.0, top, 400)
    past, _ = fractal.window(-0.5, 0.0, 4 * top, 400)
    assert (np.diff(at_limit.real[0]) > 0).all() and (np.diff(at_limit.imag[:, 0]) < 0).all()
    assert (np.diff(past.real[0]) == 0).any()
    build(PdeParams, {"equation": "mandelbrot", "grid": "400", "zoom": str(top)})
    with pytest.raises(
        ParamError, match=r"past what complex64 resolves: .* the largest zoom here is 6\.29e\+04"
    ):
        build(PdeParams, {"equation": "mandelbrot", "grid": "400", "zoom": str(2 * top)})


def test_mandelbrot_area_estimate() -> None:
    areas = {}
    for iterations in (100, 200, 400):
        counts, pixel_area = _counts(600, iterations)
        areas[iterations] = (counts >= iterations).sum() * pixel_area
    # More iterations only remove pixels, so the estimates close in on the set's area from
    # above (at 600 pixels across, 1.546, 1.526, 1.516); at the default 200 the pixel grid
    # and the unresolved boundary leave the estimate within 0.03 of it.
    errors = [areas[i] - fractal.MANDELBROT_AREA for i in (100, 200, 400)]
    assert errors[0] > errors[1] > errors[2] > 0
    assert errors[1] < 0.03


# -- every equation as a lab run ----------------------------------------------

SMALL = {"grid": 24, "steps": 40, "frame_every": 20, "iterations": 20}


@pytest.mark.parametrize("equation", EQUATIONS)
@pytest.mark.slow
def test_every_equation_runs_to_a_summary(equation: str, tmp_path: Path) -> None:
    params = dataclasses.replace(PdeParams(), equation=equation, **SMALL)
    events, summary = drain(run(params, RunContext(tmp_path, seed=0, device="cpu")))
    assert any(isinstance(e, ev.Frame) for e in events)
    assert any(isinstance(e, ev.Metric) for e in events)
    artifacts = [e.path for e in events if isinstance(e, ev.Artifact)]
    assert artifacts and all((tmp_path / a).is_file() for a in artifacts)
    assert summary


def test_the_fractals_window_is_moved_by_the_lab_and_other_equations_have_none() -> None:
    assert LAB.reframe is not None
    heat = dataclasses.asdict(build(PdeParams, {"equation": "heat"}))
    assert LAB.reframe(heat, 2.0, 0, 0) is None
    window = dataclasses.asdict(build(PdeParams, {"equation": "julia", "zoom": "4", "centre_x": "0.5"}))
    assert LAB.reframe(window, 2.0, 0, 0) == {"zoom": 8.0}  # about the same centre
    step = fractal.HALF_HEIGHT / 2 / 4
    assert LAB.reframe(window, 1.0, -1, 0) == {"centre_x": 0.5 - step}
    assert LAB.reframe(window, 1.0, 0, 1) == {"centre_y": window["centre_y"] + step}
