"""The op's CUDA kernel: whether to build it, and whether it agrees with the CPU one.

An op ``op.cc`` has a CUDA half when ``op.cu`` lies beside it (the shipped ops all
do). ``cuda=auto`` builds it where it can run, with nvcc and a GPU that TensorFlow
sees; ``cuda=on`` builds it wherever nvcc is, so that a machine without a GPU
still compiles it and registers its GPU kernels; ``cuda=off`` never does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labs.customop.checks import FORWARD_TOLERANCE, Check
from labs.customop.ops import Inputs

CHOICES = ("auto", "on", "off")
CASES = 3  # random inputs a dtype, as in the forward check


def companion(source: Path) -> Path:
    """Where the CUDA half of ``source`` lies: ``op.cu`` beside ``op.cc``."""
    return source.with_suffix(".cu")


@dataclass(frozen=True)
class Plan:
    source: Path | None  # the .cu to build in; None: a build for the CPU alone
    arch: str | None  # nvcc's -arch: the GPU's own, or None for nvcc's default
    why_not: str  # with no source, why no CUDA kernel is built


def plan(setting: str, source: Path) -> Plan:
    import tensorflow as tf

    from labs.customop import build

    cu = companion(source)
    if setting == "off":
        return Plan(None, None, "cuda=off: built for the CPU alone")
    if not cu.is_file():
        return Plan(None, None, f"no CUDA source {cu.name} beside {source.name}: a CPU kernel only")
    if build.cuda_compiler() is None:
        return Plan(None, None, "no nvcc on PATH (or $NVCC): a CUDA kernel cannot be compiled here")
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus and setting == "auto":
        return Plan(
            None,
            None,
            "TensorFlow sees no GPU (a run on the cpu device hides them); "
            "--set cuda=on compiles the kernel and registers it anyway",
        )
    arch = None
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
        arch = f"sm_{capability[0]}{capability[1]}" if capability else None
    return Plan(cu, arch, "")


def versions() -> str:
    """nvcc's CUDA beside TensorFlow's, and what a difference means."""
    import tensorflow as tf

    from labs.customop import build

    nvcc = build.cuda_compiler()
    nvcc_release = build.cuda_release(nvcc) if nvcc else "none"
    theirs = str(tf.sysconfig.get_build_info().get("cuda_version", "none"))
    text = f"nvcc is CUDA {nvcc_release}, TensorFlow was built with CUDA {theirs}"
    if theirs.split(".")[:1] != nvcc_release.split(".")[:1]:
        text += f"; the op carries its own CUDA {nvcc_release} runtime, so the GPU's driver must support it"
    return text


def gpu_dtypes(op: str) -> list[str]:
    """The dtypes ``op`` has a registered GPU kernel for."""
    from tensorflow.python.framework import dtypes, kernels

    found = []
    for kernel in kernels.get_registered_kernels_for_op(op).kernel:
        if kernel.device_type != "GPU":
            continue
        types = [t for c in kernel.constraint for t in c.allowed_values.list.type] or [0]
        found += [dtypes.as_dtype(t).name if t else "any" for t in types]
    return sorted(set(found))


def check(op: str, call: Callable[..., Any], inputs: Inputs | None, dtypes: tuple[str, ...],
          rng: np.random.Generator, built_from: Plan) -> Check:  # fmt: skip
    """Skip with the reason when no kernel was built; else compare it with the CPU's on a GPU."""
    import tensorflow as tf

    if built_from.source is None:
        return Check("cuda", "skip", built_from.why_not)
    registered = gpu_dtypes(op)
    if not registered:
        return Check(
            "cuda",
            "fail",
            f"built with {built_from.source.name}, but {op} has no GPU kernel registered: "
            "does the .cc register one (Device(DEVICE_GPU)) under #if GOOGLE_CUDA?",
        )
    gpus = tf.config.list_logical_devices("GPU")
    if not gpus:
        return Check(
            "cuda",
            "skip",
            f"compiled {built_from.source.name} with nvcc and registered GPU kernels "
            f"for {', '.join(registered)}; TensorFlow sees no GPU to run them on",
            {"cuda_kernels": float(len(registered))},
        )
    if inputs is None:
        return Check("cuda", "skip", f"GPU kernels for {', '.join(registered)}; no inputs() to run them on")
    return agreement(call, inputs, dtypes, rng, gpus[0].name)


def agreement(call: Callable[..., Any], inputs: Inputs, dtypes: tuple[str, ...], rng: np.random.Generator,
              device: str, reference: str = "/CPU:0") -> Check:  # fmt: skip
    """The op on ``device`` against the op on ``reference``, on the same random inputs.

    Eager TensorFlow quietly falls back to another device when ``device`` has no kernel
    for a dtype, so each result's own device is checked, not assumed.
    """
    import tensorflow as tf

    wanted = tf.DeviceSpec.from_string(device).device_type
    worst, cases = 0.0, 0
    for dtype in dtypes:
        for _ in range(CASES):
            arrays = inputs(rng, dtype)
            try:
                with tf.device(reference):
                    want = np.asarray(call(*arrays), np.float64)
                with tf.device(device):
                    result = call(*arrays)
            except tf.errors.OpError as exc:
                return Check("cuda", "fail", f"{dtype} on {device}: {exc.message.splitlines()[0]}")
            ran_on = tf.DeviceSpec.from_string(result.device)
            if ran_on.device_type != wanted:
                detail = f"{dtype}: asked for {device}, ran on {ran_on.device_type}: no kernel there"
                return Check("cuda", "fail", detail)
            error = float(np.abs(np.asarray(result, np.float64) - want).max(initial=0.0))
            scale = max(1.0, float(np.abs(want).max(initial=0.0)))
            if error > FORWARD_TOLERANCE[dtype] * scale:
                detail = f"{dtype}: {device} is off {reference} by up to {error:.3g}"
                return Check("cuda", "fail", detail, {"cuda_max_error": error})
            worst, cases = max(worst, error / scale), cases + 1
    detail = (
        f"{device} and {reference} agree on {cases} random cases in {', '.join(dtypes)}: relative "
        f"difference at most {worst:.2g} (the other checks ran on {wanted} too)"
    )
    return Check("cuda", "pass", detail, {"cuda_max_error": worst})
