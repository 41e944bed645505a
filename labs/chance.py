"""Is a classifier better than always guessing the commonest class?

The talk's tell-tale: an MNIST accuracy of 0.098 is exactly the share of zeros
in its test set, what argmax scores when every logit is the same.
"""

from __future__ import annotations

import math

import numpy as np


def chance_warning(accuracy: float, labels: np.ndarray) -> str | None:
    """A warning when ``accuracy`` is within noise of always predicting the commonest class.

    Noise is three binomial standard deviations of that rate over len(labels)
    points: an accuracy below it could come from a model that learned nothing.
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    rate = counts.max() / counts.sum()
    noise = 3 * math.sqrt(rate * (1 - rate) / counts.sum())
    if accuracy > rate + noise:
        return None
    return (
        f"accuracy {accuracy:.3f} is within noise of always predicting the commonest class "
        f"({rate:.3f} ± {noise:.3f} on {counts.sum()} points): the model has learned nothing useful"
    )
