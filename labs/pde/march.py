"""The loop every time-stepped equation shares: compiled steps in chunks, one frame each."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from typing import Any

import numpy as np

from labs import events as ev
from labs.context import Diverged

# report(step, fields, steps_per_s): the events for one chunk (its metric and frame).
Report = Callable[[int, tuple[np.ndarray, ...], float], Iterable[ev.Event]]


def march(
    advance: Callable[..., Any],
    state: tuple[Any, ...],
    steps: int,
    every: int,
    report: Report,
    blow_up_hint: str,
) -> Generator[ev.Event, None, tuple[tuple[np.ndarray, ...], float]]:
    """Step ``state`` with ``advance(*state, n)`` in chunks of ``every`` steps.

    Returns the final fields as NumPy arrays and the steps per second. A field
    that turns NaN/inf raises Diverged naming the step and the hint.
    """
    import tensorflow as tf

    yield ev.Stage("compiling the stepper with XLA")
    advance(*state, tf.constant(0))  # compile now, so steps_per_s measures stepping alone
    yield ev.Log("stepper compiled with XLA")
    fields = tuple(np.asarray(s) for s in state)
    done, rate, started = 0, 0.0, time.perf_counter()
    while done < steps:
        chunk = min(every, steps - done)
        out = advance(*state, tf.constant(chunk))
        state = out if isinstance(out, tuple) else (out,)
        done += chunk
        fields = tuple(s.numpy() for s in state)
        if not all(np.isfinite(f).all() for f in fields):
            raise Diverged(f"the field became NaN/inf by step {done}: the scheme blew up ({blow_up_hint})")
        rate = done / (time.perf_counter() - started)
        yield from report(done, fields, rate)
    return fields, rate
