"""Sweeps: the grid product of several values of some parameters, times seeds, as a
group of runs that share a sweep id.

``NAME=V1,V2,V3`` sweeps NAME over three values. A parameter whose own value is a
comma list (``batch_sizes``, ``hidden``) takes its lists in brackets:
``hidden=[8,4],[16]`` sweeps two values, ``8,4`` and ``16``. A field of the TUI's
form takes the same text.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime

from labs.params import ParamError, ParamSpec


@dataclass(frozen=True)
class Axis:
    name: str
    values: tuple[str, ...]


def parse_axis(text: str) -> Axis:
    """``NAME=V1,V2`` (lists in brackets) as an axis; ParamError for anything else."""
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise ParamError(f"--sweep {text!r}: expected NAME=V1,V2,... (lists in brackets: NAME=[1,2],[3])")
    values, depth, item = [], 0, ""
    for char in rest:
        if char == "[":
            depth += 1
            if depth > 1:
                raise ParamError(f"--sweep {text!r}: brackets inside brackets")
            continue
        if char == "]":
            depth -= 1
            if depth < 0:
                raise ParamError(f"--sweep {text!r}: a ] with no [")
            continue
        if char == "," and depth == 0:
            values.append(item.strip())
            item = ""
            continue
        item += char
    if depth:
        raise ParamError(f"--sweep {text!r}: a [ with no ]")
    values.append(item.strip())
    if any(not v for v in values):
        raise ParamError(f"--sweep {text!r}: an empty value")
    if len(set(values)) != len(values):
        raise ParamError(f"--sweep {text!r}: a value twice")
    return Axis(name, tuple(values))


def swept(spec: ParamSpec, text: str) -> tuple[str, ...] | None:
    """The values a form field's text sweeps (``0.1,0.2``; lists in brackets), or None for
    one plain value. ParamError for a sweep with a bad value, naming it."""
    try:
        spec.parse(text)
        return None
    except ParamError:
        if "," not in text:
            raise
    axis = parse_axis(f"{spec.name}={text}")
    for value in axis.values:
        spec.parse(value)
    return axis.values


def grid(axes: list[Axis], seeds: int, base_seed: int) -> list[tuple[dict[str, str], int]]:
    """Every combination of the axes' values, each with ``seeds`` seeds from ``base_seed``."""
    names = [axis.name for axis in axes]
    if len(set(names)) != len(names):
        raise ParamError(f"--sweep names a parameter twice: {', '.join(names)}")
    if seeds < 1:
        raise ParamError(f"--seeds {seeds}: at least 1")
    return [
        (dict(zip(names, combination, strict=True)), base_seed + n)
        for combination in itertools.product(*(axis.values for axis in axes))
        for n in range(seeds)
    ]


def sweep_id(lab: str) -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{lab}-sweep-{secrets.token_hex(2)}"
