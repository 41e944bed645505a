"""placement: the same step with its variables and ops on the CPU, on each GPU, and split.

``tf.device`` places each layer's weights and computation; the batch always
starts in host memory, so a GPU pays for copying it, measured on its own. With
no GPU there is nothing to place: the experiment says so and compares CPU
thread settings instead, each in a fresh process (TensorFlow fixes its thread
pools when it starts).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Generator
from functools import partial
from typing import Any

import numpy as np

from labs import events as ev
from labs.context import RunContext, RunError
from labs.minibatch import cluster, data, distributed, models, train
from labs.params import to_dict

COPIES = 20  # batches copied to time a host-to-device copy
COLUMNS = ("placement", "ms/step", "examples/s", "vs CPU", "copy ms/batch")
THREAD_COLUMNS = ("intra-op threads", "inter-op threads", "ms/step", "examples/s", "vs one thread")


def placed(kind: str, l2: float, devices: list[str], side: int = 8) -> Any:
    """The model with its layers spread over ``devices`` in order, weights where they compute."""
    import keras
    import tensorflow as tf

    stack = models.layers(kind, l2)
    where = [devices[i * len(devices) // len(stack)] for i in range(len(stack))]

    class Placed(keras.Model):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(name=f"{kind}_on_" + "_".join(d.strip("/").replace(":", "") for d in devices))
            self.stack = stack

        def call(self, x: Any) -> Any:
            for layer, device in zip(self.stack, where, strict=True):
                with tf.device(device):
                    x = layer(x)
            return x

    model = Placed()
    model(np.zeros((1, side, side, 1), np.float32))  # builds each layer, so its weights, on its device
    return model


def configurations(gpus: list[str]) -> list[tuple[str, list[str]]]:
    split = gpus[:2] if len(gpus) > 1 else ["/CPU:0", gpus[0]]
    return [
        ("CPU:0", ["/CPU:0"]),
        *((g.strip("/"), [g]) for g in gpus),
        (" | ".join(d.strip("/") for d in split), split),
    ]


def copy_seconds(x: np.ndarray, device: str) -> float:
    """Seconds to copy one batch from host memory to ``device``."""
    import tensorflow as tf

    host = tf.constant(x)
    with tf.device(device):
        tf.identity(host).numpy()  # the first copy sets the transfer up
        start = time.perf_counter()
        copies = [tf.identity(host) for _ in range(COPIES)]
        float(tf.add_n([tf.reduce_sum(c) for c in copies]))
    return (time.perf_counter() - start) / COPIES


def run(p: Any, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_logical_devices("GPU")] if ctx.device != "cpu" else []
    if not gpus:
        yield ev.Log(
            "no GPU: TensorFlow sees only the CPU, so there is nothing to place; "
            "comparing CPU thread settings instead",
            level="warning",
        )
        return (yield from threads(p, ctx))
    return (yield from compare(p, ctx, gpus))


def compare(p: Any, ctx: RunContext, gpus: list[str]) -> Generator[ev.Event, None, dict[str, Any]]:
    """Time the step in each placement over the CPU and ``gpus``."""
    examples = data.load(p.data, p.examples, ctx.seed)
    start = models.initial(p.model, p.l2, ctx.seed)
    batch = examples.x_train[: p.global_batch]
    rows: list[tuple[Any, ...]] = []
    base = None
    curves = distributed.loss_curves()
    for k, (name, devices) in enumerate(configurations(gpus)):
        trainer = train.Trainer(partial(placed, p.model, p.l2, devices), p.learning_rate)
        trainer.set_weights(start)
        iterator = iter(train.global_batches(examples.x_train, examples.y_train, p.global_batch))
        timing = yield from distributed.train_timed(
            trainer, iterator, p.steps, p.global_batch, k * p.steps, curves, name
        )
        base = base or timing.step
        gpu = next((d for d in devices if "GPU" in d), None)
        copy = None if gpu is None else round(1000 * copy_seconds(batch, gpu), 3)
        rows.append(
            (
                name,
                round(1000 * timing.step, 3),
                round(p.global_batch / timing.step),
                round(base / timing.step, 2),
                copy,
            )
        )
        yield ev.Table("placement", COLUMNS, tuple(rows))
    fastest = min(rows, key=lambda r: r[1])
    return {"fastest_placement": fastest[0], "fastest_ms_per_step": fastest[1]}


def thread_settings(cores: int) -> list[tuple[int, int]]:
    """(intra-op, inter-op) pairs to compare; 0 is TensorFlow's own choice."""
    settings = [(1, 1), (max(1, cores // 2), 1), (cores, 1), (cores, cores), (0, 0)]
    return list(dict.fromkeys(settings))


def threads(p: Any, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    rows: list[tuple[Any, ...]] = []
    base = None
    settings = thread_settings(cores)
    for k, (intra, inter) in enumerate(settings):
        result = yield from _probe(p, ctx, intra, inter)
        if result is None:
            return {}
        step = result["step_s"]
        base = base or step
        rows.append(
            (
                intra or "auto",
                inter or "auto",
                round(1000 * step, 3),
                round(p.global_batch / step),
                round(base / step, 2),
            )
        )
        yield ev.Metric(
            (k + 1) * p.steps // len(settings), {"loss": result["loss"], "ms_per_step": 1000 * step}
        )
        yield ev.Table("CPU threads", THREAD_COLUMNS, tuple(rows))
    fastest = min(rows, key=lambda r: r[2])
    yield ev.Log(
        f"{cores} cores: fastest with intra-op {fastest[0]}, inter-op {fastest[1]} ({fastest[2]} ms per step)"
    )
    return {
        "cores": cores,
        "fastest_intra_op": fastest[0],
        "fastest_inter_op": fastest[1],
        "fastest_ms_per_step": fastest[2],
    }


def _probe(
    p: Any, ctx: RunContext, intra: int, inter: int
) -> Generator[ev.Event, None, dict[str, Any] | None]:
    """One thread setting timed in a fresh process; None when the run was cancelled meanwhile."""
    job = json.dumps({"job": to_dict(p), "seed": ctx.seed, "intra": intra, "inter": inter})
    yield ev.Log(f"timing intra-op {intra or 'auto'}, inter-op {inter or 'auto'} in a fresh process")
    log = ctx.run_dir / f"probe-{intra}-{inter}.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "labs.minibatch.probe", job],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=cluster.child_env(CUDA_VISIBLE_DEVICES="-1"),
        )
    try:
        while proc.poll() is None:
            if ctx.cancelled:
                return None
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.stdout is not None
    lines = [line for line in proc.stdout.read().splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        last = (
            [line for line in log.read_text(errors="replace").splitlines() if line.strip()] or ["no output"]
        )[-1]
        raise RunError(f"the thread-setting probe (intra {intra}, inter {inter}) failed: {last}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result
