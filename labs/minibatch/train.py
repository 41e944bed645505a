"""One training step for every experiment: on one device, mirrored, or across workers.

The step is written once for ``tf.distribute``: under the default strategy it is
a plain step, under a mirrored or multi-worker strategy each replica computes
its share of the global batch and Keras's optimizer sums the gradients across
replicas. The loss is divided by the global batch (``compute_average_loss``), so
the summed gradient is exactly the one a single device computes on the whole
global batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

# Steps run inside one compiled call: few enough that progress, cancel and
# timing stay fine-grained, enough that Python's per-call cost vanishes.
EXAMPLES_PER_CALL = 8192


def objective(model: Any, x: Any, y: Any, training: bool = False) -> Any:
    """Mean cross-entropy over the (global) batch plus the L2 penalty: what SGD minimises."""
    import keras
    import tensorflow as tf

    per_example = keras.losses.sparse_categorical_crossentropy(
        y, model(x, training=training), from_logits=True
    )
    loss = tf.nn.compute_average_loss(per_example)
    if model.losses:
        loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
    return loss


class Trainer:
    """A model and SGD under one strategy, with a compiled ``steps(iterator, n)``."""

    def __init__(self, build: Callable[[], Any], learning_rate: float, strategy: Any = None) -> None:
        import keras
        import tensorflow as tf

        self.strategy = strategy or tf.distribute.get_strategy()
        with self.strategy.scope():
            self.model = build()
            self.optimizer = keras.optimizers.SGD(learning_rate)
        self._steps = tf.function(self._run_steps)
        self._compute = tf.function(self._run_compute)
        self._allreduce = tf.function(self._run_allreduce)

    @property
    def variables(self) -> list[Any]:
        return list(self.model.trainable_variables)

    def _replica_step(self, x: Any, y: Any) -> Any:
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = objective(self.model, x, y, training=True)
        grads = tape.gradient(loss, self.variables)
        self.optimizer.apply_gradients(zip(grads, self.variables, strict=True))
        return loss

    def _run_steps(self, iterator: Any, n: Any) -> Any:
        import tensorflow as tf

        total = tf.constant(0.0)
        for _ in tf.range(n):
            per_replica = self.strategy.run(self._replica_step, args=next(iterator))
            total += self.strategy.reduce("SUM", per_replica, axis=None)
        return total / tf.cast(tf.maximum(n, 1), tf.float32)

    def _run_compute(self, iterator: Any, n: Any) -> Any:
        """The step without its communication: gradients computed, neither summed nor applied."""
        import tensorflow as tf

        def local(x: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                loss = objective(self.model, x, y, training=True)
            return tf.add_n([tf.reduce_sum(g) for g in tape.gradient(loss, self.variables)])

        total = tf.constant(0.0)
        for _ in tf.range(n):
            total += self.strategy.experimental_local_results(self.strategy.run(local, args=next(iterator)))[
                0
            ]
        return total

    def _run_allreduce(self, n: Any) -> Any:
        """The step's communication alone: one all-reduce of gradient-sized tensors."""
        import tensorflow as tf

        def reduce() -> Any:
            context = tf.distribute.get_replica_context()
            summed = context.all_reduce("SUM", [tf.identity(v) for v in self.variables])
            return tf.add_n([tf.reduce_sum(s) for s in summed])

        total = tf.constant(0.0)
        for _ in tf.range(n):
            total += self.strategy.experimental_local_results(self.strategy.run(reduce))[0]
        return total

    # ``n`` goes in as a tensor: a Python int would retrace the function for every new value.
    def steps(self, iterator: Iterator[Any], n: int) -> tuple[float, float]:
        """Run ``n`` training steps; their mean loss and the seconds they took."""
        return _timed(lambda: self._steps(iterator, _count(n)))

    def compute_seconds(self, iterator: Iterator[Any], n: int) -> float:
        return _timed(lambda: self._compute(iterator, _count(n)))[1]

    def allreduce_seconds(self, n: int) -> float:
        return _timed(lambda: self._allreduce(_count(n)))[1]

    def warm_up(self, iterator: Iterator[Any]) -> None:
        """Trace and compile the step without taking one, so no timing pays for it."""
        self.steps(iterator, 0)

    def weights(self) -> list[np.ndarray]:
        return [np.asarray(v.numpy()) for v in self.variables]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        for v, w in zip(self.variables, weights, strict=True):
            v.assign(w)


def _count(n: int) -> Any:
    import tensorflow as tf

    return tf.constant(n, tf.int32)


def _timed(call: Callable[[], Any]) -> tuple[float, float]:
    start = time.perf_counter()
    value = float(call())  # float() waits for the device to finish
    return value, time.perf_counter() - start


def evaluate(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The objective and the accuracy on a whole set, in one forward pass."""
    import tensorflow as tf

    loss = float(objective(model, tf.constant(x), tf.constant(y)))
    predicted = np.argmax(np.asarray(model(x, training=False)), axis=1)
    return loss, float(np.mean(predicted == y))


def calls(steps: int, batch: int) -> list[int]:
    """``steps`` split into compiled calls of about EXAMPLES_PER_CALL examples."""
    per_call = max(1, EXAMPLES_PER_CALL // batch)
    return [min(per_call, steps - start) for start in range(0, steps, per_call)]


def batches(x: np.ndarray, y: np.ndarray, batch: int, seed: int | None = None) -> Iterator[Any]:
    """Endless batches: reshuffled each epoch when ``seed`` is given, else in order.

    Indices are shuffled, not the images, so the shuffle buffer stays small
    whatever the size of the set; a last short batch is kept (an epoch sees
    every example once).
    """
    import tensorflow as tf

    xs, ys = tf.constant(x), tf.constant(y)
    order = tf.data.Dataset.range(len(y))
    if seed is not None:
        order = order.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    pairs = order.batch(batch).map(lambda i: (tf.gather(xs, i), tf.gather(ys, i)))
    return iter(pairs.repeat().prefetch(tf.data.AUTOTUNE))


def global_batches(x: np.ndarray, y: np.ndarray, batch: int) -> Any:
    """Equal global batches in a fixed order: the same steps for one device and for many."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).repeat().batch(batch, drop_remainder=True)


def timed_calls(
    trainer: Trainer, iterator: Iterator[Any], steps: int, batch: int
) -> Iterator[tuple[int, int, float, float]]:
    """Train ``steps`` steps in compiled calls: (steps done, steps in the call, loss, seconds) after each."""
    trainer.warm_up(iterator)
    done = 0
    for n in calls(steps, batch):
        loss, seconds = trainer.steps(iterator, n)
        done += n
        yield done, n, loss, seconds


def time_steps(
    trainer: Trainer,
    iterator: Iterator[Any],
    steps: int,
    batch: int,
    progress: Callable[[int, float, float], None] | None = None,
) -> tuple[float, float]:
    """Seconds per step (see ``per_step``) and the last loss; ``progress(done, loss, ms per step)``
    hears after each compiled call."""
    timings: list[tuple[int, float]] = []
    loss = float("nan")
    for done, n, loss, seconds in timed_calls(trainer, iterator, steps, batch):
        timings.append((n, seconds))
        if progress is not None:
            progress(done, loss, 1000 * seconds / n)
    return per_step(timings), loss


def per_step(timings: list[tuple[int, float]]) -> float:
    """Seconds per step from (steps, seconds) of each call, the first call left out
    where there are others: it pays for tracing and first allocations."""
    kept = timings[1:] or timings
    return sum(s for _, s in kept) / sum(n for n, _ in kept)
