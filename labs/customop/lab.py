"""The ``customop`` lab: build a C++ TensorFlow op, load it, give it a gradient,
and prove it: forward against NumPy, gradient against a numeric Jacobian,
graph against eager, and a training sanity check.

A run is its own process, so an op that crashes takes down the run, never
the app; the run is then recorded as a crash with the signal.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labs import events as ev
from labs.context import RunContext, RunError
from labs.customop import checks
from labs.customop.checks import Check
from labs.customop.cuda import CHOICES as CUDA_CHOICES
from labs.customop.cuda import companion
from labs.customop.shipped import SHIPPED, OpSpec
from labs.customop.signature import CannotMake, Signature
from labs.params import ParamError, param
from labs.registry import Lab

CHECKS = ("build", "forward", "gradient", "graph/eager", "training", "cuda")


@dataclass(frozen=True)
class CustomopParams:
    op: str = param("matmul-bias", "the shipped op to build and check", choices=tuple(SHIPPED))
    source: str = param("", "your own op: a C++ source to build and check instead of `op`")
    python: str = param(
        "",
        "with source: Python registering its gradients; may define inputs(rng, dtype) and "
        "reference(*arrays), or dicts of them by op name",
    )
    check_op: str = param("", "with source: check only this op, by its registered name (empty: all of them)")
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
        if self.check_op and not self.source:
            raise ParamError("check_op= goes with source=: it picks one of the ops your source registers")
        if self.source:
            self._check_source()
        if self.data != "digits":
            from labs.digits import check_mnist

            if (why := check_mnist(self.data)) is not None:
                raise ParamError(why)
        if self.cuda == "on":
            self._check_cuda()

    def _check_source(self) -> None:
        from labs.customop import build

        named = build.registered(Path(self.source).expanduser())
        if self.check_op and named and self.check_op not in named:
            raise ParamError(f"check_op={self.check_op}: {self.source} registers {', '.join(named)}")
        if self.python:
            path = Path(self.python).expanduser()
            try:
                compile(path.read_bytes(), str(path), "exec")
            except (SyntaxError, ValueError) as exc:
                line = f", line {exc.lineno}" if isinstance(exc, SyntaxError) and exc.lineno else ""
                raise ParamError(f"python={self.python}{line}: {type(exc).__name__}: {exc.args[0]}") from None

    def _check_cuda(self) -> None:
        from labs.customop import build

        source = Path(self.source).expanduser() if self.source else SHIPPED[self.op].source
        if not companion(source).is_file():
            raise ParamError(f"cuda=on: there is no CUDA source {companion(source)} beside {source.name}")
        if build.cuda_compiler() is None:
            raise ParamError("cuda=on needs nvcc: put the CUDA toolkit's bin on PATH or set NVCC")


def user_hooks(python: str) -> dict[str, Any]:
    """What the user's Python file defines; running it registers their gradients, as the guide's does."""
    if not python:
        return {}
    path = Path(python).expanduser()
    module_spec = importlib.util.spec_from_file_location("meetup_lab_user_op", path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # the user's code may raise anything: one line, not a traceback
        raise RunError(f"python={python}: {type(exc).__name__}: {checks.first_line(exc)}") from None
    return vars(module)


def user_spec(sig: Signature, hooks: dict[str, Any]) -> OpSpec:
    """A user's op: inputs and reference from their Python file where it gives them (one for
    every op, or a dict by op name), else random inputs made to fit the op's registered
    signature, and no reference."""

    def hook(name: str) -> Any:
        given = hooks.get(name)
        return given.get(sig.op) if isinstance(given, dict) else given

    return OpSpec(Path(), sig.op, False, sig.dtypes(), hook("inputs") or sig.random_inputs, hook("reference"))


def caller(library: Any, op: str) -> Callable[..., Any]:
    """The library's Python wrapper of ``op`` (``MatMulBias`` → ``mat_mul_bias``,
    ``Meetup>Negate`` → ``meetup_negate``)."""
    wanted = op.replace(">", "").lower()
    for name in dir(library):
        if name.replace("_", "") == wanted and not name.endswith("fallback"):
            function: Callable[..., Any] = getattr(library, name)
            return function
    raise RunError(f"the library has no Python wrapper for {op}")


@dataclass(frozen=True)
class Result:
    """A check of one op. ``op`` is empty when the run checks a single op, so that its
    checks and values keep their plain names (``forward``, ``forward_max_error``)."""

    op: str
    check: Check

    @property
    def name(self) -> str:
        return f"{self.op} {self.check.name}" if self.op else self.check.name

    def numbers(self) -> dict[str, float]:
        """The check's numbers, named for its op where the run checks several (for the summary)."""
        return {self._prefix + key: value for key, value in self.check.values.items()}

    def metric(self) -> dict[str, float]:
        """Its numbers and its status: 1 passed, 0 failed, NaN skipped."""
        status = {"pass": 1.0, "fail": 0.0, "skip": float("nan")}[self.check.status]
        return {self._prefix + self.check.name.replace("/", "_"): status, **self.numbers()}

    @property
    def _prefix(self) -> str:
        # Metric names are TensorBoard tags: "Meetup>Negate" becomes "Meetup_Negate".
        return re.sub(r"\W", "_", self.op) + "." if self.op else ""


@dataclass(frozen=True)
class Checker:
    """What every op's checks share in one run."""

    p: CustomopParams
    ctx: RunContext
    library: Any
    plan: Any  # cuda.Plan
    cuda_failed: Check | None  # the CUDA build's failure, the cuda check's verdict for every op
    rng: np.random.Generator

    def checks(
        self, spec: OpSpec, sig: Signature, label: str, number: int
    ) -> Generator[ev.Event, None, list[Result]]:
        """Every check after the build, of one op, reported as each ends. None ends in an
        exception: an op that refuses its inputs, or a check that cannot run on it, is that
        check's failure or skip, with the reason."""
        import tensorflow as tf

        from labs.customop import cuda, gradients

        if spec.gradient:
            gradients.register(spec.op)
        wrapper = caller(self.library, spec.op)
        attrs: dict[str, Any] = {}
        unmade: CannotMake | None = None  # an attr no value is made for: each check skips, saying so
        try:
            attrs = sig.attr_values()
        except CannotMake as exc:
            unmade = exc
        if attrs:
            told = ", ".join(f"{k}={v!r}" for k, v in attrs.items())
            yield ev.Log(f"{spec.op}: its attrs with no default are set to {told}")

        def call(*arrays: Any) -> Any:
            if unmade is not None:
                raise unmade
            return wrapper(*arrays, **attrs)

        rng, plan = self.rng, self.plan
        steps: list[Callable[[], Check]] = [
            lambda: checks.forward(call, spec.inputs, spec.reference, spec.dtypes, rng),
            lambda: checks.gradient(call, spec.inputs, spec.dtypes, rng),
            lambda: checks.graph_and_eager(call, spec.inputs, spec.dtypes, rng),
            lambda: _training(spec, call, self.p, self.ctx.seed),
            lambda: self.cuda_failed or cuda.check(spec.op, call, spec.inputs, spec.dtypes, rng, plan),
        ]
        done = []
        for offset, (name, step) in enumerate(zip(CHECKS[1:], steps, strict=True)):
            try:
                check = step()
            except CannotMake as exc:  # no random input fits it: the user's inputs() would
                check = Check(name, "skip", str(exc))
            except tf.errors.OpError as exc:  # the op refused its inputs, or its kernel failed to launch
                check = Check(name, "fail", checks.first_line(exc))
            except Exception as exc:  # the user's inputs()/reference(), or a call TensorFlow refuses
                check = Check(name, "fail", f"{type(exc).__name__}: {checks.first_line(exc)}")
            done.append(Result(label, check))
            yield from _report(done[-1], number + offset)
            if self.ctx.cancelled:
                break
        return done


def run(p: CustomopParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    from labs.customop import build, cuda

    shipped = SHIPPED[p.op] if not p.source else None
    source = shipped.source if shipped is not None else Path(p.source).expanduser()
    plan = cuda.plan(p.cuda, source)
    built, library, cuda_failed = yield from _build(source, plan)
    names = build.op_names(built.library)
    clashes = build.clashes(source, names)
    if not names:
        why = _clashed(clashes) or "no REGISTER_OP that loaded"
        raise RunError(f"{source.name} registers no op of its own: {why}")
    if shipped is not None:
        ops = [shipped.op]
    elif p.check_op:
        if p.check_op in clashes:
            raise RunError(f"check_op={p.check_op}: {_clashed([p.check_op])}")
        if p.check_op not in names:
            raise RunError(
                f"check_op={p.check_op}: {source.name} has no such op; it registers {', '.join(names)}"
            )
        ops = [p.check_op]
    else:
        ops = names
    hooks = user_hooks(p.python)
    signatures = {name: Signature.of(name) for name in names}
    loaded = "; ".join(signatures[n].text() for n in names)
    cached = {"cached": float(built.cached)}
    if clashes and not p.check_op:
        yield ev.Log(f"build: loaded {loaded}")
        build_check = Check("build", "fail", _clashed(clashes), cached)
    else:  # another op's clash is no failure of the one picked, only worth a word
        build_check = Check(
            "build", "pass", "; ".join([loaded] + [_clashed(clashes)] * bool(clashes)), cached
        )
    results = [Result("", build_check)]
    yield from _report(results[0], 1)
    checker = Checker(p, ctx, library, plan, cuda_failed, np.random.default_rng(ctx.seed))
    for op in ops:
        spec = shipped if shipped is not None else user_spec(signatures[op], hooks)
        label = op if len(ops) > 1 else ""
        results += yield from checker.checks(spec, signatures[op], label, len(results) + 1)
        if ctx.cancelled:
            break
    failed = [r for r in results if r.check.status == "fail"]
    summary: dict[str, Any] = {
        "ops": len(ops),
        "passed": sum(r.check.status == "pass" for r in results),
        "failed": len(failed),
        "skipped": sum(r.check.status == "skip" for r in results),
    }
    for r in results:
        summary.update(r.numbers())
    if failed:
        listed = "; ".join(f"{r.name}: {r.check.detail}" for r in failed)
        raise RunError(f"{len(failed)} of {len(results)} checks failed for {', '.join(ops)}: {listed}")
    return summary


def _clashed(clashes: list[str]) -> str:
    """Why ops of the source did not load: TensorFlow has ops of their names (the guide's ``Fact``)."""
    if not clashes:
        return ""
    first = clashes[0]
    return (
        f"{', '.join(clashes)} did not load: TensorFlow has its own op of that name "
        f"(tf.raw_ops.{first}) and keeps it; rename yours, or put it in a namespace "
        f'(REGISTER_OP("Meetup>{first}"), its kernels under that name too)'
    )


def _build(source: Path, plan: Any) -> Generator[ev.Event, None, tuple[Any, Any, Any]]:
    """(built, loaded library, the cuda check's failure or None), with the CUDA half the plan
    names. A CUDA library that fails to build or load is the cuda check's failure, and the op
    is built again for the CPU so that the other checks run."""
    from labs import paths
    from labs.customop import build, cuda

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


def _training(spec: OpSpec, call: Callable[..., Any], p: CustomopParams, seed: int) -> Check:
    if spec.training == "classifier":
        return checks.classifier(call, p.data, p.steps, seed)
    if spec.training == "pose":
        return checks.pose(call, p.steps, seed)
    return checks.Check("training", "skip", f"{spec.op} is not a layer: no training check for it")


def _report(result: Result, number: int) -> Generator[ev.Event, None, None]:
    check = result.check
    mark = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}[check.status]
    level = "warning" if check.status == "fail" else "info"
    yield ev.Log(f"{mark} {result.name}: {check.detail}", level=level)
    yield ev.Metric(step=number, values=result.metric())


def _steps(p: CustomopParams) -> int:
    """The build, then each op's checks: the ops a source names, counted without TensorFlow."""
    from labs.customop import build

    ops = 1 if not p.source or p.check_op else max(1, len(build.registered(Path(p.source).expanduser())))
    return 1 + ops * (len(CHECKS) - 1)


LAB = Lab(
    name="customop",
    order=40,
    title="A custom C++ op, checked",
    summary="Build a C++ TensorFlow op, load it, register its gradient, and check it numerically "
    "and by training",
    params_cls=CustomopParams,
    run="labs.customop.lab:run",
    key_metric=("passed",),
    steps=_steps,
    charts=("forward_max_error", "gradient_max_error", "train_accuracy"),
    draws=False,
)
