"""Every pde equation: compiled TensorFlow against its NumPy reference, side by side in one run.

Also each stepped equation's (and Poisson's) time per step by grid size, and
the heat stepping's effective memory bandwidth against a measured copy
bandwidth of this machine.

Each comparison runs in a fresh process: glibc's allocator raises its mmap
threshold after a large block is freed, which makes NumPy's FFT temporaries
cheaper (the Poisson solve up to 2.7x faster), so in one process a row's
NumPy speed would depend on the rows before it.
Run: python benchmarks/bench_pde.py  (one row: --one NAME)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from labs.pde import fractal, gray_scott, heat, poisson, wave  # noqa: E402

REPEATS = 5  # best of five: the least disturbed measurement
# One side of a comparison: work(count) does count units; count units take about 0.1-0.3 s.
Side = tuple[Callable[[int], object], int]


def best_rate(work: Callable[[int], object], count: int) -> float:
    """Units of work per second for ``work(count)``, best of REPEATS."""
    return side_by_side((work, count))[0]


def side_by_side(*works: Side) -> list[float]:
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
    print(f"{name:<40} {unit:<9} {tf_rate:>11.1f} {np_rate:>11.1f} {ratio:>7.2f}x {goal:>7} {verdict}")


def scaled(count: int, n: int, n0: int) -> int:
    """The count that keeps a side's time about the same on an n-grid as count on an n0-grid."""
    return max(2, round(count * (n0 / n) ** 2))


def heat_sides(n: int = 512) -> tuple[Side, Side]:
    u0 = np.random.default_rng(0).random((n, n)).astype(np.float32)
    advance = heat.make_heat_stepper(0.2, "fixed")
    u = tf.constant(u0)
    advance(u, tf.constant(0))
    return (
        (lambda s: advance(u, tf.constant(s)).numpy(), scaled(2000, n, 512)),
        (lambda s: heat.heat_steps_numpy(u0, 0.2, s, "fixed"), scaled(300, n, 512)),
    )


def wave_sides(n: int = 500) -> tuple[Side, Side]:
    u0 = wave.raindrops(n, 40, 0)
    ut0 = np.zeros_like(u0)
    advance = wave.make_stepper(0.03, 0.04, "symplectic")
    u, ut = tf.constant(u0), tf.constant(ut0)
    advance(u, ut, tf.constant(0))
    return (
        (lambda s: advance(u, ut, tf.constant(s))[0].numpy(), scaled(500, n, 500)),
        (lambda s: wave.steps_numpy(u0, ut0, 0.03, 0.04, s, "symplectic"), scaled(50, n, 500)),
    )


def gray_scott_sides(n: int = 256) -> tuple[Side, Side]:
    feed, kill = gray_scott.PRESETS["spots"]
    u0, v0 = gray_scott.initial_state(n, 0)
    advance = gray_scott.make_stepper(feed, kill)
    u, v = tf.constant(u0), tf.constant(v0)
    advance(u, v, tf.constant(0))
    return (
        (lambda s: advance(u, v, tf.constant(s))[0].numpy(), scaled(2000, n, 256)),
        (lambda s: gray_scott.steps_numpy(u0, v0, feed, kill, s), scaled(200, n, 256)),
    )


def mandelbrot_sides(width: int = 600, iterations: int = 200) -> tuple[Side, Side]:
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

    return (tf_sets, 5), (np_sets, 1)


def poisson_sides(n: int = 512, dtype: str = "float64", *, best: bool = False) -> tuple[Side, Side]:
    """The lab's solve against NumPy's real FFT; with best, NumPy writes into preallocated
    arrays (NumPy 2's ``out=``) and runs under TUNED_ALLOCATOR, its fastest found here."""
    f = poisson.source(n, "random", 0).astype(dtype)
    solve = poisson.make_solver(n, "spectral", dtype)
    make_numpy = numpy_solver_into_buffers if best else partial(poisson.make_numpy_solver, kind="spectral")
    solve_numpy = make_numpy(n, dtype=dtype)
    ft = tf.constant(f)
    solve(ft)

    def tf_solves(count: int) -> None:
        for _ in range(count):
            solve(ft)[0].numpy()

    def np_solves(count: int) -> None:
        for _ in range(count):
            solve_numpy(f)

    return (tf_solves, scaled(20, n, 512)), (np_solves, scaled(20, n, 512))


def numpy_solver_into_buffers(n: int, dtype: str) -> Callable[[np.ndarray], np.ndarray]:
    inverse = poisson.inverse_symbol(n, "spectral", dtype)
    spectrum = np.empty((n, n // 2 + 1), np.result_type(dtype, np.complex64))
    u = np.empty((n, n), dtype)

    def solve(f: np.ndarray) -> np.ndarray:
        np.fft.rfft2(f, out=spectrum)
        np.multiply(spectrum, inverse, out=spectrum)
        return np.fft.irfft2(spectrum, s=f.shape, out=u)

    return solve


def compare(name: str, unit: str, sides: tuple[Side, Side], target: float | None = None) -> None:
    row(name, unit, *side_by_side(*sides), target)


def copy_bandwidth(n: int) -> float:
    """GB/s of a NumPy copy of an n×n float32 array (read + write counted)."""
    src, dst = np.random.default_rng(0).random((n, n)).astype(np.float32), np.empty((n, n), np.float32)
    rate = best_rate(lambda k: [np.copyto(dst, src) for _ in range(k)], 200)
    return rate * 2 * src.nbytes / 1e9


GRIDS = (256, 512, 1024, 2048)


def scaling(name: str, make_sides: Callable[[int], tuple[Side, Side]], *, bandwidth: bool = False) -> None:
    """Time per step (or solve) by grid size; with bandwidth, also the effective memory
    bandwidth of a step that reads u and writes the new u once (8 bytes a cell) against a copy's."""
    for n in GRIDS:
        tf_rate, np_rate = side_by_side(*make_sides(n))
        times = f"{1e6 / tf_rate:>11.1f} {1e6 / np_rate:>14.1f} {tf_rate / np_rate:>7.2f}x"
        columns = ""
        if bandwidth:
            tf_bw, copy = tf_rate * 8 * n * n / 1e9, copy_bandwidth(n)
            columns = f" {tf_bw:>8.1f} {copy:>10.1f} {tf_bw / copy:>7.2f}x"
        print(f"{name:<16} {n:<6} {times}{columns}")


# Large blocks stay in the heap instead of being mapped and zeroed afresh on every allocation.
TUNED_ALLOCATOR = {
    "GLIBC_TUNABLES": f"glibc.malloc.mmap_threshold={64 << 20}:glibc.malloc.trim_threshold={128 << 20}"
}

# Each row's name, what prints it, and the environment it runs under.
ROWS: dict[str, tuple[Callable[[], None], dict[str, str]]] = {
    "heat": (lambda: compare("heat 512x512 (fixed)", "steps/s", heat_sides(), 3.5), {}),
    "wave": (lambda: compare("wave 500x500 (symplectic)", "steps/s", wave_sides()), {}),
    "gray-scott": (lambda: compare("gray-scott 256x256", "steps/s", gray_scott_sides(), 3.0), {}),
    "mandelbrot": (lambda: compare("mandelbrot 600x520x200", "sets/s", mandelbrot_sides(), 2.5), {}),
    "poisson-float64": (lambda: compare("poisson 512x512 (float64)", "solves/s", poisson_sides()), {}),
    "poisson-float32": (
        lambda: compare("poisson 512x512 (float32)", "solves/s", poisson_sides(dtype="float32"), 2.0),
        {},
    ),
    "poisson-float32-best": (
        lambda: compare(
            "poisson 512x512 (float32, best NumPy)", "solves/s", poisson_sides(dtype="float32", best=True)
        ),
        TUNED_ALLOCATOR,
    ),
    "heat-scaling": (lambda: scaling("heat", heat_sides, bandwidth=True), {}),
    "wave-scaling": (lambda: scaling("wave", wave_sides), {}),
    "gray-scott-scaling": (lambda: scaling("gray-scott", gray_scott_sides), {}),
    "poisson-scaling": (lambda: scaling("poisson float32", partial(poisson_sides, dtype="float32")), {}),
}
SCALING_HEADER = (
    f"\n{'scaling':<16} {'grid':<6} {'TF µs/step':>11} {'NumPy µs/step':>14} {'TF/NumPy':>8}"
    f" {'TF GB/s':>8} {'copy GB/s':>10} {'TF/copy':>8}"
)


def in_fresh_process(name: str) -> None:
    env = {**os.environ, **ROWS[name][1]}
    done = subprocess.run([sys.executable, __file__, "--one", name], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"{name} failed:\n{done.stderr}")
    print(done.stdout, end="", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        ROWS[sys.argv[2]][0]()
        sys.exit()
    print(
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, devices: "
        f"{[d.device_type for d in tf.config.list_physical_devices()]}\n"
    )
    print(f"{'equation':<40} {'unit':<9} {'TF':>11} {'NumPy':>11} {'TF/NumPy':>8} {'target':>7}")
    for name in ROWS:
        if name == "heat-scaling":
            print(SCALING_HEADER)
        in_fresh_process(name)
