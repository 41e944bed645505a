"""The check list, each check returning pass, fail or skip with its numbers.

``call(*arrays)`` runs the op under test eagerly on NumPy inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labs.chance import chance_warning
from labs.customop.ops import Inputs, unit_quaternions

# Forward tolerance by dtype: float32 rounding in a short sum, and float64's.
FORWARD_TOLERANCE = {"int32": 0.0, "float32": 1e-4, "float64": 1e-10}
# The numeric Jacobian is a central difference in float64 with a step of 1e-6: its truncation
# (about step squared times the third derivative) and rounding (1e-16 / step) stay near 1e-10.
GRADIENT_STEP, GRADIENT_TOLERANCE = 1e-6, 1e-6
TRAINED_ACCURACY = 0.9  # a softmax classifier on the 8x8 digits reaches about 0.95
POSE_ANGLE = 1e-2  # radians left after fitting one rotation to another


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # pass, fail or skip
    detail: str
    values: dict[str, float] = field(default_factory=dict)


def first_line(exc: BaseException) -> str:
    """An error's first line: TensorFlow's messages go on with a stack of ops and call sites."""
    text = str(getattr(exc, "message", "") or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def forward(call: Callable[..., Any], inputs: Inputs | None, reference: Callable[..., np.ndarray] | None,
            dtypes: tuple[str, ...], rng: np.random.Generator) -> Check:  # fmt: skip
    if inputs is None or reference is None:
        return Check("forward", "skip", "no inputs() and reference() given for this op")
    worst, cases = 0.0, 0
    for dtype in dtypes:
        for _ in range(3):
            arrays = inputs(rng, dtype)
            got = np.asarray(call(*arrays))
            want = reference(*[a.astype(np.float64) for a in arrays])
            if got.shape != want.shape:
                return Check("forward", "fail", f"{dtype}: shape {got.shape}, NumPy's is {want.shape}")
            error = float(np.abs(got.astype(np.float64) - want).max(initial=0.0))
            scale = max(1.0, float(np.abs(want).max(initial=0.0)))
            if error > FORWARD_TOLERANCE[dtype] * scale:
                values = {"forward_max_error": error}
                return Check("forward", "fail", f"{dtype}: off NumPy by up to {error:.3g}", values)
            worst, cases = max(worst, error / scale), cases + 1
    detail = f"{cases} random cases in {', '.join(dtypes)}: relative error at most {worst:.2g}"
    return Check("forward", "pass", detail, {"forward_max_error": worst})


def gradient(call: Callable[..., Any], inputs: Inputs | None, dtypes: tuple[str, ...],
             rng: np.random.Generator) -> Check:  # fmt: skip
    import tensorflow as tf

    if inputs is None or "float64" not in dtypes:
        return Check(
            "gradient", "skip", "the gradient is checked on float64 inputs, which this op does not take"
        )
    arrays = [tf.constant(a) for a in inputs(rng, "float64")]
    try:
        theoretical, numerical = tf.test.compute_gradient(lambda *xs: call(*xs), arrays, delta=GRADIENT_STEP)
    except LookupError as exc:  # TensorFlow's "No gradient defined for operation ..."
        return Check("gradient", "fail", first_line(exc))
    error = max(float(np.abs(t - n).max(initial=0.0)) for t, n in zip(theoretical, numerical, strict=True))
    status = "pass" if error <= GRADIENT_TOLERANCE else "fail"
    detail = f"registered vs numeric Jacobian: max difference {error:.2g} (at most {GRADIENT_TOLERANCE:g})"
    return Check("gradient", status, detail, {"gradient_max_error": error})


def graph_and_eager(call: Callable[..., Any], inputs: Inputs | None, dtypes: tuple[str, ...],
                    rng: np.random.Generator) -> Check:  # fmt: skip
    import tensorflow as tf

    if inputs is None:
        return Check("graph/eager", "skip", "no inputs() given for this op")
    arrays = inputs(rng, dtypes[-1])
    eager = np.asarray(call(*arrays))
    graph = np.asarray(tf.function(lambda *xs: call(*xs))(*arrays))
    difference = float(np.abs(eager.astype(np.float64) - graph).max(initial=0.0))
    status = "pass" if difference == 0 else "fail"
    return Check(
        "graph/eager",
        status,
        f"tf.function and eager differ by {difference:.2g}",
        {"graph_eager_diff": difference},
    )


def classifier(call: Callable[..., Any], data: str, steps: int, seed: int) -> Check:
    """A softmax classifier whose only layer is the op, by full-batch gradient descent."""
    import keras
    import tensorflow as tf

    from labs.digits import load_digits

    digits = load_digits(data, 0.7, np.random.default_rng(seed))
    pixels = digits.x_train.shape[1]
    w = tf.Variable(tf.random.stateless_normal((pixels, 10), (seed, 0), stddev=0.01))
    b = tf.Variable(tf.zeros(10))
    x, y = tf.constant(digits.x_train), tf.constant(digits.y_train)
    optimizer = keras.optimizers.SGD(0.5)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, call(x, w, b)))
        optimizer.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b], strict=True))
    predicted = np.asarray(call(digits.x_test, w.numpy(), b.numpy())).argmax(axis=1)
    accuracy = float(np.mean(predicted == digits.y_test))
    values = {"train_accuracy": accuracy, "train_loss": float(loss)}
    if (warning := chance_warning(accuracy, digits.y_test)) is not None:
        return Check("training", "fail", f"broken: {warning}", values)
    status = "pass" if accuracy >= TRAINED_ACCURACY else "fail"
    return Check(
        "training",
        status,
        f"{digits.name}: test accuracy {accuracy:.3f} (expected >= {TRAINED_ACCURACY})",
        values,
    )


def pose(call: Callable[..., Any], steps: int, seed: int) -> Check:
    """The talk's pose problem in miniature: fit a rotation to a target by the op's distance."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    target = tf.constant(unit_quaternions(rng, 1, "float64"))
    q = tf.Variable(unit_quaternions(rng, 1, "float64"))
    optimizer = keras.optimizers.Adam(0.05)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(call(tf.math.l2_normalize(q, axis=1), target) ** 2)
        optimizer.apply_gradients([(tape.gradient(loss, q), q)])
    angle = float(np.asarray(call(tf.math.l2_normalize(q, axis=1), target))[0])
    status = "pass" if angle <= POSE_ANGLE else "fail"
    return Check(
        "training", status, f"fitted one rotation to another: {angle:.2g} rad apart", {"pose_angle": angle}
    )
