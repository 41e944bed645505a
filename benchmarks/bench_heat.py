"""Heat-equation stepping: compiled TensorFlow (XLA) against plain NumPy, side by side.

Also runs the real headless lab (`meetup-lab run pde --headless --json`) and
reports the steps per second it measured, frames and recording included.
Run: python benchmarks/bench_heat.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_pde import side_by_side  # noqa: E402  (this folder is on sys.path for a script)

from labs.pde.heat import heat_steps_numpy, make_heat_stepper  # noqa: E402

ALPHA = 0.2


def stepping_table() -> dict[tuple[int, str], float]:
    """Print the side-by-side table; return the NumPy rates by (grid, boundary)."""
    numpy_rates = {}
    print(f"{'grid':>6} {'boundary':>9} {'TF steps/s':>11} {'NumPy steps/s':>14} {'TF/NumPy':>9}")
    for n in (256, 512, 1024):
        for boundary in ("fixed", "periodic"):
            u0 = np.random.default_rng(0).random((n, n)).astype(np.float32)
            advance = make_heat_stepper(ALPHA, boundary)
            u = tf.constant(u0)
            advance(u, tf.constant(0))  # compile outside the timing
            steps = max(50, 400_000_000 // (n * n) // 10)
            tf_rate, np_rate = side_by_side(
                (lambda s, a=advance, u=u: a(u, tf.constant(s)).numpy(), steps),
                (lambda s, u0=u0, b=boundary: heat_steps_numpy(u0, ALPHA, s, b), max(10, steps // 5)),
            )
            print(f"{n:>6} {boundary:>9} {tf_rate:>11.0f} {np_rate:>14.0f} {tf_rate / np_rate:>8.2f}x")
            numpy_rates[n, boundary] = np_rate
    return numpy_rates


def headless_run(numpy_rate: float) -> None:
    sets = ["grid=512", "steps=5000", "frame_every=250"]
    cmd = [sys.executable, "-m", "tui", "run", "pde", "--headless", "--json"]
    for s in sets:
        cmd += ["--set", s]
    env = {
        **os.environ,
        "MEETUP_LAB_RUNS_DIR": os.environ.get("MEETUP_LAB_RUNS_DIR", "/tmp/meetup-lab-bench"),
    }
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    last = json.loads(out.strip().splitlines()[-1])
    rate = last["summary"]["steps_per_s"]
    print(
        f"\nheadless `run pde` ({', '.join(sets)}): {rate:.0f} steps/s with frames and recording"
        f" = {rate / numpy_rate:.2f}x plain NumPy stepping (512, fixed);"
        f" {last['time']:.1f} s in all, TensorFlow import included"
    )


if __name__ == "__main__":
    print(
        f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, devices: "
        f"{[d.device_type for d in tf.config.list_physical_devices()]}\n"
    )
    numpy_rates = stepping_table()
    headless_run(numpy_rates[512, "fixed"])
