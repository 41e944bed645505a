"""Softmax regression on handwritten digits: the single node, ten times over.

p(class | x) = softmax(W x + b), fitted by mini-batch SGD on the cross-entropy
(the MNIST tutorial's model). Reports the loss and train/test accuracy each
epoch; draws the ten learned weight images and the test confusion matrix.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from labs import events as ev
from labs.context import RunContext
from labs.digits import load_digits
from labs.logreg import train

if TYPE_CHECKING:
    from labs.logreg.lab import LogregParams

CLASSES = 10
PER_ROW = 5  # weight images a row of the mosaic: two rows of five
CONFUSION_CAPTION = "rows: true digit 0-9, columns: predicted 0-9, each digit on its diagonal cell"
# Each label sits on the cell where true and predicted are that digit: it names its row and column.
CONFUSION_LABELS = tuple(((d + 0.5) / CLASSES, (d + 0.5) / CLASSES, str(d)) for d in range(CLASSES))


def _tile_corner(digit: int, side: int) -> tuple[int, int]:
    """The (row, column) of the top left pixel of ``digit``'s image in the mosaic."""
    row, col = divmod(digit, PER_ROW)
    return row * (side + 1), col * (side + 1)


def mosaic_shape(side: int) -> tuple[int, int]:
    cell = side + 1
    return CLASSES // PER_ROW * cell - 1, PER_ROW * cell - 1


def weight_mosaic(kernel: np.ndarray, side: int) -> np.ndarray:
    """The ten weight columns as side x side images, two rows of five with one-cell gaps of 0."""
    mosaic = np.zeros(mosaic_shape(side), np.float32)
    for digit in range(CLASSES):
        top, left = _tile_corner(digit, side)
        mosaic[top : top + side, left : left + side] = kernel[:, digit].reshape(side, side)
    return mosaic


def mosaic_labels(side: int) -> tuple[tuple[float, float, str], ...]:
    """Each image's digit over its top left pixel, placed in fractions of the mosaic as labels
    are. That pixel is blank in every image (the 8x8 digits' and MNIST's), so its weight
    never moves from its start: the label hides nothing learned."""
    height, width = mosaic_shape(side)
    corners = [(digit, *_tile_corner(digit, side)) for digit in range(CLASSES)]
    return tuple(((left + 0.5) / width, (top + 0.5) / height, str(d)) for d, top, left in corners)


def weights_caption(side: int) -> str:
    return f"W as {side}x{side} images: digits 0-4 on top, 5-9 below, each labelled"


def confusion(truth: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """counts[true class, predicted class]."""
    counts = np.zeros((CLASSES, CLASSES), np.float32)
    np.add.at(counts, (truth, predicted), 1)
    return counts


def run(p: LogregParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import keras
    import tensorflow as tf

    digits = load_digits(p.data, p.train_ratio / 100, np.random.default_rng(ctx.seed))
    yield ev.Log(
        f"{digits.name}: {len(digits.y_train)} train and {len(digits.y_test)} test images, "
        f"{digits.side}x{digits.side} pixels"
    )
    model = keras.Sequential([keras.Input((digits.side**2,)), keras.layers.Dense(CLASSES)])
    rate = p.learning_rate
    optimizer = keras.optimizers.SGD(learning_rate=rate)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    epoch = train.make_epoch(
        model, optimizer, loss_fn, digits.x_train, digits.y_train, p.batch_size, ctx.seed
    )

    @tf.function
    def evaluate(xs: Any, ys: Any) -> tuple[Any, Any]:
        logits = model(xs)
        return loss_fn(ys, logits), tf.argmax(logits, axis=1)

    train_xy = (tf.constant(digits.x_train), tf.constant(digits.y_train))
    test_xy = (tf.constant(digits.x_test), tf.constant(digits.y_test))
    predicted = np.zeros_like(digits.y_test)

    def measure() -> dict[str, float]:
        nonlocal predicted
        train_loss, train_pred = evaluate(*train_xy)
        test_loss, test_pred = evaluate(*test_xy)
        predicted = test_pred.numpy()
        return {
            "train_loss": float(train_loss),
            "test_loss": float(test_loss),
            "train_accuracy": float(np.mean(train_pred.numpy() == digits.y_train)),
            "test_accuracy": float(np.mean(predicted == digits.y_test)),
        }

    def show(done: int) -> Iterator[ev.Event]:
        kernel = model.layers[-1].kernel.numpy()
        yield ctx.frame(
            "weights",
            done,
            weight_mosaic(kernel, digits.side),
            signed=True,
            caption=weights_caption(digits.side),
            labels=mosaic_labels(digits.side),
        )
        yield ctx.frame(
            "confusion",
            done,
            confusion(digits.y_test, predicted),
            caption=CONFUSION_CAPTION,
            labels=CONFUSION_LABELS,
        )

    done, values = yield from train.fit(ctx, p.epochs, rate, optimizer, epoch, measure, show, digits.y_test)
    kernel = model.layers[-1].kernel.numpy()
    yield ctx.save_array("weights", kernel, f"W: {digits.side**2} pixels x 10 classes")
    yield ctx.save_heatmap_png("weights", weight_mosaic(kernel, digits.side), signed=True)
    yield ctx.save_array("confusion", confusion(digits.y_test, predicted), "test confusion[true, predicted]")
    return {**values, "epochs": done}
