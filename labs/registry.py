"""The labs, by name.

Every lab, the built-in ones too, is a plugin: a :class:`Lab` object named by an entry
point of the ``meetup_lab.labs`` group in its package's metadata (see pyproject.toml and
docs/writing-a-lab.md). So this module imports no lab, and a lab package, once installed,
is in the menu, ``list`` and ``params`` like a built-in one. A lab can also be named
without installing it, as ``package.module:NAME``.

A lab module must import cheaply (no TensorFlow at module level): the menu,
``--help`` and parameter validation all import it. TensorFlow is imported
inside the lab's run function, in the run's own process.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs import params as params_mod
from labs.context import RunContext
from labs.events import Event

LABS_GROUP = "meetup_lab.labs"  # the entry-point group
# The package's metadata names its labs: a checkout used without `pip install -e .` (or with
# one from before the labs were entry points) has none.
NO_LABS = "no labs are installed: `pip install -e .` in the project registers them"
OWN_PACKAGE = "meetup-lab"  # a name its labs have is never another package's

RunFunction = Callable[[Any, RunContext], Generator[Event, None, dict[str, Any]]]


@dataclass(frozen=True)
class Lab:
    """A lab: a parameter dataclass plus a run that yields events."""

    name: str
    title: str
    summary: str
    params_cls: type
    run: str  # "module:function", imported only where the run executes
    # The metric `meetup-lab runs` shows: the first of these that the run reported.
    key_metric: str | tuple[str, ...] | None = None
    steps: Callable[[Any], int | None] | None = None  # total steps, for progress and ETA (None: unknown)
    charts: tuple[str, ...] = ()  # metrics the run screen charts first
    order: int = 100  # where the menu and `list` show it: lower first, then by name
    draws: bool = True  # whether runs send frames: the run screen gives a lab that does not more log
    # Called with (params, device) in the run's process before TensorFlow starts its
    # runtime: what can only be set then (logical devices) is set here.
    before_tensorflow: Callable[[Any, str], None] | None = None
    # Values a running lab lets the user change, each with its ladder of settings.
    tunables: dict[str, tuple[float, ...]] = field(default_factory=dict)
    # Called with (params, runs_dir) before a run is started, where a check needs more than
    # the parameters (a run to resume): raises ParamError, so the run is refused up front.
    preflight: Callable[[Any, Path], None] | None = None
    # For a lab that draws a window of a plane (the fractals): called with a run's values, a
    # zoom factor and a pan (steps across and up), it gives the values that change, or None
    # where the run has no window. The run screen's zoom and pan keys use it.
    reframe: Callable[[dict[str, Any], float, int, int], dict[str, float] | None] | None = None

    def total_steps(self, params: Any) -> int | None:
        return self.steps(params) if self.steps else None

    @property
    def specs(self) -> tuple[params_mod.ParamSpec, ...]:
        return params_mod.specs(self.params_cls)

    def build_params(self, values: dict[str, Any]) -> Any:
        return params_mod.build(self.params_cls, values)

    def load_run(self) -> RunFunction:
        return resolve(self.run)


def resolve(ref: str) -> Any:
    """What a "module:name" reference names, its module imported."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def _why(exc: Exception) -> str:
    """What went wrong in loading a lab's module, on one line."""
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}, line {exc.lineno}" if exc.filename else "its source"
        return f"{where}: SyntaxError: {exc.msg}"
    return f"{type(exc).__name__}: {exc}"


def _origin(ref: str) -> str:
    """ " (from FILE)" for a module that can be found, for error lines."""
    try:
        spec = importlib.util.find_spec(ref.partition(":")[0])
    except Exception:  # finding a submodule imports its package, which may raise too
        return ""
    return f" (from {spec.origin})" if spec is not None and spec.origin else ""


@dataclass(frozen=True)
class Installed:
    """The installed labs by name, and by entry-point name a line for each that gave no lab."""

    labs: dict[str, Lab]
    errors: dict[str, str]


@functools.cache  # the installed packages do not change under a running process
def installed() -> Installed:
    from importlib.metadata import entry_points

    found: list[Lab] = []
    errors: dict[str, str] = {}
    # Packages are found in sys.path's order, so one early on the path would otherwise take
    # a built-in lab's name.
    points = sorted(
        entry_points(group=LABS_GROUP), key=lambda point: point.dist is None or point.dist.name != OWN_PACKAGE
    )
    for point in points:
        where = f"lab {point.name!r} ({point.value}, from {point.dist.name if point.dist else '?'})"
        try:
            lab = point.load()
        except Exception as exc:  # a user's package may raise anything: one line, the other labs still work
            if point.dist is not None and point.dist.name == OWN_PACKAGE:
                raise  # a bug of ours: the tests must see it, not a warning
            errors[point.name] = f"{where}: {_why(exc)}"
            continue
        if not isinstance(lab, Lab):
            errors[point.name] = f"{where}: {type(lab).__name__} is not a Lab"
        elif any(other.name == lab.name for other in found):
            errors[point.name] = f"{where}: the name {lab.name!r} is taken by another lab"
        else:
            found.append(lab)
    # Metadata lists entry points by name: the menu's order is the labs' own.
    found.sort(key=lambda lab: (lab.order, lab.name))
    return Installed({lab.name: lab for lab in found}, errors)


def all_labs() -> dict[str, Lab]:
    return dict(installed().labs)


def get_lab(name: str) -> Lab:
    """An installed lab by name, or any lab object by ``package.module:NAME``."""
    found = installed()
    labs, errors = found.labs, found.errors
    if name in labs:
        return labs[name]
    if name in errors:
        raise LookupError(f"cannot load {errors[name]}")
    if ":" in name:
        # Like `python -m`, look in the current folder too (the console script's
        # sys.path does not); the run's process inherits this sys.path.
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            lab = resolve(name)
        except Exception as exc:  # a user's module may raise anything at import: one line, no traceback
            origin = "" if isinstance(exc, SyntaxError) else _origin(name)
            raise LookupError(f"cannot load lab {name!r}{origin}: {_why(exc)}") from None
        if isinstance(lab, Lab):
            return lab
        raise LookupError(f"{name!r} is not a Lab")
    if not labs:
        raise LookupError(f"unknown lab {name!r}: {NO_LABS}")
    raise LookupError(f"unknown lab {name!r}: available labs are {', '.join(labs)}")
