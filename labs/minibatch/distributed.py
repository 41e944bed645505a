"""What the distributed experiments share: equal global batches, timed steps, the
step's anatomy (computation against all-reduce) and the comparison with one device."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from labs import events as ev
from labs.minibatch import data, models, projection, train
from labs.minibatch.curves import Curves

# Summing N partial gradients instead of one whole one changes float32 rounding only:
# a few ulps a step, which stays far below this over any number of steps on a convex
# model (measured: 1e-7 for logreg and 2e-6 for the cnn after 300 steps).
SAME_WEIGHTS = 1e-4
ANATOMY_REPEATS = 3  # each of compute-only and all-reduce-only is timed this often; the best counts


@dataclass(frozen=True)
class Timing:
    """One configuration's seconds per step, with the parts of a step where measured."""

    step: float
    compute: float | None = None
    allreduce: float | None = None
    loss: float = float("nan")


def loss_curves() -> Curves:
    """Loss against step for each configuration: lines that lie on each other when the
    distributed result equals one device's."""
    return Curves("loss vs step", "step", "loss")


def train_timed(
    trainer: train.Trainer,
    iterator: Iterator[Any],
    steps: int,
    batch: int,
    first_step: int,
    curves: Curves,
    series: str,
) -> Generator[ev.Event, None, Timing]:
    """Train ``steps`` steps, reporting each compiled call as a metric and a point of ``series``;
    the seconds per step (see ``train.per_step``) and the last loss."""
    timings: list[tuple[int, float]] = []
    loss = float("nan")
    for done, n, loss, seconds in train.timed_calls(trainer, iterator, steps, batch):
        timings.append((n, seconds))
        yield ev.Metric(first_step + done, {"loss": loss, "ms_per_step": 1000 * seconds / n})
        if chart := curves.add(series, done, loss):
            yield chart
    yield curves.chart()
    return Timing(train.per_step(timings), loss=loss)


def one_device(job: Any, seed: int, device: str | None = None) -> tuple[train.Trainer, Iterator[Any]]:
    """The job's model at its start on ``device`` (None: TensorFlow's choice), and its global batches."""
    import tensorflow as tf

    examples = data.load(job.data, job.examples, seed)
    strategy = tf.distribute.OneDeviceStrategy(device) if device else None
    trainer = train.Trainer(lambda: models.build(job.model, job.l2), job.learning_rate, strategy)
    trainer.set_weights(models.initial(job.model, job.l2, seed))
    batches = train.global_batches(examples.x_train, examples.y_train, job.global_batch)
    return trainer, iter(strategy.experimental_distribute_dataset(batches) if strategy else batches)


def anatomy(trainer: train.Trainer, iterator: Iterator[Any], steps: int) -> tuple[float, float]:
    """Seconds per step of the computation alone and of the all-reduce alone."""
    n = max(1, min(steps, 50))
    trainer.compute_seconds(iterator, 1), trainer.allreduce_seconds(1)  # trace both first
    compute = min(trainer.compute_seconds(iterator, n) for _ in range(ANATOMY_REPEATS)) / n
    allreduce = min(trainer.allreduce_seconds(n) for _ in range(ANATOMY_REPEATS)) / n
    return compute, allreduce


def max_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))


SCALING = (
    "configuration", "batch", "ms/step", "examples/s", "speed-up", "efficiency",
    "compute ms", "all-reduce ms",
)  # fmt: skip


@dataclass(frozen=True)
class Measurement:
    """A configuration timed: ``devices`` sharing a global batch of ``batch``."""

    label: str
    devices: int
    batch: int
    timing: Timing

    @property
    def examples_per_s(self) -> float:
        return self.batch / self.timing.step


def scaling_rows(base: Measurement, measured: list[Measurement]) -> tuple[tuple[Any, ...], ...]:
    """Speed-up is examples per second against ``base``: one device, the same global batch."""

    def row(m: Measurement) -> tuple[Any, ...]:
        t, speedup = m.timing, m.examples_per_s / base.examples_per_s
        return (
            m.label, m.batch, round(1000 * t.step, 3), round(m.examples_per_s),
            round(speedup, 2), round(speedup / m.devices, 2) if m.devices > 1 else None,
            None if t.compute is None else round(1000 * t.compute, 3),
            None if t.allreduce is None else round(1000 * t.allreduce, 3),
        )  # fmt: skip

    return tuple(row(m) for m in measured)


def report(
    p: Any, measured: list[Measurement], weights_difference: float
) -> Generator[ev.Event, None, dict[str, Any]]:
    """The scaling table, the projection and the summary both distributed experiments end with.

    ``measured`` ends with one device and then the replicas, both on the whole global batch.
    """
    base, last = measured[-2], measured[-1]
    one, many, n = base.timing, last.timing, last.devices
    yield ev.Table("scaling", SCALING, scaling_rows(base, measured))
    model = projection.Measured(one.step / p.global_batch, many.allreduce or 0.0, n, p.global_batch)
    rows = projection.project(model, p.experiment_examples * p.experiment_epochs, p.max_devices, p.price)
    yield ev.Table("projection", projection.COLUMNS, projection.table_rows(rows))
    even = model.break_even()
    share = (many.allreduce or 0.0) / many.step
    yield ev.Log(
        f"{n} replicas: speed-up {one.step / many.step:.2f}, efficiency {one.step / many.step / n:.2f}; "
        f"all-reduce is {share:.0%} of a step"
    )
    matches = weights_difference <= SAME_WEIGHTS
    yield ev.Log(
        f"{'PASS' if matches else 'FAIL'}: the weights differ from one device's by at most "
        f"{weights_difference:.2g} ({'within' if matches else 'beyond'} float32 rounding, {SAME_WEIGHTS:g})",
        level="info" if matches else "warning",
    )
    yield ev.Log(
        f"communication would outweigh computation from {even} devices at a global batch of {p.global_batch}"
        if even
        else "communication never outweighs computation in this projection"
    )
    return {
        "speedup": round(one.step / many.step, 3),
        "efficiency": round(one.step / many.step / n, 3),
        "allreduce_share": round(share, 3),
        "max_weight_difference": weights_difference,
        "matches_one_device": matches,
        "break_even_devices": even,
        "loss": many.loss,
    }
