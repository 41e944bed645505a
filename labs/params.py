"""Typed, validated lab parameters.

A lab's parameters are a frozen dataclass whose fields are declared with
:func:`param`. The field's type annotation gives the type; the metadata gives
the one-line help and the allowed range or choices. The CLI, the TUI form and
the run recording all read the same :class:`ParamSpec` list, so there is one
place that says what a parameter is.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

P = TypeVar("P")


class ParamError(ValueError):
    """A parameter value is unknown, of the wrong type or out of range."""


def param(
    default: Any,
    help: str,  # noqa: A002 - mirrors argparse/typer naming
    *,
    min: float | None = None,  # noqa: A002
    max: float | None = None,  # noqa: A002
    choices: tuple[str, ...] | None = None,
    when: tuple[str, tuple[str, ...]] | None = None,
    default_by: tuple[str, dict[str, Any]] | None = None,
) -> Any:
    """Declare one parameter field of a lab's parameter dataclass.

    ``when=("equation", ("heat",))`` says the parameter only matters while
    another parameter has one of those values (the form hides it otherwise).
    ``default_by=("equation", {"wave": 500})`` gives another default while that
    choice parameter has that value; :func:`build` and the form apply it to a
    value left unset (the dataclass itself only knows ``default``).
    """
    by = None if default_by is None else (default_by[0], tuple(default_by[1].items()))
    meta = {"help": help, "min": min, "max": max, "choices": choices, "when": when, "default_by": by}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class ParamSpec:
    """What one parameter is: its name, type, default and allowed values."""

    name: str
    type: type
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    when: tuple[str, tuple[str, ...]] | None = None
    default_by: tuple[str, tuple[tuple[str, Any], ...]] | None = None  # (choice, ((value, default), ...))

    def applies(self, values: dict[str, Any]) -> bool:
        """Whether this parameter matters, given the others' current values."""
        if self.when is None:
            return True
        other, wanted = self.when
        return values.get(other) in wanted

    def default_for(self, values: dict[str, Any]) -> Any:
        """The default, given the others' current values."""
        if self.default_by is None:
            return self.default
        other, defaults = self.default_by
        return dict(defaults).get(str(values.get(other)), self.default)

    @property
    def default_text(self) -> str:
        """The default in words: "256", or "256 (wave: 500)" where another parameter changes it."""
        text = _fmt(self.default)
        if self.default_by is not None:
            text += " (" + ", ".join(f"{k}: {_fmt(v)}" for k, v in self.default_by[1]) + ")"
        return text

    @property
    def type_name(self) -> str:
        return "choice" if self.choices else self.type.__name__

    @property
    def allowed(self) -> str:
        """The valid values in words, for help texts and error lines."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type is bool:
            return "true or false"
        if self.min is not None and self.max is not None:
            return f"{self.type.__name__} in [{_fmt(self.min)}, {_fmt(self.max)}]"
        if self.min is not None:
            return f"{self.type.__name__} >= {_fmt(self.min)}"
        if self.max is not None:
            return f"{self.type.__name__} <= {_fmt(self.max)}"
        return self.type.__name__

    def parse(self, text: str) -> Any:
        """Turn user text into a checked value, or raise :class:`ParamError`."""
        text = text.strip()
        try:
            value = _convert(self.type, text)
        except ValueError:
            raise ParamError(f"{self.name}={text!r} is not valid: expected {self.allowed}") from None
        self.check(value)
        return value

    def check(self, value: Any) -> None:
        """Raise :class:`ParamError` if an already typed value is out of range."""
        if self.choices and value not in self.choices:
            raise ParamError(f"{self.name}={value!r} is not valid: expected {self.allowed}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ParamError(f"{self.name}={value} is not valid: expected a finite number")
        too_low = self.min is not None and value < self.min
        too_high = self.max is not None and value > self.max
        if too_low or too_high:
            raise ParamError(f"{self.name}={_fmt(value)} is out of range: expected {self.allowed}")


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _convert(kind: type, text: str) -> Any:
    if kind is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    if kind is int:
        as_float = float(text)  # accepts "1e3"; refuses "abc"
        if not as_float.is_integer():
            raise ValueError(text)
        return int(as_float)
    return kind(text)


def specs(params_cls: type) -> tuple[ParamSpec, ...]:
    """The parameter specs of a lab's parameter dataclass, in declaration order."""
    hints = typing.get_type_hints(params_cls)
    found = tuple(
        ParamSpec(
            name=f.name,
            type=hints[f.name],
            default=f.default,
            help=f.metadata["help"],
            min=f.metadata["min"],
            max=f.metadata["max"],
            choices=f.metadata["choices"],
            when=f.metadata.get("when"),
            default_by=f.metadata.get("default_by"),
        )
        for f in dataclasses.fields(params_cls)
    )
    _check_default_by(found)
    return found


def _check_default_by(found: tuple[ParamSpec, ...]) -> None:
    """A lab's mistake in a ``default_by`` shows when its parameters are first read, not as a
    default that silently never applies or a form that cannot show it."""
    by_name = {s.name: s for s in found}
    for spec in found:
        if spec.default_by is None:
            continue
        other, defaults = spec.default_by
        choices = by_name[other].choices if other in by_name else None
        if not choices:
            raise TypeError(f"{spec.name}: default_by names {other!r}, which is not a choice parameter")
        for value, default in defaults:
            if value not in choices:
                raise TypeError(f"{spec.name}: default_by names {other}={value!r}, not one of its choices")
            if not isinstance(default, spec.type) or isinstance(default, bool) is not (spec.type is bool):
                raise TypeError(f"{spec.name}: its default for {other}={value} is not a {spec.type.__name__}")
            try:
                spec.check(default)
            except ParamError as exc:
                raise TypeError(f"{spec.name}: its default for {other}={value}: {exc}") from None


def build(params_cls: type[P], values: dict[str, Any]) -> P:
    """Build a parameter dataclass from typed or textual values.

    Unknown names and bad values raise :class:`ParamError` naming what is valid.
    Cross-parameter checks live in the dataclass's ``__post_init__``. A value
    left unset takes its default for the others' values (``default_by``).
    """
    by_name = {s.name: s for s in specs(params_cls)}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise ParamError(f"unknown parameter {unknown[0]!r}: valid parameters are {', '.join(by_name)}")
    typed: dict[str, Any] = {}
    for name, value in values.items():
        spec = by_name[name]
        if isinstance(value, str):
            typed[name] = spec.parse(value)
        else:
            if spec.type is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, spec.type) or (spec.type is int and isinstance(value, bool)):
                raise ParamError(f"{name}={value!r} is not valid: expected {spec.allowed}")
            spec.check(value)
            typed[name] = value
    chosen = {name: typed.get(name, spec.default) for name, spec in by_name.items()}
    for name, spec in by_name.items():
        if name not in typed and spec.default_by is not None:
            typed[name] = spec.default_for(chosen)
    try:
        return params_cls(**typed)
    except ParamError:
        raise
    except (TypeError, ValueError) as exc:
        raise ParamError(str(exc)) from None


SEED_MAX = 2**32 - 1  # what NumPy's and Keras's seeding accept


def check_seed(seed: int) -> int:
    if not 0 <= seed <= SEED_MAX:
        raise ParamError(f"seed={seed} is out of range: expected int in [0, {SEED_MAX}]")
    return seed


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """Split ``name=value`` strings from ``--set`` options."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParamError(f"--set {pair!r} is not of the form name=value")
        out[name.strip()] = value
    return out


def to_dict(params: Any) -> dict[str, Any]:
    return dataclasses.asdict(params)
