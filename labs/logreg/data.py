"""The logreg lab's data: TensorFlow Playground's four 2-D sets, and digits.

The 2-D generators follow the Playground's ``dataset.ts`` (points in
[-6, 6]², noise as a fraction, label 1 or 0 where the Playground says +1 or
-1), so a set looks here as it does there. Digits are the 8x8 images that
scikit-learn ships, or a local ``mnist.npz`` (the file Keras caches): nothing
is downloaded.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PLAYGROUND_SETS = ("gauss", "circle", "xor", "spiral")
EXTENT = 6.0  # the Playground draws [-6, 6] on both axes


def points(
    kind: str, count: int, noise: float, rng: np.random.Generator, separation: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: ``count`` points of shape (count, 2) and labels 0/1."""
    half = count // 2
    if kind == "gauss":
        # Two Gaussians on the diagonal, ``separation`` apart; the Playground's
        # variance scale (0.5 at no noise, 4 at 50 %).
        std = np.sqrt(0.5 + 7.0 * noise)
        centre = separation / (2 * np.sqrt(2))
        pos = rng.normal(centre, std, (half, 2))
        neg = rng.normal(-centre, std, (count - half, 2))
        x, y = np.vstack([pos, neg]), np.r_[np.ones(half), np.zeros(count - half)]
    elif kind == "circle":
        radius = 5.0
        r = np.r_[rng.uniform(0, radius * 0.5, half), rng.uniform(radius * 0.7, radius, count - half)]
        angle = rng.uniform(0, 2 * np.pi, count)
        x = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
        jitter = rng.uniform(-radius, radius, (count, 2)) * noise
        y = (np.hypot(*(x + jitter).T) < radius * 0.5).astype(np.float64)
    elif kind == "xor":
        x = rng.uniform(-5, 5, (count, 2))
        x += np.where(x > 0, 0.3, -0.3)  # the Playground's padding off the axes
        jitter = rng.uniform(-5, 5, (count, 2)) * noise
        y = ((x + jitter).prod(axis=1) >= 0).astype(np.float64)
    elif kind == "spiral":
        parts = []
        for delta, size in ((0.0, half), (np.pi, count - half)):
            i = np.arange(size)
            r = i / size * 5
            t = 1.75 * i / size * 2 * np.pi + delta
            arm = np.column_stack([r * np.sin(t), r * np.cos(t)])
            parts.append(arm + rng.uniform(-1, 1, (size, 2)) * noise)
        x, y = np.vstack(parts), np.r_[np.ones(half), np.zeros(count - half)]
    else:
        raise ValueError(f"unknown data set {kind!r}: use one of {', '.join(PLAYGROUND_SETS)}")
    order = rng.permutation(count)  # shuffled, so any split takes both classes
    return x[order].astype(np.float64), y[order]


def grid(side: int) -> np.ndarray:
    """``side``² points covering [-6, 6]², row by row from the top (y = +6) down."""
    ticks = np.linspace(-EXTENT, EXTENT, side)
    gx, gy = np.meshgrid(ticks, ticks[::-1])
    return np.column_stack([gx.ravel(), gy.ravel()])


def markers(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Points as a frame's markers: (x, y) scaled to [0, 1] across and down, and the class."""
    across = (x[:, 0] + EXTENT) / (2 * EXTENT)
    down = (EXTENT - x[:, 1]) / (2 * EXTENT)
    return np.column_stack([across, down, y]).astype(np.float32)


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
