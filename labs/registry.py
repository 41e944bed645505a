"""The labs, by name.

A lab module must import cheaply (no TensorFlow at module level): the menu,
``--help`` and parameter validation all import it. TensorFlow is imported
inside the lab's run function, in the run's own process.
"""

from __future__ import annotations

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


def _origin(ref: str) -> str:
    """ " (from FILE)" for a module that can be found, for error lines."""
    try:
        spec = importlib.util.find_spec(ref.partition(":")[0])
    except Exception:  # finding a submodule imports its package, which may raise too
        return ""
    return f" (from {spec.origin})" if spec is not None and spec.origin else ""


def _builtin() -> dict[str, Lab]:
    from labs.customop.lab import LAB as CUSTOMOP
    from labs.glasses.lab import LAB as GLASSES
    from labs.logreg.lab import LAB as LOGREG
    from labs.minibatch.lab import LAB as MINIBATCH
    from labs.pde.lab import LAB as PDE

    return {lab.name: lab for lab in (PDE, LOGREG, GLASSES, CUSTOMOP, MINIBATCH)}


def all_labs() -> dict[str, Lab]:
    return _builtin()


def get_lab(name: str) -> Lab:
    """A built-in lab by name, or any lab object by ``package.module:NAME``."""
    labs = _builtin()
    if name in labs:
        return labs[name]
    if ":" in name:
        # Like `python -m`, look in the current folder too (the console script's
        # sys.path does not); the run's process inherits this sys.path.
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            lab = resolve(name)
        except SyntaxError as exc:
            where = f"{exc.filename}, line {exc.lineno}" if exc.filename else "its source"
            raise LookupError(f"cannot load lab {name!r}: {where}: SyntaxError: {exc.msg}") from None
        except Exception as exc:  # a user's module may raise anything at import: one line, no traceback
            origin = _origin(name)
            raise LookupError(f"cannot load lab {name!r}{origin}: {type(exc).__name__}: {exc}") from None
        if isinstance(lab, Lab):
            return lab
        raise LookupError(f"{name!r} is not a Lab")
    raise LookupError(f"unknown lab {name!r}: available labs are {', '.join(labs)}")
