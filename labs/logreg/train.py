"""The Keras training loop the softmax and playground modes share.

One compiled function runs a whole epoch of mini-batch steps, so an epoch
costs one Python call and the playground can draw its surface every epoch.
The data sit in memory as tensors and each batch is a gather through a
shuffled index: measured on 2 cores, iterating a shuffled ``tf.data``
pipeline inside the compiled epoch cost about 100 ms an epoch (250 points,
batches of 10) against about 4 ms this way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labs.context import Diverged
from labs.logreg.report import retune


def make_epoch(
    model: Any, optimizer: Any, loss_fn: Any, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int
) -> Any:
    """``epoch(number)``: one pass of mini-batch steps in an order fixed by (seed, number)."""
    import tensorflow as tf

    xs, ys = tf.constant(x), tf.constant(y)
    count = len(y)

    @tf.function
    def epoch(number: Any) -> Any:
        order = tf.random.experimental.stateless_shuffle(tf.range(count), seed=tf.stack([seed, number]))
        for start in tf.range(0, count, batch_size):
            batch = order[start : start + batch_size]
            xb, yb = tf.gather(xs, batch), tf.gather(ys, batch)
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb, training=True))
                if model.losses:  # the layers' L1/L2 penalties
                    loss += tf.add_n(model.losses)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))

    return epoch


def steps_per_epoch(count: int, batch_size: int) -> int:
    return -(-count // batch_size)


def check_finite(loss: float, epoch: int) -> None:
    if not np.isfinite(loss):
        raise Diverged(f"the loss became NaN/inf in epoch {epoch}: lower learning_rate")


def apply_rate(optimizer: Any, tuning: dict[str, float], rate: float) -> tuple[float, str | None]:
    """The learning rate the user set while the run goes, given to the optimizer: the rate
    now, and a line to log when it changed."""
    rate, change = retune(tuning, rate)
    if change is not None:
        optimizer.learning_rate.assign(rate)
    return rate, change
