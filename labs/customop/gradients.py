"""Gradients of the shipped ops, registered in Python as the guide shows.

Each is registered only when a run asks for it (``register``): TensorFlow's
registry is global to the process, and the lab shows what happens without one.
"""

from __future__ import annotations

from typing import Any

QUATERNION_EPS = 1e-6  # |<q1, q2>| is clamped below 1 - eps: d/dx arccos x is infinite at 1


def _zero_out(op: Any, grad: Any) -> Any:
    """The guide's: only the first element passed through, so only it gets a gradient."""
    import tensorflow as tf

    shape = tf.shape(op.inputs[0])
    first = tf.reshape(grad, [-1])[:1]
    rest = tf.zeros([tf.reduce_prod(shape) - 1], grad.dtype)
    return tf.reshape(tf.concat([first, rest], 0), shape)


def _matmul_bias(op: Any, grad: Any) -> tuple[Any, Any, Any]:
    """y = x w + b: dx = g wᵀ, dw = xᵀ g, db = Σ_rows g."""
    import tensorflow as tf

    x, w, _ = op.inputs
    return tf.matmul(grad, w, transpose_b=True), tf.matmul(x, grad, transpose_a=True), tf.reduce_sum(grad, 0)


def _quaternion_distance(op: Any, grad: Any) -> tuple[Any, Any]:
    """angle = 2 arccos |d|, d = <q1, q2>: ∂angle/∂q1 = -2 sign(d) q2 / √(1 - d²), and alike for q2."""
    import tensorflow as tf

    q1, q2 = op.inputs
    dot = tf.reduce_sum(q1 * q2, axis=1)
    size = tf.minimum(tf.abs(dot), 1 - QUATERNION_EPS)
    scale = (grad * -2 * tf.sign(dot) / tf.sqrt(1 - size * size))[:, None]
    return scale * q2, scale * q1


GRADIENTS = {
    "ZeroOut": _zero_out,
    "MatMulBias": _matmul_bias,
    "MatMulBiasBroken": _matmul_bias,  # the right formula: the bug is in the forward pass alone
    "QuaternionDistance": _quaternion_distance,
}


def register(name: str) -> None:
    import tensorflow as tf

    tf.RegisterGradient(name)(GRADIENTS[name])
