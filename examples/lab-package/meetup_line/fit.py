"""The run: a generator of events, in the run's own process (so TensorFlow is imported here)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from labs import events as ev
from labs.context import RunContext
from meetup_line.lab import LineParams

METRIC_EVERY = 10  # steps between metrics: enough for a smooth chart


def run(p: LineParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import tensorflow as tf

    tf.random.set_seed(ctx.seed)  # the same seed draws the same points
    x = tf.random.uniform((p.points,), -1.0, 1.0)
    y = p.slope * x + p.intercept + tf.random.normal((p.points,), stddev=p.noise)
    slope, intercept = tf.Variable(0.0), tf.Variable(0.0)
    optimizer = tf.keras.optimizers.SGD(p.learning_rate)
    yield ev.Log(f"fitting y = {p.slope:g} x {p.intercept:+g} to {p.points} noisy points")

    loss = tf.constant(0.0)
    for step in range(1, p.steps + 1):
        if ctx.cancelled:  # the user pressed c: stop between steps
            break
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((slope * x + intercept - y) ** 2)
        variables = [slope, intercept]
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        if step % METRIC_EVERY == 0 or step == p.steps:
            values = {"loss": float(loss), "slope": float(slope), "intercept": float(intercept)}
            yield ev.Metric(step=step, values=values)
    # What the run returns is its summary: `meetup-lab show` and the runs board read it.
    return {"loss": float(loss), "slope": float(slope), "intercept": float(intercept)}
