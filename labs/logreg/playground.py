"""TensorFlow Playground in the terminal: a small network on 2-D points.

The features, hidden layers, activation, regularisation, learning rate and
batch size are the Playground's. The output is one sigmoid unit trained on
the log-loss, so with no hidden layer and the features x1, x2 this is the
``binary`` model exactly. Each epoch reports the train and test loss; the
output surface is drawn with the points over it, at most FRAMES_PER_S times
a second (and always at the end).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from labs import events as ev
from labs.context import RunContext
from labs.logreg import data, train
from labs.logreg.report import SURFACE_SIDE, sigmoid

if TYPE_CHECKING:
    from labs.logreg.lab import LogregParams

FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda x: x[:, 0],
    "x2": lambda x: x[:, 1],
    "x1sq": lambda x: x[:, 0] ** 2,
    "x2sq": lambda x: x[:, 1] ** 2,
    "x1x2": lambda x: x[:, 0] * x[:, 1],
    "sinx1": lambda x: np.sin(x[:, 0]),
    "sinx2": lambda x: np.sin(x[:, 1]),
}
# The Playground's ladders: the run screen's keys step through them.
LEARNING_RATES = (1e-5, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
FRAMES_PER_S = 20  # twice the 10 a second a live view needs, few enough to keep records small


def parse_features(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in FEATURES]
    if unknown or not names:
        raise ValueError(
            f"features={text!r}: {'unknown ' + ', '.join(unknown) if unknown else 'none given'}; "
            f"pick from {','.join(FEATURES)}"
        )
    return names


def parse_hidden(text: str) -> tuple[int, ...]:
    parts = [n.strip() for n in text.split(",") if n.strip()]
    try:
        sizes = tuple(int(n) for n in parts)
    except ValueError:
        sizes = ()
    if len(sizes) != len(parts) or len(sizes) > 6 or any(not 1 <= s <= 8 for s in sizes):
        raise ValueError(
            f"hidden={text!r}: give 0 to 6 layer sizes of 1 to 8 neurons, comma-separated (e.g. 4,2)"
        )
    return sizes


def featurise(x: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return np.column_stack([FEATURES[n](x) for n in names]).astype(np.float32)


def build_model(p: LogregParams, inputs: int) -> Any:
    import keras

    regulariser = {
        "none": None,
        "L1": keras.regularizers.L1(p.reg_rate),
        "L2": keras.regularizers.L2(p.reg_rate),
    }
    layers: list[Any] = [keras.Input((inputs,))]
    for size in parse_hidden(p.hidden):
        layers.append(
            keras.layers.Dense(size, p.activation, kernel_regularizer=regulariser[p.regularization])
        )
    layers.append(keras.layers.Dense(1, kernel_regularizer=regulariser[p.regularization]))
    return keras.Sequential(layers)


def run(p: LogregParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import keras
    import tensorflow as tf

    names = parse_features(p.features)
    x, y = data.points(p.dataset, p.points, p.noise / 100, np.random.default_rng(ctx.seed), p.separation)
    cut = max(1, min(len(y) - 1, round(len(y) * p.train_ratio / 100)))
    x_train, y_train, x_test, y_test = featurise(x[:cut], names), y[:cut], featurise(x[cut:], names), y[cut:]
    model = build_model(p, len(names))
    layout = " → ".join([str(len(names)), *map(str, parse_hidden(p.hidden)), "1"])
    yield ev.Log(f"{p.dataset}: {cut} train and {len(y) - cut} test points; network {layout}, {p.activation}")
    rate = p.learning_rate
    optimizer = keras.optimizers.SGD(learning_rate=rate)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    targets = y_train.astype(np.float32)[:, None]
    epoch = train.make_epoch(model, optimizer, loss_fn, x_train, targets, p.batch_size, ctx.seed)
    surface_x = tf.constant(featurise(data.grid(SURFACE_SIDE), names))
    markers = data.markers(x, y)

    @tf.function
    def evaluate(xs: Any, ys: Any) -> tuple[Any, Any]:
        logits = model(xs)[:, 0]
        correct = tf.cast(tf.cast(logits > 0, ys.dtype) == ys, tf.float32)
        return loss_fn(ys[:, None], logits[:, None]), tf.reduce_mean(correct)

    train_xy = (tf.constant(x_train), tf.constant(y_train, tf.float32))
    test_xy = (tf.constant(x_test), tf.constant(y_test, tf.float32))

    def measure() -> dict[str, float]:
        train_loss, train_acc = evaluate(*train_xy)
        test_loss, test_acc = evaluate(*test_xy)
        return {
            "train_loss": float(train_loss),
            "test_loss": float(test_loss),
            "train_accuracy": float(train_acc),
            "test_accuracy": float(test_acc),
        }

    last_frame = 0.0

    def show(done: int) -> Iterator[ev.Event]:
        nonlocal last_frame
        now = time.monotonic()
        if now - last_frame >= 1 / FRAMES_PER_S or done == p.epochs or ctx.cancelled:
            last_frame = now
            yield ctx.frame("output", done, output_surface(model, surface_x), points=markers, contour=0.5)

    done, values = yield from train.fit(ctx, p.epochs, rate, optimizer, epoch, measure, show, y_test)
    final = output_surface(model, surface_x)
    yield ctx.save_array("output", final, "p(y=1) over [-6, 6]², top row first")
    yield ctx.save_heatmap_png("output", final)
    return {**values, "epochs": done, "steps": done * train.steps_per_epoch(cut, p.batch_size)}


def output_surface(model: Any, surface_x: Any) -> np.ndarray:
    """p(y=1) on the grid, SURFACE_SIDE a side, top row first."""
    logits = model(surface_x).numpy()[:, 0]
    return sigmoid(logits).reshape(SURFACE_SIDE, SURFACE_SIDE)
