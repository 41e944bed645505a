"""The ops the lab ships, and how to feed and check each one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

SOURCES = Path(__file__).parent / "ops"

Inputs = Callable[[np.random.Generator, str], list[np.ndarray]]


@dataclass(frozen=True)
class OpSpec:
    source: Path
    op: str  # the registered name
    gradient: bool  # register its Python gradient
    dtypes: tuple[str, ...]  # the forward check runs each
    inputs: Inputs | None  # random inputs of a dtype
    reference: Callable[..., np.ndarray] | None  # NumPy's answer
    training: str | None = None  # "classifier" or "pose": the sanity check that fits it


def zero_out_inputs(rng: np.random.Generator, dtype: str) -> list[np.ndarray]:
    return [(rng.normal(size=(3, 5)) * 10).astype(dtype)]


def zero_out_reference(x: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    out.flat[0] = x.flat[0]
    return out


def matmul_bias_inputs(rng: np.random.Generator, dtype: str) -> list[np.ndarray]:
    n, k, m = rng.integers(1, 9, 3)
    return [rng.normal(size=s).astype(dtype) for s in ((n, k), (k, m), (m,))]


def unit_quaternions(rng: np.random.Generator, count: int, dtype: str) -> np.ndarray:
    q = rng.normal(size=(count, 4))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(dtype)


def quaternion_inputs(rng: np.random.Generator, dtype: str) -> list[np.ndarray]:
    return [unit_quaternions(rng, 6, dtype), unit_quaternions(rng, 6, dtype)]


def relative_rotation_angle(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """An independent formula: the angle of the rotation taking q1 to q2, from r = conj(q1) q2,
    as 2 atan2(|r_xyz|, |r_w|). It never forms <q1, q2> or calls arccos."""
    w1, v1 = q1[:, :1], -q1[:, 1:]  # the conjugate of q1
    w2, v2 = q2[:, :1], q2[:, 1:]
    rw = w1 * w2 - np.sum(v1 * v2, axis=1, keepdims=True)
    rv = w1 * v2 + w2 * v1 + np.cross(v1, v2)
    return 2 * np.arctan2(np.linalg.norm(rv, axis=1), np.abs(rw[:, 0]))


ZERO_OUT = OpSpec(
    SOURCES / "zero_out.cc",
    "ZeroOut",
    False,
    ("int32", "float32", "float64"),
    zero_out_inputs,
    zero_out_reference,
)
SHIPPED = {
    "zero-out": ZERO_OUT,
    "zero-out-grad": replace(ZERO_OUT, gradient=True),  # the guide's second step
    "matmul-bias": OpSpec(SOURCES / "matmul_bias.cc", "MatMulBias", True, ("float32", "float64"),
                          matmul_bias_inputs, lambda x, w, b: x @ w + b, "classifier"),
    "matmul-bias-broken": OpSpec(SOURCES / "matmul_bias.cc", "MatMulBiasBroken", True, ("float32", "float64"),
                                 matmul_bias_inputs, lambda x, w, b: x @ w + b, "classifier"),
    "quaternion-distance": OpSpec(SOURCES / "quaternion_distance.cc", "QuaternionDistance", True,
                                  ("float32", "float64"), quaternion_inputs, relative_rotation_angle, "pose"),
}  # fmt: skip
