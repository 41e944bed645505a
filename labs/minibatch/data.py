"""The examples the minibatch lab trains on: 8x8 images with 10 classes.

scikit-learn's digits (1,797 images, shipped with it), or generated images of
any number, so that an experiment can be sized to the machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES = 10
SIDE = 8
TEST_SHARE = 0.2
NOISE = 0.6  # generated images: enough noise that no model scores 1.0
DIGITS = 1797  # images in scikit-learn's digits


@dataclass(frozen=True)
class Examples:
    x_train: np.ndarray  # (n, 8, 8, 1) float32 in about [0, 1]
    y_train: np.ndarray  # (n,) int32
    x_test: np.ndarray
    y_test: np.ndarray
    name: str

    @property
    def size(self) -> int:
        return len(self.y_train)


def load(source: str, examples: int, seed: int) -> Examples:
    """``source`` is digits or generated (``examples`` images, train and test together)."""
    rng = np.random.default_rng(seed)
    if source == "digits":
        from sklearn.datasets import load_digits

        images, labels = load_digits(return_X_y=True)
        x, y, name = images.reshape(-1, SIDE, SIDE) / 16.0, labels, "8x8 digits (scikit-learn)"
    else:
        x, y = generated(examples, rng)
        name = f"{examples} generated 8x8 images"
    order = rng.permutation(len(y))
    x = x[order].astype(np.float32)[..., None]
    y = y[order].astype(np.int32)
    cut = _train_count(len(y))
    return Examples(x[:cut], y[:cut], x[cut:], y[cut:], name)


def generated(count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One smooth random template per class, plus pixel noise."""
    coarse = rng.uniform(0, 1, (CLASSES, SIDE // 2, SIDE // 2))
    templates = coarse.repeat(2, axis=1).repeat(2, axis=2)
    labels = rng.integers(0, CLASSES, count)
    return templates[labels] + rng.normal(0, NOISE, (count, SIDE, SIDE)), labels


def train_size(source: str, examples: int) -> int:
    """How many examples ``load`` keeps for training, without loading them."""
    return _train_count(DIGITS if source == "digits" else examples)


def _train_count(total: int) -> int:
    return total - max(1, round(total * TEST_SHARE))
