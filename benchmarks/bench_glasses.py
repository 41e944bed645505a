"""glasses: training speed of each model, the input pipeline's share, and the
cost of the live instrumentation against a bare ``model.fit``.

For each model at full size (64 filters, 1,187 generated training images
augmented 2x per pass, batch 64): images per second of a bare ``fit`` and of
the ``fit`` the lab runs (the event-streaming callback, with its epoch-end
predictions, occlusion map and checkpoint, and a thread taking the events),
taking turns, best of ROUNDS; the input pipeline alone; and the overhead
projected to the default epoch (25x augmentation), where the epoch-end work
is spread over 12.5 times more images. Target: at most 5 %.

``--full`` also runs the lab's defaults through the real CLI (3 epochs of
~30,000 augmented images) and reports the test accuracy (the talk's 0.90-0.95
at the default difficulty) and the time the default run costs.
Run: python benchmarks/bench_glasses.py [--full]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_pde import side_by_side  # noqa: E402

from labs.context import RunContext  # noqa: E402
from labs.glasses import data, models  # noqa: E402
from labs.glasses.faces import DIFFICULTIES  # noqa: E402
from labs.glasses.lab import DEFAULT_DIFFICULTY  # noqa: E402
from labs.glasses.stream import Stream  # noqa: E402

EXPANSION, DEFAULT_EXPANSION, BATCH, ROUNDS = 2, 25, 64, 2


def row(kind: str, images: data.Data, folder: Path) -> None:
    model = models.compiled(kind, 64, 0.01)  # the lab's defaults
    batches = data.augmented(images.train, EXPANSION, BATCH, 0, True)
    count = len(images.train.labels) * EXPANSION
    test = (images.test.images, images.test.labels)
    model.fit(batches.take(3), verbose=0)  # trace and compile outside the timing

    def bare(_: int) -> None:
        model.fit(batches, epochs=1, validation_data=test, verbose=0)

    def instrumented(_: int) -> None:
        stream = Stream(RunContext(folder, 0, "cpu"), images, "", 0, BATCH)
        taker = threading.Thread(target=lambda: [None for _ in iter(stream.events.get, None)], daemon=True)
        taker.start()
        model.fit(batches, epochs=1, validation_data=test, callbacks=[stream], verbose=0)  # it checkpoints
        stream.put(None)
        taker.join()

    def pipeline(_: int) -> None:
        for _ in batches:
            pass

    bare_rate, instrumented_rate, pipeline_rate = side_by_side((bare, 1), (instrumented, 1), (pipeline, 1))
    bare_s, instrumented_s = 1 / bare_rate, 1 / instrumented_rate
    extra = instrumented_s - bare_s
    projected = extra / (bare_s * DEFAULT_EXPANSION / EXPANSION)
    verdict = "ok" if projected <= 0.05 else "ABOVE"
    print(
        f"{kind:<9} {count / bare_s:>9.0f} {count / instrumented_s:>13.0f} {extra / bare_s:>9.1%} "
        f"{projected:>13.1%} {verdict:<6} {count * pipeline_rate:>13.0f} {(1 / pipeline_rate) / bare_s:>9.1%}"
    )


def full_run() -> None:
    """The lab's defaults, through the real CLI."""
    with TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tui", "run", "glasses", "--headless", "--json", "--runs-dir", tmp],
            capture_output=True,
            text=True,
            check=True,
        )
        seconds = time.perf_counter() - started
        finished = [json.loads(line) for line in done.stdout.splitlines() if '"type":"finished"' in line]
        summary = finished[-1]["summary"]
    accuracy, new = summary["val_accuracy"], summary.get("new_accuracy", float("nan"))
    verdict = "ok" if 0.90 <= accuracy <= 0.95 else "OUTSIDE"
    print(
        f"\ndefault run (tutorial, difficulty {DEFAULT_DIFFICULTY}, 3 epochs x 1,187 x 25 augmented images):"
        f" test accuracy {accuracy:.3f}"
    )
    print(f"  target 0.90-0.95 (the talk's): {verdict}; new characters {new:.3f}; {seconds / 60:.1f} min")


HEADER = (
    f"{'model':<9} {'bare img/s':>9} {'lab img/s':>13} {'overhead':>9} {'at 25x':>13} {'':<6} "
    f"{'pipeline img/s':>13} {'pipe/train':>9}"
)

if __name__ == "__main__":
    keras.utils.set_random_seed(0)
    devices = [d.device_type for d in tf.config.list_physical_devices()]
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, devices: {devices}\n")
    images = data.generated(1187, 118, 118, 0.0, 0, DIFFICULTIES[DEFAULT_DIFFICULTY])
    print(HEADER)
    with TemporaryDirectory() as tmp:
        for kind in ("tutorial", "local"):
            row(kind, images, Path(tmp))
    if "--full" in sys.argv:
        full_run()
