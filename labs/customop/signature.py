"""What a loaded op takes and gives, from its registered OpDef, and random inputs made to fit.

A user's op arrives with nothing but its C++ source: its signature (input types,
type attributes and the kernels registered for them, attributes the caller must
set) is what the checks have to go on. Imported only inside a run: it needs TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

SHAPE = (4, 3)  # enough for an elementwise op, and to see an op that refuses the shape
LIST_LENGTH = 2  # tensors in an ``N * T`` input, unless its N must be more
FLOATS = ("float16", "bfloat16", "float32", "float64")
DIFFERENTIABLE = FLOATS + ("complex64", "complex128")
# Types a random input can be made of; the rest (resource, variant, quantized) need the user's inputs().
MAKEABLE = DIFFERENTIABLE + (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "string",
)  # fmt: skip


class CannotMake(Exception):
    """No random input fits this op: the message says why, for the check that skips."""


@dataclass(frozen=True)
class Arg:
    """One input or output: a fixed ``dtype``, or the attr naming its type (``type_attr``);
    ``number_attr`` makes it a list of tensors of that type, ``type_list_attr`` a list of types."""

    name: str
    dtype: str = ""
    type_attr: str = ""
    number_attr: str = ""
    type_list_attr: str = ""

    def text(self) -> str:
        kind = self.dtype or self.type_attr or self.type_list_attr
        return f"{self.name}: {self.number_attr + ' * ' if self.number_attr else ''}{kind}"


@dataclass(frozen=True)
class Attr:
    name: str
    kind: str  # the OpDef's attr type: "type", "int", "float", "list(type)", ...
    allowed: tuple[Any, ...]  # a type attr's dtypes, a string attr's values
    default: Any  # None: the caller must set it
    minimum: int | None


@dataclass(frozen=True)
class Signature:
    op: str
    inputs: tuple[Arg, ...]
    outputs: tuple[Arg, ...]
    attrs: tuple[Attr, ...]
    cpu_types: dict[str, tuple[str, ...]]  # the dtypes a CPU kernel is registered for, by type attr

    @classmethod
    def of(cls, op: str) -> Signature:
        from tensorflow.python.framework import kernels, op_def_registry

        op_def = op_def_registry.get(op)
        if op_def is None:
            raise LookupError(f"no op {op} is registered")
        cpu_types: dict[str, set[str]] = {}
        for kernel in kernels.get_registered_kernels_for_op(op).kernel:
            if kernel.device_type == "CPU":
                for constraint in kernel.constraint:
                    cpu_types.setdefault(constraint.name, set()).update(
                        _name(t) for t in constraint.allowed_values.list.type
                    )
        return cls(
            op,
            tuple(_arg(a) for a in op_def.input_arg),
            tuple(_arg(a) for a in op_def.output_arg),
            tuple(_attr(a) for a in op_def.attr),
            {name: tuple(sorted(types)) for name, types in cpu_types.items()},
        )

    def text(self) -> str:
        """``Name(x: T, w: T) -> y: T; T in {float32, float64}``."""
        ins = ", ".join(a.text() for a in self.inputs)
        outs = ", ".join(a.text() for a in self.outputs) or "nothing"
        text = f"{self.op}({ins}) -> {outs}"
        for attr in self.attrs:
            if attr.kind == "type" and attr.allowed:
                text += f"; {attr.name} in {{{', '.join(attr.allowed)}}}"
        return text

    @property
    def main_attr(self) -> Attr | None:
        """The type attr of the first input typed by one: the forward check runs each of its types."""
        names = [a.type_attr for a in self.inputs if a.type_attr]
        return next((a for a in self.attrs if names and a.name == names[0]), None)

    def dtypes(self) -> tuple[str, ...]:
        """The dtypes the checks run: those of the main type attr that a CPU kernel is registered
        for and a random input can be made of; for an op of fixed types, its first input's
        (or its first output's) type."""
        main = self.main_attr
        if main is None:
            fixed = [a.dtype for a in self.inputs + self.outputs if a.dtype]
            return (fixed[0],) if fixed else ("float32",)
        allowed = main.allowed or ("float32", "float64")
        registered = self.cpu_types.get(main.name)
        types = tuple(t for t in allowed if t in MAKEABLE and (registered is None or t in registered))
        return types or allowed[:1]

    def random_inputs(self, rng: np.random.Generator, dtype: str) -> list[Any]:
        """One random value per input, ``dtype`` for those the main type attr types.

        Raises :class:`CannotMake` for an input of a type no random value is made of.
        """
        main = self.main_attr
        values: list[Any] = []
        for arg in self.inputs:
            if arg.type_list_attr:
                types = self._attr(arg.type_list_attr).default or [dtype] * LIST_LENGTH
                values.append([_random(rng, str(t), arg) for t in types])
                continue
            if arg.dtype:
                kind = arg.dtype
            elif main is not None and arg.type_attr == main.name:
                kind = dtype
            else:
                kind = self._type_of(arg.type_attr)
            if arg.number_attr:
                count = max(LIST_LENGTH, self._attr(arg.number_attr).minimum or 0)
                values.append([_random(rng, kind, arg) for _ in range(count)])
            else:
                values.append(_random(rng, kind, arg))
        return values

    def attr_values(self) -> dict[str, Any]:
        """Values for the attrs a caller must set: no default, and not told by an input."""
        told = {n for a in self.inputs for n in (a.type_attr, a.number_attr, a.type_list_attr) if n}
        values = {}
        for attr in self.attrs:
            if attr.default is None and attr.name not in told:
                values[attr.name] = _placeholder(attr)
        return values

    def _attr(self, name: str) -> Attr:
        return next(a for a in self.attrs if a.name == name)

    def _type_of(self, name: str) -> str:
        attr = self._attr(name)
        if attr.default is not None:
            return str(attr.default)
        makeable = [t for t in attr.allowed if t in MAKEABLE]
        return makeable[0] if makeable else "float32"


def _name(dtype: int) -> str:
    from tensorflow.python.framework import dtypes

    return dtypes.as_dtype(dtype).name


def _arg(arg: Any) -> Arg:
    return Arg(
        arg.name,
        _name(arg.type) if arg.type else "",
        arg.type_attr,
        arg.number_attr,
        arg.type_list_attr,
    )


def _attr(attr: Any) -> Attr:
    allowed: tuple[Any, ...] = ()
    if attr.type in ("type", "list(type)"):
        allowed = tuple(_name(t) for t in attr.allowed_values.list.type)
    elif attr.type == "string":
        allowed = tuple(s.decode() for s in attr.allowed_values.list.s)
    return Attr(
        attr.name,
        attr.type,
        allowed,
        _default(attr) if attr.HasField("default_value") else None,
        attr.minimum if attr.has_minimum else None,
    )


def _default(attr: Any) -> Any:
    value = attr.default_value
    field = value.WhichOneof("value")
    if field == "type":
        return _name(value.type)
    if field == "list":
        if attr.type == "list(type)":
            return [_name(t) for t in value.list.type]
        return list(value.list.i or value.list.f or value.list.s or value.list.b)
    if field == "s":
        return value.s.decode()
    return getattr(value, field) if field else None


def _placeholder(attr: Attr) -> Any:
    """The plainest value an attr takes: its minimum, zero, its first allowed value."""
    if attr.kind == "type":
        makeable = [t for t in attr.allowed if t in MAKEABLE]
        return makeable[0] if makeable else "float32"
    if attr.kind == "int":
        return attr.minimum if attr.minimum is not None else 0
    if attr.kind == "float":
        return 0.0
    if attr.kind == "bool":
        return False
    if attr.kind == "string":
        return attr.allowed[0] if attr.allowed else ""
    if attr.kind == "shape":
        return list(SHAPE)
    if attr.kind.startswith("list("):
        inner = Attr(attr.name, attr.kind[5:-1], attr.allowed, None, None)
        return [_placeholder(inner)] * (attr.minimum or 0)
    raise CannotMake(f"its attr {attr.name} is a {attr.kind}: give its value in python= (inputs())")


def _random(rng: np.random.Generator, dtype: str, arg: Arg) -> np.ndarray:
    if dtype not in MAKEABLE:
        raise CannotMake(
            f"its input {arg.name} is a {dtype}: no random one is made of that type; "
            "give inputs(rng, dtype) in python="
        )
    if dtype in DIFFERENTIABLE:
        values = rng.normal(size=SHAPE)
        if dtype.startswith("complex"):
            values = values + 1j * rng.normal(size=SHAPE)
        return values.astype(_numpy_type(dtype))
    if dtype == "bool":
        return rng.random(SHAPE) < 0.5
    if dtype == "string":
        return np.array([[f"w{n}".encode() for n in row] for row in rng.integers(0, 100, SHAPE)], object)
    low = 0 if dtype.startswith("uint") else -9
    return rng.integers(low, 10, SHAPE).astype(dtype)


def _numpy_type(dtype: str) -> Any:
    if dtype == "bfloat16":
        import tensorflow as tf

        return tf.bfloat16.as_numpy_dtype
    return np.dtype(dtype)
