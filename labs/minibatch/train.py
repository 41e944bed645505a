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

    def _gradients(self, x: Any, y: Any) -> tuple[Any, list[Any]]:
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = objective(self.model, x, y, training=True)
        return loss, tape.gradient(loss, self.variables)

    def _replica_step(self, x: Any, y: Any) -> Any:
        loss, grads = self._gradients(x, y)
        self.optimizer.apply_gradients(zip(grads, self.variables, strict=True))
        return loss

    def _run_steps(self, iterator: Any, n: Any) -> Any:
        """``n`` >= 1 steps; the loss of the last. Only that one is summed across replicas:
        a sum every step would add a collective to each step and to its timing."""
        import tensorflow as tf

        for _ in tf.range(n - 1):
            self.strategy.run(self._replica_step, args=next(iterator))
        last = self.strategy.run(self._replica_step, args=next(iterator))
        return self.strategy.reduce("SUM", last, axis=None)

    def _run_compute(self, iterator: Any, n: Any) -> Any:
        """The step without its communication: gradients computed, neither summed nor applied."""
        import tensorflow as tf

        def local(x: Any, y: Any) -> Any:
            return tf.add_n([tf.reduce_sum(g) for g in self._gradients(x, y)[1]])

        total = tf.constant(0.0)
        for _ in tf.range(n):
            # Every replica's result is used, so none of their work can be pruned away.
            total += tf.add_n(
                self.strategy.experimental_local_results(self.strategy.run(local, args=next(iterator)))
            )
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
            total += tf.add_n(self.strategy.experimental_local_results(self.strategy.run(reduce)))
        return total

    # ``n`` goes in as a tensor: a Python int would retrace the function for every new value.
    def steps(self, iterator: Iterator[Any], n: int) -> tuple[float, float]:
        """Run ``n`` >= 1 training steps; the last one's loss and the seconds they took."""
        return _timed(lambda: self._steps(iterator, _count(n)))

    def compute_seconds(self, iterator: Iterator[Any], n: int) -> float:
        return _timed(lambda: self._compute(iterator, _count(n)))[1]

    def allreduce_seconds(self, n: int) -> float:
        return _timed(lambda: self._allreduce(_count(n)))[1]

    def warm_up(self, iterator: Iterator[Any]) -> None:
        """Trace the steps without taking one, so no timing pays for it."""
        self._steps.get_concrete_function(iterator, _count(1))

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


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, batch: int = 4096) -> tuple[float, float]:
    """The objective (as ``objective``: mean cross-entropy plus the penalty) and the accuracy
    on a whole set, in batches so that a large generated set fits in memory."""
    import keras

    cross_entropy, correct = 0.0, 0
    for start in range(0, len(y), batch):
        logits = model(x[start : start + batch], training=False)
        labels = y[start : start + batch]
        cross_entropy += float(
            np.sum(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
        )
        correct += int(np.sum(np.argmax(np.asarray(logits), axis=1) == labels))
    penalty = float(sum(float(loss) for loss in model.losses))
    return cross_entropy / len(y) + penalty, correct / len(y)


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


def per_step(timings: list[tuple[int, float]]) -> float:
    """Seconds per step from (steps, seconds) of each call, the first call left out
    where there are others: it pays for tracing and first allocations."""
    kept = timings[1:] or timings
    return sum(s for _, s in kept) / sum(n for n, _ in kept)
