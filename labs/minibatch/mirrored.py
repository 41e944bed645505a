"""mirrored: ``tf.distribute.MirroredStrategy`` over N devices against one device.

Both train from the same weights on the same global batches, so their weights
must agree to float rounding: summing N per-replica gradients of a loss divided
by the global batch is the gradient of the whole batch.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import Any

from labs import events as ev
from labs.context import RunContext, RunError
from labs.minibatch import data, distributed, models, train


def uses_gpus(device: str) -> bool:
    import tensorflow as tf

    return device != "cpu" and bool(tf.config.list_physical_devices("GPU"))


def make_logical_cpus(n: int) -> None:
    """Split the CPU into ``n`` logical devices: only possible before TensorFlow's runtime starts."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * n)


def replicas(n: int, device: str) -> tuple[list[str], bool]:
    """N device names for the replicas, and whether they are logical CPUs (no GPU to use)."""
    import tensorflow as tf

    if uses_gpus(device):
        gpus = tf.config.list_physical_devices("GPU")
        if len(gpus) < n:
            raise RunError(
                f"devices={n}, but TensorFlow sees {len(gpus)} GPU(s): use devices<={len(gpus)}, "
                "or --device cpu for logical CPU devices"
            )
        return [f"/GPU:{i}" for i in range(n)], False
    found = len(tf.config.list_logical_devices("CPU"))
    if found < n:
        raise RunError(f"devices={n}, but this process has {found} CPU device(s) and can make no more")
    return [f"/CPU:{i}" for i in range(n)], True


def run(p: Any, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import tensorflow as tf

    devices, logical = replicas(p.devices, ctx.device)
    yield ev.Log(f"replicas on {', '.join(devices)}; global batch {p.global_batch}")
    if logical:
        yield ev.Log(
            "no GPU: the replicas are logical CPU devices that share this machine's cores, so expect "
            "no speed-up; the run measures the machinery's cost and checks the result",
            level="warning",
        )
    examples = data.load(p.data, p.examples, ctx.seed)
    start = models.initial(p.model, p.l2, ctx.seed)

    curves = distributed.loss_curves()

    def trained(strategy: Any, first_step: int) -> Generator[ev.Event, None, tuple[train.Trainer, Any, Any]]:
        trainer = train.Trainer(lambda: models.build(p.model, p.l2), p.learning_rate, strategy)
        trainer.set_weights(start)
        batches = train.global_batches(examples.x_train, examples.y_train, p.global_batch)
        iterator = iter(strategy.experimental_distribute_dataset(batches))
        replicas = strategy.num_replicas_in_sync
        series = "1 device" if replicas == 1 else f"{replicas} replicas"
        timing = yield from distributed.train_timed(
            trainer, iterator, p.steps, p.global_batch, first_step, curves, series
        )
        return trainer, iterator, timing

    single, _, one = yield from trained(tf.distribute.OneDeviceStrategy(devices[0]), 0)
    yield ev.Log(f"one device: {1000 * one.step:.3f} ms per step")
    mirrored, iterator, many = yield from trained(tf.distribute.MirroredStrategy(devices), p.steps)
    compute, allreduce = distributed.anatomy(mirrored, iterator, p.steps)
    many = replace(many, compute=compute, allreduce=allreduce)
    difference = distributed.max_difference(single.weights(), mirrored.weights())
    return (yield from distributed.report(p, one, many, len(devices), difference))
