"""Small real labs used only by the tests.

Each is a genuine :class:`labs.registry.Lab` run by the real runner in a real
child process; tests load them as ``tests.fixture_labs:NAME``.
"""

from __future__ import annotations

import ctypes
import os
import resource
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np

from labs import events as ev
from labs.context import RunContext
from labs.params import param
from labs.registry import Lab

RunGen = Generator[ev.Event, None, dict[str, Any]]

# Long enough to never end during a test, short enough that a leaked process goes away.
SLOW_LIMIT_S = 600.0


# -- OK: a few metrics and logs, then a summary --------------------------------


@dataclass(frozen=True)
class OkParams:
    steps: int = param(3, "metrics to emit", min=1, max=100)


def run_ok(p: OkParams, ctx: RunContext) -> RunGen:
    yield ev.Log("ok lab starting [/tmp/x]")  # brackets: must never be read as markup
    for step in range(1, p.steps + 1):
        yield ev.Metric(step=step, values={"loss": 1.0 / step, "step_sq": float(step * step)})
    yield ev.Log("ok lab done", level="info")
    return {"answer": 42, "steps": p.steps, "seed": ctx.seed}


OK = Lab(
    name="ok",
    title="OK",
    summary="emits a few metrics and finishes",
    params_cls=OkParams,
    run="tests.fixture_labs:run_ok",
    key_metric="loss",
    steps=lambda p: p.steps,
)


# -- RAISES: a Python exception after one metric -------------------------------


@dataclass(frozen=True)
class RaisesParams:
    message: str = param("boom", "the exception's message")


def run_raises(p: RaisesParams, ctx: RunContext) -> RunGen:
    yield ev.Metric(step=1, values={"loss": 0.5})
    raise ValueError(p.message)


RAISES = Lab(
    name="raises",
    title="Raises",
    summary="raises ValueError after one metric",
    params_cls=RaisesParams,
    run="tests.fixture_labs:run_raises",
)


# -- SEGFAULT: the process dies from a signal ----------------------------------


@dataclass(frozen=True)
class CrashParams:
    how: str = param("segfault", "how to crash", choices=("segfault", "abort"))


def run_crash(p: CrashParams, ctx: RunContext) -> RunGen:
    yield ev.Metric(step=1, values={"loss": 0.25})
    yield ev.Log(f"about to crash by {p.how}")
    if p.how == "segfault":
        ctypes.string_at(0)  # reads address 0: SIGSEGV
    else:
        os.abort()
    return {}  # never reached


SEGFAULT = Lab(
    name="crash",
    title="Crash",
    summary="dies from SIGSEGV or SIGABRT after one metric",
    params_cls=CrashParams,
    run="tests.fixture_labs:run_crash",
)


# -- SLOW: runs until cancelled ------------------------------------------------


@dataclass(frozen=True)
class SlowParams:
    interval: float = param(0.05, "seconds between metrics", min=0.001, max=10.0)
    mode: str = param(
        "yield",
        "yield: a metric every interval, never looking at the cancel flag (the runner's "
        "between-events check stops it); check_flag: one metric, then a long loop that "
        "returns when ctx.cancelled is set; ignore: one metric, then sleeps without "
        "yielding or looking at the flag (only SIGKILL stops it)",
        choices=("yield", "check_flag", "ignore"),
    )


def run_slow(p: SlowParams, ctx: RunContext) -> RunGen:
    deadline = time.monotonic() + SLOW_LIMIT_S
    if p.mode == "yield":
        step = 0
        while time.monotonic() < deadline:
            step += 1
            yield ev.Metric(step=step, values={"tick": float(step)})
            yield ev.Frame("tick", step, np.full((2, 2), float(step), np.float32))
            time.sleep(p.interval)
        return {"steps": step}
    yield ev.Metric(step=1, values={"tick": 1.0})
    # A long computation that never yields, like one big compiled call.
    while time.monotonic() < deadline:
        if p.mode == "check_flag" and ctx.cancelled:
            return {"steps": 1, "stopped_early": True}
        time.sleep(0.02)
    return {"steps": 1}


SLOW = Lab(
    name="slow",
    title="Slow",
    summary="emits a metric every 0.05 s until cancelled",
    params_cls=SlowParams,
    run="tests.fixture_labs:run_slow",
    key_metric="tick",
)


# -- MEMORY: a MemoryError under an address-space limit ------------------------


@dataclass(frozen=True)
class MemoryParams:
    headroom_mb: int = param(300, "address space allowed beyond the current use", min=1, max=100_000)
    request_mb: int = param(4096, "size of the array that does not fit", min=1, max=1_000_000)


def run_memory(p: MemoryParams, ctx: RunContext) -> RunGen:
    import numpy as np
    import psutil

    yield ev.Metric(step=1, values={"loss": 1.0})
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = psutil.Process().memory_info().vms + p.headroom_mb * 2**20
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        big = np.ones(p.request_mb * 2**20, dtype=np.uint8)  # raises MemoryError
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    return {"allocated": int(big.size)}  # only if the limit did not bite


MEMORY = Lab(
    name="memory",
    title="Memory",
    summary="raises MemoryError under RLIMIT_AS",
    params_cls=MemoryParams,
    run="tests.fixture_labs:run_memory",
)


# -- DEVICES: what the run's TensorFlow was set up with ------------------------


@dataclass(frozen=True)
class DevicesParams:
    logical_cpus: int = param(2, "logical CPU devices to make before TensorFlow starts", min=1, max=8)
    threads: int = param(1, "intra-op threads to set before TensorFlow starts", min=1, max=64)


def devices_before_tensorflow(p: DevicesParams, device: str) -> None:
    import tensorflow as tf

    # Both raise RuntimeError once TensorFlow's runtime has started: a warm spare must not have.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * p.logical_cpus)
    tf.config.threading.set_intra_op_parallelism_threads(p.threads)


def run_devices(p: DevicesParams, ctx: RunContext) -> RunGen:
    import tensorflow as tf

    yield ev.Metric(step=1, values={"gpus": float(len(tf.config.list_logical_devices("GPU")))})
    return {
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "logical_cpus": len(tf.config.list_logical_devices("CPU")),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "pid": os.getpid(),
    }


DEVICES = Lab(
    name="devices",
    title="Devices",
    summary="reports the devices and threads its TensorFlow was set up with",
    params_cls=DevicesParams,
    run="tests.fixture_labs:run_devices",
    before_tensorflow=devices_before_tensorflow,
)
