"""From "run" to the first frame: a cold start, a warm one (the spare), and TensorFlow's import.

The run is the 64x64 heat run of 200 steps (frames every 100). "First frame" is
the first computed one (step 100), so it includes the lab's own compile, which
is printed beside it (from the run's "compiling" stage to its first metric).
Also: a fractal zoom at 600x520 on the CPU, from the key (a tuned window sent
to the live run) to the new window's first image, in the same process.
Everything is measured side by side in one run of this script.

Run: python benchmarks/bench_latency.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from labs import events as ev
from labs.registry import get_lab
from labs.runner import Run, RunRequest
from labs.tail import EventTail
from labs.warm import Spare

HEAT = {"grid": 64, "steps": 200, "frame_every": 100}
FRACTAL = {"equation": "mandelbrot", "grid": 600, "iterations": 100_000}


def import_tensorflow() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True)
    return time.perf_counter() - start


def ready(spare: Spare, quiet_s: float = 1.0, limit_s: float = 120.0) -> float:
    """Wait until the spare's lab process has imported TensorFlow (it goes idle); its RSS in MB."""
    supervisor = psutil.Process(spare.process.pid)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        children = supervisor.children()
        if children:
            child = children[0]
            if child.cpu_percent(quiet_s) < 2.0:
                return float(child.memory_info().rss) / 2**20
        else:
            time.sleep(0.1)
    raise RuntimeError("the spare did not settle")


def first_frame(runs_dir: Path, spare: Spare | None) -> tuple[float, float]:
    """Seconds from start() to the first computed frame, and the compile time inside it."""
    lab = get_lab("pde")
    request = RunRequest(lab, lab.build_params(HEAT), device="cpu")
    start = time.perf_counter()
    run = request.start(runs_dir, spare)
    frame_at = compile_from = compile_to = None
    for event in run.events():
        if isinstance(event, ev.Stage) and event.name.startswith("compiling"):
            compile_from = event.time
        elif isinstance(event, ev.Metric) and compile_to is None:
            compile_to = event.time
        elif isinstance(event, ev.Frame) and event.step > 0 and frame_at is None:
            frame_at = time.perf_counter() - start
    run.wait(30)
    assert frame_at is not None and compile_from is not None and compile_to is not None
    return frame_at, compile_to - compile_from


def zoom_latency(runs_dir: Path) -> float:
    """Seconds from sending zoom=2 to the first image of the new window, in the live run."""
    lab = get_lab("pde")
    run = RunRequest(lab, lab.build_params(FRACTAL), device="cpu").start(runs_dir)
    tail = EventTail(run.record.path / "events.jsonl", skip=None)
    try:
        while not any(isinstance(e, ev.Frame) for e in tail.read()):
            time.sleep(0.01)
        sent = time.perf_counter()
        run.tune("zoom", 2.0)
        moved = False
        while True:
            for event in tail.read():
                if isinstance(event, ev.Log) and "zoom 2," in event.message:
                    moved = True
                elif moved and isinstance(event, ev.Frame):
                    return time.perf_counter() - sent
            time.sleep(0.005)
    finally:
        _stop(run)


def _stop(run: Run) -> None:
    run.kill()
    run.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runs_dir = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    cold, warm, compiles_cold, compiles_warm, imports, spare_mb, zooms = [], [], [], [], [], [], []
    for _ in range(args.rounds):
        imports.append(import_tensorflow())
        seconds, compile_s = first_frame(runs_dir, None)
        cold.append(seconds)
        compiles_cold.append(compile_s)
        spare = Spare()
        spare_mb.append(ready(spare))
        seconds, compile_s = first_frame(runs_dir, spare)
        warm.append(seconds)
        compiles_warm.append(compile_s)
        zooms.append(zoom_latency(runs_dir))

    def cell(samples: list[float]) -> str:
        return f"{statistics.median(samples):6.2f} s (min {min(samples):.2f}, max {max(samples):.2f})"

    print(f"{args.rounds} rounds, median (min, max); {psutil.cpu_count()} CPUs")
    print(f"{'what':<44} {'time':<32} target")
    label = 'python -c "import tensorflow"'
    print(f"{label:<44} {cell(imports):<32} -")
    print(f"{'cold run: start to first frame':<44} {cell(cold):<32} -")
    print(f"{'  of which the lab compiles':<44} {cell(compiles_cold):<32} -")
    print(f"{'warm run (spare): start to first frame':<44} {cell(warm):<32} <= 1.0 s + compile")
    print(f"{'  of which the lab compiles':<44} {cell(compiles_warm):<32} -")
    over = [w - c for w, c in zip(warm, compiles_warm, strict=True)]
    print(f"{'  warm minus its compile':<44} {cell(over):<32} <= 1.0 s")
    print(f"{'fractal zoom 600x520, key to new image':<44} {cell(zooms):<32} <= 0.3 s")
    print(f"{'idle spare (RSS of its lab process)':<44} {statistics.median(spare_mb):6.0f} MB")


if __name__ == "__main__":
    main()
