"""The models compared: logistic regression (convex), a small MLP and a small CNN.

Every kernel carries the same L2 penalty, so logistic regression has one
optimum that every batch size must reach.
"""

from __future__ import annotations

from typing import Any

MODELS = ("logreg", "mlp", "cnn")


def layers(kind: str, l2: float, classes: int = 10) -> list[Any]:
    """The model's layers, not yet built (so whoever builds them decides where their weights live)."""
    import keras

    penalty = {"kernel_regularizer": keras.regularizers.L2(l2) if l2 else None}
    body: list[Any]
    if kind == "logreg":
        body = [keras.layers.Flatten()]
    elif kind == "mlp":
        body = [keras.layers.Flatten(), keras.layers.Dense(64, activation="relu", **penalty)]
    else:
        conv = keras.layers.Conv2D(16, 3, padding="same", activation="relu", **penalty)
        body = [conv, keras.layers.MaxPooling2D(2), keras.layers.Flatten()]
    return [*body, keras.layers.Dense(classes, **penalty)]


def build(kind: str, l2: float, classes: int = 10, side: int = 8) -> Any:
    import keras

    return keras.Sequential([keras.Input((side, side, 1)), *layers(kind, l2, classes)], name=kind)


def initial(kind: str, l2: float, seed: int) -> list[Any]:
    """The starting weights for ``seed``: every configuration compared starts from these."""
    import keras

    keras.utils.set_random_seed(seed)
    return list(build(kind, l2).get_weights())
