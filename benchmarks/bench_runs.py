"""Listing many runs: `meetup-lab runs`, the runs board and `compare --last 10` at 200,
2,000 and 20,000 recorded runs, with the folder's index and, side by side, without it
(every summary read, as before the index).

The runs are real run folders (params.json, summary.json and events.jsonl written by
the recorder's own writers) of finished pde runs, made once per size in a temporary folder.
Run: python benchmarks/bench_runs.py [--sizes 200,2000,20000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from labs import events as ev
from labs.board import Board
from labs.jsonfile import write_atomic
from labs.recording import PARAMS, RunRecord
from tui.screens.runs import SHOWN

REPEATS = 3
TARGET_S = 0.5  # what a user waits for a list of 20,000 runs


def make_runs(runs_dir: Path, count: int) -> None:
    runs_dir.mkdir(parents=True)
    for n in range(count):
        run_id = f"20260101-{n // 3600:02d}{n // 60 % 60:02d}{n % 60:02d}-pde-{n:05x}"
        path = runs_dir / run_id
        path.mkdir()
        params = {"equation": "heat", "grid": 32 + n % 7, "steps": 100, "dt": 0.2}
        meta = {
            "run_id": run_id, "lab": "pde", "lab_ref": "pde", "params": params, "device": "cpu",
            "seed": n % 3, "key_metric": ["mass"], "sweep": None, "changed": ["grid", "steps"],
            "started_at": "2026-01-01T00:00:00", "started_unix": 1767225600.0 + n,
        }  # fmt: skip
        write_atomic(path / PARAMS, meta)
        record = RunRecord(path)
        finished = ev.Finished({"mass": 90.0 + n % 10}, time=5.0)
        for event in (
            ev.Started("pde", run_id, params, "cpu", n % 3),
            ev.Metric(100, {"mass": 90.0}),
            finished,
        ):
            record.append(event)
        record.write_summary(finished, {"mass": 90.0 + n % 10}, {"mass": 90.0})


def timed(action: Callable[[], object]) -> float:
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def cli(runs_dir: Path, *args: str) -> Callable[[], object]:
    command = [sys.executable, "-m", "tui", *args, "--runs-dir", str(runs_dir)]
    return lambda: subprocess.run(command, capture_output=True, check=True)


def board(runs_dir: Path) -> Callable[[], object]:
    """The runs board opening: its rows, as the TUI's board and history show them."""
    return lambda: Board(runs_dir).rows(SHOWN)


def without_index(runs_dir: Path) -> Callable[[], object]:
    """Every run's line read from its folder, as the board did before the index."""
    return lambda: [RunRecord(p).info() for p in runs_dir.iterdir() if (p / PARAMS).is_file()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200,2000,20000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print(f"{'runs':>6}  {'what':<34} {'index':>8} {'no index':>9} {'ratio':>6}  target {TARGET_S} s")
    for size in sizes:
        top = Path(tempfile.mkdtemp(prefix="bench-runs-"))
        runs_dir = top / "runs"
        try:
            make_runs(runs_dir, size)
            start = time.perf_counter()
            Board(runs_dir).rows()
            first = time.perf_counter() - start  # builds the index
            rows = [
                (f"runs board (newest {SHOWN})", board(runs_dir), without_index(runs_dir)),
                ("meetup-lab runs", cli(runs_dir, "runs"), None),
                ("meetup-lab compare --last 10", cli(runs_dir, "compare", "--last", "10"), None),
            ]
            print(f"{size:>6}  {'first listing (builds the index)':<34} {first:>8.3f}")
            for name, action, baseline in rows:
                with_index = timed(action)
                if baseline is None:
                    print(f"{size:>6}  {name:<34} {with_index:>8.3f}")
                    continue
                plain = timed(baseline)
                print(f"{size:>6}  {name:<34} {with_index:>8.3f} {plain:>9.3f} {plain / with_index:>5.1f}x")
        finally:
            shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
