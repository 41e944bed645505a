"""A Keras callback that turns ``fit`` into the run's events.

``fit`` runs on its own thread; the callback puts events on a small queue
that the lab's generator empties. When the run is paused the generator stops
taking events, the queue fills and ``put`` waits, so training waits too.
"""

from __future__ import annotations

import queue
import time
from typing import Any

import keras
import numpy as np

from labs import events as ev
from labs.context import RunContext
from labs.glasses import checkpoint, pictures
from labs.glasses.data import Data, explained
from labs.glasses.models import penalty

REPORTS_PER_S = 4  # batch metrics, throttled: a small CPU model ends hundreds of batches a second
OCCLUSION_PATCH, OCCLUSION_STRIDE = 8, 4  # a patch about the size of one lens


def predict(model: Any, images: np.ndarray) -> np.ndarray:
    """Class probabilities, 256 images at a time."""
    chunks = [
        keras.ops.softmax(model(images[i : i + 256], training=False)) for i in range(0, len(images), 256)
    ]
    return np.concatenate([keras.ops.convert_to_numpy(c) for c in chunks])


def evidence(model: Any, images: np.ndarray, label: int) -> np.ndarray:
    """How strongly the model says ``label``: its logit minus the other class's.

    Occlusion measures drops in this rather than in the probability, which a
    confident model holds at 1.0 whatever one patch hides.
    """
    logits = np.concatenate(
        [
            keras.ops.convert_to_numpy(model(images[i : i + 256], training=False))
            for i in range(0, len(images), 256)
        ]
    )
    return logits[:, label] - logits[:, 1 - label]


class Stream(keras.callbacks.Callback):  # type: ignore[misc]  # keras is untyped
    def __init__(
        self, ctx: RunContext, images: Data, prefix: str, first_step: int, batch_size: int, explain: int = 0
    ) -> None:
        super().__init__()
        self.ctx, self.images, self.prefix = ctx, images, prefix
        self.events: queue.Queue[Any] = queue.Queue(maxsize=32)
        self.step = first_step
        self.batch_size = batch_size
        self.last: dict[str, float] = {}
        self._since, self._seen = time.perf_counter(), 0
        self._epoch_began, self._epoch_trained = 0.0, 0.0  # when this epoch's first and last batch ended
        self._epoch_images = 0
        shown = images.new if images.new is not None else images.test
        self.shown = shown  # the set whose pictures are drawn: the new characters where there are any
        self.examples = pictures.pick_examples(shown.labels, 3)
        self.explained = explained(shown, explain)  # where does the model look: glasses, or hair?

    def put(self, item: Any) -> None:
        self.events.put(item)

    def _named(self, values: dict[str, float]) -> dict[str, float]:
        return {f"{self.prefix}{k}": float(v) for k, v in values.items()}

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_began = self._epoch_trained = time.perf_counter()
        self._epoch_images = 0

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self.step += 1
        self._seen += self.batch_size
        self._epoch_images += self.batch_size
        self._epoch_trained = time.perf_counter()
        if self.ctx.cancelled:
            self.model.stop_training = True
        elapsed = time.perf_counter() - self._since
        if elapsed >= 1 / REPORTS_PER_S and logs:
            rate = self._seen / elapsed
            self._since, self._seen = time.perf_counter(), 0
            values = {"loss": logs["loss"], "accuracy": logs["accuracy"], "images_per_s": rate}
            self.put(ev.Metric(step=self.step, values=self._named(values)))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        names = ("loss", "xent", "accuracy", "val_loss", "val_xent", "val_accuracy")
        values: dict[str, float] = {k: logs[k] for k in names if k in logs}
        # The loss is the cross-entropy plus this (on train and test alike: it is the weights').
        values["weight_decay"] = penalty(self.model)
        if self._epoch_trained > self._epoch_began:  # training alone: not the test or this epoch-end work
            values["images_per_s"] = self._epoch_images / (self._epoch_trained - self._epoch_began)
        probabilities = predict(self.model, self.shown.images)
        if self.images.new is not None:
            values["new_accuracy"] = float(np.mean(probabilities.argmax(axis=1) == self.images.new.labels))
        values["epoch"] = epoch + 1
        self.last = self._named(values)
        self.put(ev.Metric(step=self.step, values=self.last))
        picks = self.examples
        grid = pictures.predictions_grid(
            self.shown.images[picks], self.shown.labels[picks], probabilities[picks]
        )
        self.put(self.ctx.frame(f"{self.prefix}predictions", self.step, grid))
        label = int(self.shown.labels[self.explained])
        sensitivity = pictures.occlusion_map(
            lambda x: evidence(self.model, x, label),
            self.shown.images[self.explained],
            OCCLUSION_PATCH,
            OCCLUSION_STRIDE,
        )
        image = self.shown.images[self.explained]
        self.put(
            self.ctx.frame(
                f"{self.prefix}where it looks", self.step, pictures.where_it_looks(image, sensitivity)
            )
        )
        checkpoint.save(self.model, self.ctx.run_dir, epoch + 1)
        self.put(ev.Log(f"{self.prefix}epoch {epoch + 1}: checkpoint saved"))
