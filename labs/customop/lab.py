"""The ``customop`` lab: build a C++ TensorFlow op, load it, give it a gradient,
and prove it: forward against NumPy, gradient against a numeric Jacobian,
graph against eager, and a training sanity check.

A run is its own process, so an op that crashes takes down the run, never
the app; the run is then recorded as a crash with the signal.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from labs import events as ev
from labs.context import RunContext, RunError
from labs.customop.cuda import CHOICES as CUDA_CHOICES
from labs.customop.cuda import companion
from labs.customop.ops import SHIPPED, OpSpec
from labs.params import ParamError, param
from labs.registry import Lab

CHECKS = ("build", "forward", "gradient", "graph/eager", "training", "cuda")


@dataclass(frozen=True)
class CustomopParams:
    op: str = param("matmul-bias", "the shipped op to build and check", choices=tuple(SHIPPED))
    source: str = param("", "your own op: a C++ source to build and check instead of `op`")
    python: str = param(
        "",
        "with source: Python registering its gradient; may define inputs(rng, dtype), reference(*arrays)",
    )
    data: str = param("digits", "training check data: digits (scikit-learn's 8x8) or a local mnist.npz")
    steps: int = param(300, "training check: gradient steps", min=1, max=100_000)
    cuda: str = param(
        "auto",
        "build the op's CUDA kernel (op.cu beside op.cc): auto = with nvcc and a GPU, "
        "on = wherever nvcc is (compiled and registered even without a GPU), off = never",
        choices=CUDA_CHOICES,
    )

    def __post_init__(self) -> None:
        for name in ("source", "python"):
            value = getattr(self, name)
            if value and not Path(value).expanduser().is_file():
                raise ParamError(f"{name}={value}: no such file")
        if self.python and not self.source:
            raise ParamError("python= goes with source=: it registers the gradient of your own op")
        if self.data != "digits":
            from labs.digits import check_mnist

            if (why := check_mnist(self.data)) is not None:
                raise ParamError(why)
        if self.cuda == "on":
            self._check_cuda()

    def _check_cuda(self) -> None:
        from labs.customop import build

        source = Path(self.source).expanduser() if self.source else SHIPPED[self.op].source
        if not companion(source).is_file():
            raise ParamError(f"cuda=on: there is no CUDA source {companion(source)} beside {source.name}")
        if build.cuda_compiler() is None:
            raise ParamError("cuda=on needs nvcc: put the CUDA toolkit's bin on PATH or set NVCC")


def user_spec(p: CustomopParams, inputs: int) -> OpSpec:
    """A user's op: inputs and reference come from their Python file, where it gives them.

    Without an ``inputs`` there, each of the op's ``inputs`` is a random 4x3 array: enough to
    call an elementwise op, and to see one that crashes or refuses the shape.
    """
    hooks: dict[str, Any] = {}
    if p.python:
        module_spec = importlib.util.spec_from_file_location(
            "meetup_lab_user_op", Path(p.python).expanduser()
        )
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)  # registers its gradient, as the guide's Python does
        hooks = vars(module)

    def default_inputs(rng: np.random.Generator, dtype: str) -> list[np.ndarray]:
        return [rng.normal(size=(4, 3)).astype(dtype) for _ in range(inputs)]

    given = hooks.get("inputs", default_inputs)
    return OpSpec(
        Path(p.source).expanduser(), "", False, ("float32", "float64"), given, hooks.get("reference")
    )


def caller(library: Any, op: str) -> Callable[..., Any]:
    """The library's Python wrapper of ``op`` (``MatMulBias`` → ``mat_mul_bias``)."""
    wanted = op.lower()
    for name in dir(library):
        if name.replace("_", "") == wanted and not name.endswith("fallback"):
            function: Callable[..., Any] = getattr(library, name)
            return function
    raise RunError(f"the library has no Python wrapper for {op}")


def run(p: CustomopParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import tensorflow as tf

    from labs.customop import build, checks, cuda, gradients

    spec = SHIPPED[p.op] if not p.source else None
    source = spec.source if spec is not None else Path(p.source).expanduser()
    plan = cuda.plan(p.cuda, source)
    built, library, cuda_failed = yield from _build(source, plan)
    names = build.op_names(library)
    if not names:
        raise RunError(f"{source.name} registers no op (no REGISTER_OP that loaded)")
    if spec is None:
        spec = replace(user_spec(p, build.input_count(names[0])), op=names[0])
    elif spec.gradient:
        gradients.register(spec.op)
    call = caller(library, spec.op)
    results = [checks.Check("build", "pass", "; ".join(build.signature(n) for n in names),
                            {"cached": float(built.cached)})]  # fmt: skip
    yield from _report(results[-1], 1)
    rng = np.random.default_rng(ctx.seed)
    steps: list[Callable[[], checks.Check]] = [
        lambda: checks.forward(call, spec.inputs, spec.reference, spec.dtypes, rng),
        lambda: checks.gradient(call, spec.inputs, spec.dtypes, rng),
        lambda: checks.graph_and_eager(call, spec.inputs, spec.dtypes, rng),
        lambda: _training(spec, call, p, ctx.seed),
        lambda: cuda_failed or cuda.check(spec.op, call, spec.inputs, spec.dtypes, rng, plan),
    ]
    for number, (name, check) in enumerate(zip(CHECKS[1:], steps, strict=True), start=2):
        try:
            results.append(check())
        except tf.errors.OpError as exc:  # the op refused its inputs, or its kernel failed to launch
            results.append(checks.Check(name, "fail", checks.first_line(exc)))
        yield from _report(results[-1], number)
        if ctx.cancelled:
            break
    failed = [r for r in results if r.status == "fail"]
    summary: dict[str, Any] = {
        "passed": sum(r.status == "pass" for r in results),
        "failed": len(failed),
        "skipped": sum(r.status == "skip" for r in results),
    }
    for r in results:
        summary.update(r.values)
    if failed:
        listed = "; ".join(f"{r.name}: {r.detail}" for r in failed)
        raise RunError(f"{len(failed)} of {len(results)} checks failed for {spec.op}: {listed}")
    return summary


def _build(source: Path, plan: Any) -> Generator[ev.Event, None, tuple[Any, Any, Any]]:
    """(built, loaded library, the cuda check's failure or None), with the CUDA half the plan
    names. A CUDA library that fails to build or load is the cuda check's failure, and the op
    is built again for the CPU so that the other checks run."""
    from labs import paths
    from labs.customop import build, checks, cuda

    cache = paths.cache_dir() / "ops"
    if plan.source is not None:
        yield ev.Log(f"build: with {plan.source.name}; {cuda.versions()}")
        try:
            built = yield from build.build(source, cache, plan.source, plan.arch)
            return built, build.load(built.library), None
        except RunError as exc:
            failed = checks.Check("cuda", "fail", str(exc))
            yield ev.Log("build: the CUDA build failed; building for the CPU alone for the other checks",
                         level="warning")  # fmt: skip
    else:
        failed = None
    built = yield from build.build(source, cache)
    return built, build.load(built.library), failed


def _training(spec: OpSpec, call: Callable[..., Any], p: CustomopParams, seed: int) -> Any:
    from labs.customop import checks

    if spec.training == "classifier":
        return checks.classifier(call, p.data, p.steps, seed)
    if spec.training == "pose":
        return checks.pose(call, p.steps, seed)
    return checks.Check("training", "skip", f"{spec.op} is not a layer: no training check for it")


def _report(check: Any, number: int) -> Generator[ev.Event, None, None]:
    mark = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}[check.status]
    level = "warning" if check.status == "fail" else "info"
    yield ev.Log(f"{mark} {check.name}: {check.detail}", level=level)
    status = {"pass": 1.0, "fail": 0.0, "skip": float("nan")}[check.status]
    yield ev.Metric(step=number, values={check.name.replace("/", "_"): status, **check.values})


LAB = Lab(
    name="customop",
    title="A custom C++ op, checked",
    summary="Build a C++ TensorFlow op, load it, register its gradient, and check it numerically "
    "and by training",
    params_cls=CustomopParams,
    run="labs.customop.lab:run",
    key_metric=("passed",),
    steps=lambda p: len(CHECKS),
    charts=("forward_max_error", "gradient_max_error", "train_accuracy"),
    draws=False,
)
