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

from labs.customop.checks import CASES, Check, difference, first_line, listed, size, tolerance
from labs.customop.shipped import Inputs

CHOICES = ("auto", "on", "off")


def companion(source: Path) -> Path:
    """Where the CUDA half of ``source`` lies: ``op.cu`` beside ``op.cc``."""
    return source.with_suffix(".cu")


@dataclass(frozen=True)
class Plan:
    source: Path | None  # the .cu to build in; None: a build for the CPU alone
    arch: str | None  # nvcc's -arch: sm_XY for the GPU, compute_XY to JIT, None for nvcc's default
    why_not: str = ""  # with no source, why no CUDA kernel is built
    verdict: str = "skip"  # with no source, the cuda check's status: "fail" where cuda=on was refused


def plan(setting: str, source: Path) -> Plan:
    import tensorflow as tf

    from labs.customop import build

    cu = companion(source)
    if setting == "off":
        return Plan(None, None, "cuda=off: built for the CPU alone")
    if not cu.is_file():
        return Plan(None, None, f"no CUDA source {cu.name} beside {source.name}: a CPU kernel only")
    nvcc = build.cuda_compiler()
    if nvcc is None:
        return Plan(None, None, "no nvcc on PATH (or $NVCC): a CUDA kernel cannot be compiled here")
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        if setting == "auto":
            return Plan(
                None,
                None,
                "TensorFlow sees no GPU (a run on the cpu device hides them); "
                "--set cuda=on compiles the kernel and registers it anyway",
            )
        return Plan(cu, None)  # compiled and registered, for nvcc's default architecture
    capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
    arch, unrunnable = target(nvcc, capability)
    unrunnable = driver_too_old(nvcc) or unrunnable
    if unrunnable:
        # Loaded, the library's GPU kernels would be picked for every check and fail to launch.
        return Plan(None, None, unrunnable, "skip" if setting == "auto" else "fail")
    return Plan(cu, arch)


def driver_too_old(nvcc: str) -> str:
    """Why the driver cannot run what this nvcc builds ("" when it can, or cannot be told):
    the library carries nvcc's CUDA runtime, which needs a driver of that CUDA or newer."""
    from labs import devices
    from labs.customop import build

    release, driver = build.cuda_release(nvcc), devices.driver_cuda_version()
    if release is None or driver is None or driver >= release:
        return ""
    theirs, mine = f"{driver[0]}.{driver[1]}", f"{release[0]}.{release[1]}"
    return (
        f"the GPU's driver supports CUDA {theirs}, older than nvcc's CUDA {mine}, whose runtime the op "
        f"would carry: use an nvcc of CUDA {theirs} or older (NVCC=...), or a newer driver"
    )


def target(nvcc: str, capability: tuple[int, int] | None) -> tuple[str | None, str]:
    """nvcc's -arch for a GPU of this compute capability, or why its kernels could not run there.

    A GPU older than nvcc's oldest architecture cannot run them (nvcc 13 dropped Pascal and
    Volta, which TensorFlow 2.21 still runs on). A GPU newer than nvcc knows gets PTX, which
    its driver compiles when the library loads.
    """
    from labs.customop import build

    known = build.cuda_architectures(nvcc)
    if capability is None or not known:
        return None, ""
    mine = capability[0] * 10 + capability[1]
    if mine < known[0]:
        return None, f"the GPU is sm_{mine}, and this nvcc compiles for sm_{known[0]} and newer"
    if mine in known:
        return f"sm_{mine}", ""
    return f"compute_{max(a for a in known if a <= mine)}", ""


def versions() -> str:
    """nvcc's CUDA, TensorFlow's and the driver's, for the build log."""
    import tensorflow as tf

    from labs import devices
    from labs.customop import build

    nvcc = build.cuda_compiler()
    release = build.cuda_release(nvcc) if nvcc else None
    theirs = tf.sysconfig.get_build_info().get("cuda_version", "none")
    mine = ".".join(map(str, release)) if release else "of unknown release"
    text = f"nvcc is CUDA {mine} (its runtime goes into the op), TensorFlow was built with CUDA {theirs}"
    if (driver := devices.driver_cuda_version()) is not None:
        text += f", the driver supports CUDA {driver[0]}.{driver[1]}"
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
        return Check("cuda", built_from.verdict, built_from.why_not)
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
                    want = listed(call(*arrays))
                with tf.device(device):
                    got = listed(call(*arrays))
            except tf.errors.OpError as exc:
                return Check("cuda", "fail", f"{dtype} on {device}: {first_line(exc)}")
            for output in got:
                ran_on = tf.DeviceSpec.from_string(output.device).device_type
                if ran_on != wanted:
                    detail = f"{dtype}: asked for {device}, ran on {ran_on}: no kernel there"
                    return Check("cuda", "fail", detail)
            pairs = [(np.asarray(w), np.asarray(g)) for w, g in zip(want, got, strict=True)]
            error = max((difference(w, g) for w, g in pairs), default=0.0)
            scale = max((size(w) for w, _ in pairs), default=1.0)
            if any(difference(w, g) > tolerance(g) * scale for w, g in pairs):
                detail = f"{dtype}: {device} is off {reference} by up to {error:.3g}"
                return Check("cuda", "fail", detail, {"cuda_max_error": error})
            worst, cases = max(worst, error / scale), cases + 1
    detail = (
        f"{device} and {reference} agree on {cases} random cases in {', '.join(dtypes)}: "
        f"relative difference at most {worst:.2g}"
    )
    return Check("cuda", "pass", detail, {"cuda_max_error": worst})
