"""minibatch: examples per second by batch size, and mirrored and multi-worker
speed-up, efficiency and communication share against one device.

Each row comes from a real ``meetup-lab run minibatch`` (headless, on the CPU);
each distributed run times its one-device reference in the same run, on the same
global batches, right before or after it.

Run: python benchmarks/bench_minibatch.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MEETUP_LAB = Path(sys.executable).parent / "meetup-lab"


def run(*sets: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's tables by name and its result."""
    with TemporaryDirectory() as runs:
        args = [arg for s in sets for arg in ("--set", s)]
        command = [str(MEETUP_LAB), "run", "minibatch", "--headless", "--json", "--device", "cpu"]
        done = subprocess.run(
            [*command, "--runs-dir", runs, *args], capture_output=True, text=True, cwd=REPO, check=False
        )
    events = [json.loads(line) for line in done.stdout.splitlines()]
    tables = {e["name"]: e for e in events if e["type"] == "table"}
    end = events[-1]
    if end["type"] != "finished":
        sys.exit(f"minibatch {' '.join(sets)}: {end.get('reason', end['type'])}")
    return tables, end["summary"]


def batch_sizes() -> None:
    print("examples per second by batch size (digits, 1,438 training images, 5 epochs each)")
    print(f"{'model':<7} " + " ".join(f"{b:>9}" for b in ("b=1", "b=8", "b=32", "b=128", "b=512", "full")))
    for model in ("logreg", "mlp", "cnn"):
        tables, _ = run("mode=batch-sweep", f"model={model}", "epochs=5")
        rates = [row[2] for row in tables["batch sizes"]["rows"]]
        print(f"{model:<7} " + " ".join(f"{r:>9,}" for r in rates))


def distributed() -> None:
    print()
    print("2 replicas against 1 device, global batch 256, 300 steps (ms per step; speed-up = one / many)")
    heads = ("1 device", "2 replicas", "speed-up", "efficiency", "all-reduce", "comm share", "max |Δw|")
    print(f"{'model':<7} {'strategy':<12} " + " ".join(f"{h:>11}" for h in heads))
    for model in ("logreg", "cnn"):
        for mode in ("mirrored", "multiworker"):
            tables, result = run(f"mode={mode}", f"model={model}", "steps=300", "global_batch=256")
            *_, one, many = tables["scaling"]["rows"]  # the whole global batch: one device, two replicas
            print(
                f"{model:<7} {mode:<12} {one[2]:>11.3f} {many[2]:>11.3f} {many[4]:>11.2f} {many[5]:>11.2f} "
                f"{many[7]:>11.3f} {result['allreduce_share']:>11.0%} "
                f"{result['max_weight_difference']:>11.1e}"
            )


if __name__ == "__main__":
    batch_sizes()
    distributed()
