"""The Keras training loop the softmax and playground modes share.

``fit`` is the loop over epochs (the learning rate retuned between them, the
metrics, the frames, a stop); ``make_epoch`` is one epoch. One compiled
function runs a whole epoch of mini-batch steps, so an epoch costs one Python
call and the playground can draw its surface every epoch.
The data sit in memory as tensors and each batch is a gather through a
shuffled index: measured on 2 cores, iterating a shuffled ``tf.data``
pipeline inside the compiled epoch cost about 100 ms an epoch (250 points,
batches of 10) against about 4 ms this way.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from typing import Any

import numpy as np

from labs import events as ev
from labs.chance import chance_warning
from labs.context import Diverged, RunContext
from labs.logreg.report import retune


def fit(
    ctx: RunContext,
    epochs: int,
    rate: float,
    optimizer: Any,
    epoch: Callable[[Any], Any],
    measure: Callable[[], dict[str, float]],
    show: Callable[[int], Iterable[ev.Event]],
    y_test: np.ndarray,
) -> Generator[ev.Event, None, tuple[int, dict[str, float]]]:
    """Up to ``epochs`` epochs, then a warning if the model does no better than chance.

    Before each epoch the rate the user set is given to the optimizer. After it,
    ``measure()`` gives train_loss, test_loss, train_accuracy and test_accuracy,
    reported with the learning rate as the epoch's metric, and ``show(epoch)``
    the epoch's frames. A stop asked for ends the run after that epoch's frames.
    Returns the epochs done and the last metrics.
    """
    import tensorflow as tf

    values: dict[str, float] = {}
    done = 0
    for done in range(1, epochs + 1):
        rate, change = apply_rate(optimizer, ctx.tuning, rate)
        if change is not None:
            yield ev.Log(change)
        epoch(tf.constant(done))
        values = {**measure(), "learning_rate": rate}
        check_finite(values["train_loss"], done)
        yield ev.Metric(step=done, values=values)
        yield from show(done)
        if ctx.cancelled:
            break
    if (warning := chance_warning(values["test_accuracy"], y_test)) is not None:
        yield ev.Log(warning, level="warning")
    return done, values


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
