"""What the customop lab reads from an op's registered signature, and the checks made
general by it, on TensorFlow's own ops: no compiler needed, so these run in-process.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.ops import gen_math_ops, gen_nn_ops

from labs.customop import checks
from labs.customop.signature import CannotMake, Signature


def test_the_signature_is_read_from_the_registry_with_what_a_caller_must_set() -> None:
    top_k = Signature.of("TopKV2")
    assert top_k.text().startswith("TopKV2(input: T, k: Tk) -> values: T, indices: index_type; T in {")
    cast = Signature.of("Cast")
    assert cast.text() == "Cast(x: SrcT) -> y: DstT"
    assert cast.attr_values() == {"DstT": "float32"}  # DstT has no default; SrcT comes from x
    assert top_k.attr_values() == {}  # every attr is told by an input or has a default


def test_random_inputs_take_each_inputs_own_type_and_lists_their_length() -> None:
    rng = np.random.default_rng(0)
    add_n = Signature.of("AddN")
    types = add_n.dtypes()
    assert "float64" in types and "int32" in types
    assert not {"variant", "qint8", "resource"} & set(types)  # nothing a random value is made of
    (values,) = add_n.random_inputs(rng, "int32")
    assert [v.dtype for v in values] == [np.int32, np.int32]  # N * T: a list
    top_k = Signature.of("TopKV2")
    x, k = top_k.random_inputs(rng, "float64")
    assert (x.dtype, k.dtype) == (np.float64, np.int32)  # Tk at its default
    # An op of fixed types runs in them: the guide's first ZeroOut takes int32 alone.
    assert Signature.of("StringJoin").dtypes() == ("string",)
    with pytest.raises(CannotMake, match="its input resource is a resource: .*give inputs"):
        Signature.of("ReadVariableOp").random_inputs(rng, "float32")


def test_the_gradient_is_checked_for_float_inputs_and_outputs_alone() -> None:
    # TopK: an int32 k held fixed, and int32 indices that have no gradient beside the values.
    def inputs(rng: np.random.Generator, dtype: str) -> list[Any]:
        return [rng.normal(size=(4, 6)).astype(dtype), np.int32(2)]

    check = checks.gradient(gen_nn_ops.top_kv2, inputs, ("float32", "float64"), np.random.default_rng(0))
    assert check.status == "pass", check.detail
    assert check.values["gradient_max_error"] < 1e-6

    def ints(rng: np.random.Generator, dtype: str) -> list[Any]:
        return [rng.integers(0, 9, size=(3,)).astype(dtype)]

    skipped = checks.gradient(gen_math_ops.neg, ints, ("int32",), np.random.default_rng(0))
    assert (skipped.status, skipped.detail) == (
        "skip",
        "the gradient is checked on float64 inputs, and this op takes no float64 input (it takes int32)",
    )


def test_forward_compares_every_output_in_its_own_type() -> None:
    def inputs(rng: np.random.Generator, dtype: str) -> list[Any]:
        return [rng.permutation(12).reshape(3, 4).astype(dtype), np.int32(2)]

    def reference(x: np.ndarray, k: np.int32) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(-x, axis=1)[:, :k]
        return np.take_along_axis(x, order, axis=1), order.astype(np.int32)

    def wrong_indices(x: np.ndarray, k: np.int32) -> tuple[np.ndarray, np.ndarray]:
        values, order = reference(x, k)
        return values, order + 1

    rng = np.random.default_rng(0)
    types = ("int32", "float64")
    assert checks.forward(gen_nn_ops.top_kv2, inputs, reference, types, rng).status == "pass"
    failed = checks.forward(gen_nn_ops.top_kv2, inputs, wrong_indices, types, rng)
    assert (failed.status, failed.detail) == ("fail", "int32 output 1: off NumPy by up to 1")
    # Without a reference, the op still runs: one that refuses its inputs fails there.
    with pytest.raises(tf.errors.InvalidArgumentError):
        checks.forward(gen_nn_ops.top_kv2, lambda rng, d: [np.zeros(3, d), np.int32(5)], None, types, rng)


def test_differences_of_any_type() -> None:
    assert checks.difference(np.array([b"a", b"b"], object), np.array([b"a", b"b"], object)) == 0.0
    assert checks.difference(np.array([b"a"], object), np.array([b"z"], object)) == math.inf
    assert checks.difference(np.array([1.0, np.nan]), np.array([1.0, np.nan])) == 0.0
    assert checks.difference(np.array([1.0, np.nan]), np.array([1.0, 2.0])) == math.inf
    assert checks.difference(np.array([1 + 1j]), np.array([1 + 2j])) == 1.0
    assert checks.difference(np.array([True, False]), np.array([True, True])) == 1.0
