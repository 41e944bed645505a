"""The Python half of guide_ops.cc: gradients, inputs and NumPy references by op name."""

from typing import Any

import numpy as np
import tensorflow as tf


@tf.RegisterGradient("Meetup>Negate")
def _negate_grad(op: Any, grad: Any) -> Any:
    return -grad


@tf.RegisterGradient("TwiceAndFloor")
def _twice_and_floor_grad(op: Any, grad: Any, _floor_grad: Any) -> Any:
    return 2 * grad


inputs = {"ZeroOut": lambda rng, dtype: [rng.integers(-50, 50, size=(3, 5)).astype(np.int32)]}


def _zero_out(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    out.flat[0] = x.flat[0]
    return out


reference = {
    "ZeroOut": _zero_out,
    "Meetup>Negate": lambda x: -x,
    "Konst": lambda: np.int32(7),
    "TwiceAndFloor": lambda x: (2 * x, np.floor(x).astype(np.int32)),
    "Scale": lambda x: x * 0,
}
