"""The check list, each check returning pass, fail or skip with its numbers.

``call(*arrays)`` runs the op under test eagerly on NumPy inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labs.chance import chance_warning
from labs.customop.shipped import Inputs, unit_quaternions

# Forward tolerance by dtype, relative to the answer's size: rounding in a short sum in each
# float type; integer, boolean and string results must be exact.
FORWARD_TOLERANCE = {
    "float16": 1e-2, "bfloat16": 5e-2, "float32": 1e-4, "float64": 1e-10, "complex64": 1e-4,
    "complex128": 1e-10,
}  # fmt: skip
CASES = 3  # random inputs a dtype
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


def listed(result: Any) -> list[Any]:
    """An op's outputs as a list: none, one, or the several an op with several outputs gives."""
    if result is None:
        return []
    return list(result) if isinstance(result, (list, tuple)) else [result]


def outputs(result: Any) -> list[np.ndarray]:
    return [np.asarray(r) for r in listed(result)]


def tolerance(result: np.ndarray) -> float:
    return FORWARD_TOLERANCE.get(result.dtype.name, 0.0)


def difference(want: Any, got: Any) -> float:
    """The largest difference between two results of one shape: NaN against NaN is none,
    NaN against a number is infinite, and strings either agree or differ infinitely."""
    want, got = np.asarray(want), np.asarray(got)
    if np.array_equal(want, got):
        return 0.0
    try:
        a, b = _numbers(want), _numbers(got)
    except (TypeError, ValueError):
        return math.inf  # strings, or anything else that is not a number
    gap = np.abs(a - b)
    gap[np.isnan(a) & np.isnan(b)] = 0.0
    gap[np.isnan(gap)] = math.inf
    return float(gap.max(initial=0.0))


def size(result: np.ndarray) -> float:
    """The scale a tolerance is relative to: at least 1, so that tiny answers are compared absolutely."""
    try:
        return max(1.0, float(np.nanmax(np.abs(_numbers(result)), initial=0.0)))
    except (TypeError, ValueError):
        return 1.0


def _numbers(a: np.ndarray) -> np.ndarray:
    return a.astype(np.complex128) if a.dtype.kind == "c" else a.astype(np.float64)


def for_reference(value: Any) -> Any:
    """Float inputs in float64 for NumPy's answer, which then owes nothing to float32's rounding."""
    if isinstance(value, list):
        return [for_reference(v) for v in value]
    if value.dtype.kind == "c":
        return value.astype(np.complex128)
    if value.dtype.kind == "f" or value.dtype.name == "bfloat16":
        return value.astype(np.float64)
    return value


def forward(call: Callable[..., Any], inputs: Inputs | None, reference: Callable[..., Any] | None,
            dtypes: tuple[str, ...], rng: np.random.Generator) -> Check:  # fmt: skip
    """The op against NumPy's answer; without a ``reference()``, the op is still run on every
    dtype, so that one that refuses its inputs or fails in its kernel fails here."""
    if inputs is None:
        return Check("forward", "skip", "no inputs() given for this op")
    worst, cases = 0.0, 0
    for dtype in dtypes:
        for _ in range(CASES):
            arrays = inputs(rng, dtype)
            got = outputs(call(*arrays))
            cases += 1
            if reference is None:
                continue
            want = outputs(reference(*[for_reference(a) for a in arrays]))
            if len(got) != len(want):
                detail = f"{dtype}: {len(got)} outputs, NumPy's reference gives {len(want)}"
                return Check("forward", "fail", detail)
            for number, (g, w) in enumerate(zip(got, want, strict=True)):
                which = f" output {number}" if len(got) > 1 else ""
                if g.shape != w.shape:
                    return Check("forward", "fail", f"{dtype}{which}: shape {g.shape}, NumPy's is {w.shape}")
                error, scale = difference(w, g), size(w)
                if error > tolerance(g) * scale:
                    values = {"forward_max_error": error}
                    return Check("forward", "fail", f"{dtype}{which}: off NumPy by up to {error:.3g}", values)
                worst = max(worst, error / scale)
    if reference is None:
        detail = f"ran {cases} random cases in {', '.join(dtypes)}; no reference() to compare them with"
        return Check("forward", "skip", detail)
    detail = f"{cases} random cases in {', '.join(dtypes)}: relative error at most {worst:.2g}"
    return Check("forward", "pass", detail, {"forward_max_error": worst})


def gradient(call: Callable[..., Any], inputs: Inputs | None, dtypes: tuple[str, ...],
             rng: np.random.Generator) -> Check:  # fmt: skip
    """The registered gradient against a numeric Jacobian, in float64, with respect to each
    float64 input and of each float output; the other inputs are held fixed."""
    import tensorflow as tf

    if inputs is None:
        return Check("gradient", "skip", "no inputs() given for this op")
    arrays = inputs(rng, "float64" if "float64" in dtypes else dtypes[0])
    free = [n for n, a in enumerate(arrays) if isinstance(a, np.ndarray) and a.dtype == np.float64]
    if not free:
        what = f"no float64 input (it takes {', '.join(dtypes)})" if arrays else "no input"
        detail = f"the gradient is checked on float64 inputs, and this op takes {what}"
        return Check("gradient", "skip", detail)
    results = outputs(call(*arrays))
    smooth = [n for n, r in enumerate(results) if r.dtype.kind == "f"]
    if not smooth:
        kinds = ", ".join(sorted({r.dtype.name for r in results})) or "none"
        return Check("gradient", "skip", f"no float output to differentiate (its outputs: {kinds})")

    def output(number: int) -> Callable[..., Any]:
        def f(*xs: Any) -> Any:
            given = list(arrays)
            for n, x in zip(free, xs, strict=True):
                given[n] = x
            result = call(*given)
            return result[number] if isinstance(result, (list, tuple)) else result

        return f

    error = 0.0
    for number in smooth:
        try:
            theoretical, numerical = tf.test.compute_gradient(
                output(number), [tf.constant(arrays[n]) for n in free], delta=GRADIENT_STEP
            )
        except LookupError as exc:  # TensorFlow's "gradient registry has no entry for: ..."
            detail = f"{first_line(exc)} (register one with @tf.RegisterGradient in your python= file)"
            return Check("gradient", "fail", detail)
        pairs = zip(theoretical, numerical, strict=True)
        error = max(error, *(float(np.abs(t - n).max(initial=0.0)) for t, n in pairs))
    status = "pass" if error <= GRADIENT_TOLERANCE else "fail"
    detail = f"registered vs numeric Jacobian: max difference {error:.2g} (at most {GRADIENT_TOLERANCE:g})"
    return Check("gradient", status, detail, {"gradient_max_error": error})


def graph_and_eager(call: Callable[..., Any], inputs: Inputs | None, dtypes: tuple[str, ...],
                    rng: np.random.Generator) -> Check:  # fmt: skip
    import tensorflow as tf

    if inputs is None:
        return Check("graph/eager", "skip", "no inputs() given for this op")
    arrays = inputs(rng, dtypes[-1])
    eager = outputs(call(*arrays))
    # A run that checks several ops traces a function for each: not the retracing TensorFlow warns of.
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        graph = outputs(tf.function(lambda *xs: call(*xs))(*arrays))
    finally:
        logger.setLevel(level)
    difference_ = max((difference(e, g) for e, g in zip(eager, graph, strict=True)), default=0.0)
    status = "pass" if difference_ == 0 else "fail"
    return Check(
        "graph/eager",
        status,
        f"tf.function and eager differ by {difference_:.2g}",
        {"graph_eager_diff": difference_},
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
