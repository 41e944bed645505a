"""Handwritten digits without a download: the 8x8 images scikit-learn ships,
or the real MNIST from a local ``mnist.npz`` (the file Keras caches).

Shared by the labs that train a softmax classifier (logreg, customop).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Digits:
    x_train: np.ndarray  # (n, pixels) in [0, 1]
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    side: int  # images are side x side
    name: str


def load_digits(source: str, train_ratio: float, rng: np.random.Generator) -> Digits:
    """scikit-learn's 8x8 digits split by ``train_ratio``, or MNIST from a local ``mnist.npz``."""
    if source == "digits":
        from sklearn.datasets import load_digits as sklearn_digits

        images, labels = sklearn_digits(return_X_y=True)
        order = rng.permutation(len(labels))
        cut = round(len(labels) * train_ratio)
        x = (images[order] / 16.0).astype(np.float32)
        y = labels[order].astype(np.int64)
        return Digits(x[:cut], y[:cut], x[cut:], y[cut:], 8, "8x8 digits (scikit-learn)")
    with np.load(Path(source).expanduser()) as f:
        flat = [f[k].reshape(len(f[k]), -1).astype(np.float32) / 255.0 for k in ("x_train", "x_test")]
        return Digits(
            flat[0], f["y_train"].astype(np.int64), flat[1], f["y_test"].astype(np.int64), 28, "MNIST"
        )


def check_mnist(path: str) -> str | None:
    """Why ``path`` cannot be used as MNIST, or None when it can (reads headers only)."""
    file = Path(path).expanduser()
    if not file.is_file():
        return f"data={path}: no such file (use digits, or the path of an mnist.npz)"
    try:
        with zipfile.ZipFile(file) as archive:
            names = {name.removesuffix(".npy") for name in archive.namelist()}
            missing = {"x_train", "y_train", "x_test", "y_test"} - names
            shapes = {k: _npy_shape(archive, k) for k in ("x_train", "x_test") if k in names}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        return f"data={path}: not a NumPy .npz file ({exc})"
    if missing:
        return f"data={path}: the .npz lacks {', '.join(sorted(missing))} (Keras's mnist.npz has them)"
    if any(len(s) != 3 or s[1:] != (28, 28) for s in shapes.values()):
        return f"data={path}: images must be 28x28, found {shapes}"
    return None


def _npy_shape(archive: zipfile.ZipFile, name: str) -> tuple[int, ...]:
    with archive.open(f"{name}.npy") as fp:
        major, _ = np.lib.format.read_magic(fp)
        read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
        return tuple(read(fp)[0])
