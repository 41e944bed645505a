"""Label a folder of images with a trained glasses model (``meetup-lab predict``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labs import paths
from labs.commands import EXIT_FAILED, CommandError
from labs.glasses.data import CLASS_DIRS, read_image

MODEL_FILES = ("model.keras", "tutorial_model.keras", "local_model.keras")  # what runs save


@dataclass(frozen=True)
class Prediction:
    path: str  # relative to the folder
    label: str | None  # None: the file could not be decoded
    confidence: float = 0.0


def model_file(run_dir: Path) -> Path:
    """The model a glasses run saved (a comparison run's first)."""
    for name in MODEL_FILES:
        if (path := run_dir / "artifacts" / name).is_file():
            return path
    raise LookupError(f"run {run_dir.name} saved no model (is it a finished glasses run?)")


def images(folder: Path) -> Iterator[tuple[str, np.ndarray | None]]:
    """Each file under ``folder``, sorted, by its path relative to the folder, with its image
    as training reads it (``data.read_image``), or None where it does not decode."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        yield str(path.relative_to(folder)), read_image(path)


def label_folder(model_path: Path, folder: Path) -> Iterator[Prediction]:
    """Each image file under ``folder``, sorted, with the predicted label and its probability."""
    import keras
    import tensorflow as tf

    import labs.glasses.local  # noqa: F401  (registers the custom layers for loading)
    import labs.glasses.models  # noqa: F401

    model = keras.models.load_model(model_path)
    for name, image in images(folder):
        if image is None:
            yield Prediction(name, None)
            continue
        probabilities = tf.nn.softmax(model(image[None], training=False))[0].numpy()
        best = int(probabilities.argmax())
        yield Prediction(name, CLASS_DIRS[best], float(probabilities[best]))


def command(model: str, folder: Path, runs_dir: Path | None) -> int:
    """``meetup-lab predict MODEL FOLDER``: a line per image on stdout, the count on stderr."""
    from labs.recording import find_run

    if not folder.is_dir():
        raise CommandError(f"{folder}: no such folder")
    try:
        path = (
            Path(model)
            if model.endswith(".keras")
            else model_file(find_run(paths.runs_dir(runs_dir), model).path)
        )
    except LookupError as exc:
        raise CommandError(str(exc)) from None
    if not path.is_file():
        raise CommandError(f"{path}: no such model file")
    labelled = skipped = 0
    for prediction in label_folder(path, folder):
        if prediction.label is None:
            skipped += 1
            print(f"{prediction.path}\tunreadable", file=sys.stderr, flush=True)
            continue
        labelled += 1
        print(f"{prediction.path}\t{prediction.label}\t{prediction.confidence:.3f}", flush=True)
    print(f"{labelled} images labelled, {skipped} skipped", file=sys.stderr)
    return 0 if labelled else EXIT_FAILED
