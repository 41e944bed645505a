"""Every pde equation: compiled TensorFlow against its NumPy reference, side by side in one run.

Also the heat stepping's scaling with grid size, and its effective memory
bandwidth against a measured copy bandwidth of this machine.
Run: python benchmarks/bench_pde.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from labs.pde import fractal, gray_scott, heat, poisson, wave  # noqa: E402

REPEATS = 5  # best of five: the least disturbed measurement


def best_rate(work: Callable[[int], object], count: int) -> float:
    """Units of work per second for ``work(count)``, best of REPEATS."""
    return side_by_side((work, count))[0]


def side_by_side(*works: tuple[Callable[[int], object], int]) -> list[float]:
    """Units per second of each ``(work, count)``, best of REPEATS rounds.

    The works take turns within each round, so a slow spell of this shared
    machine slows every side alike instead of skewing the ratio.
    """
    best = [float("inf")] * len(works)
    for _ in range(REPEATS):
        for i, (work, count) in enumerate(works):
            start = time.perf_counter()
            work(count)
            best[i] = min(best[i], time.perf_counter() - start)
    return [count / seconds for (_, count), seconds in zip(works, best, strict=True)]


def row(name: str, unit: str, tf_rate: float, np_rate: float, target: float | None) -> None:
    ratio = tf_rate / np_rate
    verdict = "" if target is None else ("ok" if ratio >= target else "BELOW")
    goal = "-" if target is None else f"{target:.1f}x"
    print(f"{name:<32} {unit:<9} {tf_rate:>11.1f} {np_rate:>11.1f} {ratio:>7.2f}x {goal:>7} {verdict}")


def bench_heat(n: int = 512) -> None:
    u0 = np.random.default_rng(0).random((n, n)).astype(np.float32)
    advance = heat.make_heat_stepper(0.2, "fixed")
    u = tf.constant(u0)
    advance(u, tf.constant(0))
    tf_rate, np_rate = side_by_side(
        (lambda s: advance(u, tf.constant(s)).numpy(), 2000),
        (lambda s: heat.heat_steps_numpy(u0, 0.2, s, "fixed"), 300),
    )
    row(f"heat {n}x{n} (fixed)", "steps/s", tf_rate, np_rate, 3.5)


def bench_wave(n: int = 500) -> None:
    u0 = wave.raindrops(n, 40, 0)
    ut0 = np.zeros_like(u0)
    advance = wave.make_stepper(0.03, 0.04, "symplectic")
    u, ut = tf.constant(u0), tf.constant(ut0)
    advance(u, ut, tf.constant(0))
    tf_rate, np_rate = side_by_side(
        (lambda s: advance(u, ut, tf.constant(s))[0].numpy(), 500),
        (lambda s: wave.steps_numpy(u0, ut0, 0.03, 0.04, s, "symplectic"), 50),
    )
    row(f"wave {n}x{n} (symplectic)", "steps/s", tf_rate, np_rate, None)


def bench_gray_scott(n: int = 256) -> None:
    feed, kill = gray_scott.PRESETS["spots"]
    u0, v0 = gray_scott.initial_state(n, 0)
    advance = gray_scott.make_stepper(feed, kill)
    u, v = tf.constant(u0), tf.constant(v0)
    advance(u, v, tf.constant(0))
    tf_rate, np_rate = side_by_side(
        (lambda s: advance(u, v, tf.constant(s))[0].numpy(), 2000),
        (lambda s: gray_scott.steps_numpy(u0, v0, feed, kill, s), 200),
    )
    row(f"gray-scott {n}x{n}", "steps/s", tf_rate, np_rate, 3.0)


def bench_mandelbrot(width: int = 600, iterations: int = 200) -> None:
    plane, _ = fractal.window(-0.5, 0.0, 1.0, width)
    advance = fractal.make_iterator(None)
    c = tf.constant(plane)
    zeros = tf.zeros(plane.shape, tf.float32)
    advance(tf.zeros_like(c), c, zeros, tf.constant(0))

    def tf_sets(count: int) -> None:
        for _ in range(count):
            advance(tf.zeros_like(c), c, zeros, tf.constant(iterations))[1].numpy()

    def np_sets(count: int) -> None:
        for _ in range(count):
            fractal.counts_numpy(plane, iterations)

    name = f"mandelbrot {plane.shape[1]}x{plane.shape[0]}x{iterations}"
    row(name, "sets/s", *side_by_side((tf_sets, 5), (np_sets, 1)), 2.5)


def bench_poisson(n: int = 512, dtype: str = "float64", target: float | None = None) -> None:
    f = poisson.source(n, "random", 0).astype(dtype)
    solve = poisson.make_solver(n, "spectral", dtype)
    solve_numpy = poisson.make_numpy_solver(n, "spectral", dtype)
    ft = tf.constant(f)
    solve(ft)

    def tf_solves(count: int) -> None:
        for _ in range(count):
            solve(ft)[0].numpy()

    def np_solves(count: int) -> None:
        for _ in range(count):
            solve_numpy(f)

    rates = side_by_side((tf_solves, 20), (np_solves, 20))
    row(f"poisson {n}x{n} (rfft, {dtype})", "solves/s", *rates, target)


def copy_bandwidth(n: int) -> float:
    """GB/s of a NumPy copy of an n×n float32 array (read + write counted)."""
    src, dst = np.random.default_rng(0).random((n, n)).astype(np.float32), np.empty((n, n), np.float32)
    rate = best_rate(lambda k: [np.copyto(dst, src) for _ in range(k)], 200)
    return rate * 2 * src.nbytes / 1e9


def heat_scaling() -> None:
    header = f"{'TF µs/step':>11} {'NumPy µs/step':>14} {'TF GB/s':>8} {'copy GB/s':>10} {'TF/copy':>8}"
    print(f"\n{'heat grid':<10} {header}")
    for n in (256, 512, 1024, 2048):
        u0 = np.random.default_rng(0).random((n, n)).astype(np.float32)
        advance = heat.make_heat_stepper(0.2, "fixed")
        u = tf.constant(u0)
        advance(u, tf.constant(0))
        steps = max(20, 2_000_000_000 // (n * n * 100))
        tf_rate, np_rate = side_by_side(
            (lambda s, a=advance, u=u: a(u, tf.constant(s)).numpy(), steps),
            (lambda s, u0=u0: heat.heat_steps_numpy(u0, 0.2, s, "fixed"), max(5, steps // 10)),
        )
        # A step reads u and writes the new u at least once: 8 bytes a cell.
        tf_bw = tf_rate * 8 * n * n / 1e9
        copy = copy_bandwidth(n)
        times = f"{1e6 / tf_rate:>11.1f} {1e6 / np_rate:>14.1f}"
        print(f"{n:<10} {times} {tf_bw:>8.1f} {copy:>10.1f} {tf_bw / copy:>7.2f}x")


if __name__ == "__main__":
    print(
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, devices: "
        f"{[d.device_type for d in tf.config.list_physical_devices()]}\n"
    )
    print(f"{'equation':<32} {'unit':<9} {'TF':>11} {'NumPy':>11} {'TF/NumPy':>8} {'target':>7}")
    bench_heat()
    bench_wave()
    bench_gray_scott()
    bench_mandelbrot()
    bench_poisson(dtype="float64")
    bench_poisson(dtype="float32", target=2.0)
    heat_scaling()
