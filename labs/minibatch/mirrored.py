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

    def trained(
        strategy: Any, first_step: int, batch: int
    ) -> Generator[ev.Event, None, tuple[train.Trainer, Any, distributed.Measurement]]:
        trainer = train.Trainer(lambda: models.build(p.model, p.l2), p.learning_rate, strategy)
        trainer.set_weights(start)
        batches = train.global_batches(examples.x_train, examples.y_train, batch)
        iterator = iter(strategy.experimental_distribute_dataset(batches))
        n = strategy.num_replicas_in_sync
        label = f"1 device, batch {batch}" if n == 1 else f"{n} replicas, batch {batch}"
        timing = yield from distributed.train_timed(
            trainer, iterator, p.steps, batch, first_step, curves, label
        )
        return trainer, iterator, distributed.Measurement(label.split(",")[0], n, batch, timing)

    # What one device does with a replica's share of the batch (the global batch
    # grows with the replicas), with the whole batch, then the replicas.
    one_device = tf.distribute.OneDeviceStrategy(devices[0])
    share = p.global_batch // len(devices)
    measured = []
    if share != p.global_batch:
        _, _, alone = yield from trained(one_device, 0, share)
        measured.append(alone)
    single, _, one = yield from trained(one_device, p.steps, p.global_batch)
    yield ev.Log(f"one device: {1000 * one.timing.step:.3f} ms per step")
    mirrored, iterator, many = yield from trained(
        tf.distribute.MirroredStrategy(devices), 2 * p.steps, p.global_batch
    )
    compute, allreduce = distributed.anatomy(mirrored, iterator, p.steps)
    many = replace(many, timing=replace(many.timing, compute=compute, allreduce=allreduce))
    difference = distributed.max_difference(single.weights(), mirrored.weights())
    return (yield from distributed.report(p, [*measured, one, many], difference))
