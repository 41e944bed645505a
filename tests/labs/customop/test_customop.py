"""The customop lab with the real compiler: shipped ops pass, broken ones fail
for the right reason, a user's op is a first-class citizen, and a crashing or
uncompilable op fails its run without taking anything else down.

Each run is a real ``meetup-lab run customop`` process (TensorFlow's gradient
registry is global to a process, so each variant needs its own).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labs import events as ev
from labs.customop import build, cuda, shipped
from labs.customop.lab import CustomopParams
from labs.devices import gpu_names
from labs.params import ParamError
from labs.registry import get_lab
from labs.runner import RunRequest
from tests.support import run_cli, run_dirs
from tui.app import make_app
from tui.screens.run import RunScreen
from tui.widgets.run_status import RunStatus

BUILD_TIMEOUT = 600  # a first build of TensorFlow's headers takes half a minute on 2 cores
needs_nvcc = pytest.mark.skipif(build.cuda_compiler() is None, reason="needs nvcc (the CUDA toolkit)")


def customop(*sets: str, device: str = "cpu", **env: str) -> tuple[int, list[ev.Event], str]:
    args = [arg for s in sets for arg in ("--set", s)]
    done = run_cli(
        "run", "customop", "--headless", "--json", "--device", device, *args, timeout=BUILD_TIMEOUT, **env
    )
    return done.returncode, [ev.from_json(line) for line in done.stdout.splitlines()], done.stderr


def checks(events: list[ev.Event]) -> dict[str, str]:
    """{check name: PASS, FAIL or skip} from the run's log lines."""
    marks = [e.message.split(" ", 2) for e in events if isinstance(e, ev.Log)]
    return {name.rstrip(":"): mark for mark, name, *_ in marks if mark in ("PASS", "FAIL", "skip")}


def terminal(events: list[ev.Event]) -> ev.Event:
    return next(e for e in reversed(events) if isinstance(e, ev.TERMINAL))


@pytest.mark.compiler
@pytest.mark.slow
def test_matmul_bias_passes_every_check(tmp_path: Path) -> None:
    code, events, _ = customop("op=matmul-bias")
    assert code == 0
    assert checks(events) == {
        "build": "PASS", "forward": "PASS", "gradient": "PASS", "graph/eager": "PASS", "training": "PASS",
        "cuda": "skip",
    }  # fmt: skip
    summary = terminal(events).summary  # type: ignore[union-attr]
    assert summary["train_accuracy"] >= 0.9 and summary["gradient_max_error"] < 1e-6
    logs = [e.message for e in events if isinstance(e, ev.Log)]
    assert any("MatMulBias(x: T, w: T, b: T) -> y: T; T in {float32, float64}" in m for m in logs)


@pytest.mark.compiler
@pytest.mark.slow
def test_the_broken_matmul_fails_forward_and_training_at_the_constant_class_rate() -> None:
    code, events, _ = customop("op=matmul-bias-broken")
    assert code == 1
    found = checks(events)
    assert found["forward"] == "FAIL" and found["training"] == "FAIL" and found["graph/eager"] == "PASS"
    failed = terminal(events)
    assert isinstance(failed, ev.Failed)
    assert "checks failed for MatMulBiasBroken" in failed.reason
    assert "always predicting the commonest class" in failed.reason


@pytest.mark.compiler
@pytest.mark.slow
def test_zero_out_fails_without_a_gradient_and_passes_with_one() -> None:
    code, events, _ = customop("op=zero-out")
    assert code == 1 and checks(events)["gradient"] == "FAIL"
    assert "no entry for: ZeroOut" in terminal(events).reason  # type: ignore[union-attr]
    code, events, _ = customop("op=zero-out-grad")
    assert code == 0 and checks(events)["gradient"] == "PASS"
    assert any(isinstance(e, ev.Log) and e.message.startswith("build: cached") for e in events)


@pytest.mark.compiler
@pytest.mark.slow
def test_quaternion_distance_treats_q_and_minus_q_alike_and_matches_another_formula(
    build_cache: Path,
) -> None:
    built = build.built(shipped.SOURCES / "quaternion_distance.cc", build_cache / "meetup-lab" / "ops")
    library = build.load(built.library)
    q = shipped.unit_quaternions(np.random.default_rng(0), 50, "float64")
    np.testing.assert_allclose(library.quaternion_distance(q, -q).numpy(), 0.0, atol=1e-7)
    r = shipped.unit_quaternions(np.random.default_rng(1), 50, "float64")
    got = library.quaternion_distance(q, r).numpy()
    np.testing.assert_allclose(got, shipped.relative_rotation_angle(q, r), atol=1e-10)
    assert got.min() >= 0 and got.max() <= np.pi
    # A 90° turn about z: the distance is π/2.
    turn = np.array([[np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)]])
    assert library.quaternion_distance(np.array([[1.0, 0, 0, 0]]), turn).numpy()[0] == pytest.approx(
        np.pi / 2
    )


@pytest.mark.compiler
@pytest.mark.slow
def test_kernel_agreement_compares_two_devices_and_catches_a_quiet_fallback(build_cache: Path) -> None:
    built = build.built(shipped.SOURCES / "quaternion_distance.cc", build_cache / "meetup-lab" / "ops")
    call = build.load(built.library).quaternion_distance
    rng = np.random.default_rng(0)
    same = cuda.agreement(call, shipped.quaternion_inputs, ("float32", "float64"), rng, "/CPU:0")
    assert same.status == "pass" and same.values["cuda_max_error"] == 0.0
    assert "agree on 6 random cases" in same.detail
    # This library has CPU kernels only: eager TensorFlow runs the op on the CPU when asked for a GPU
    # (with or without one), and the check must notice rather than compare the CPU with itself.
    fallback = cuda.agreement(call, shipped.quaternion_inputs, ("float32",), rng, "/GPU:0")
    assert fallback.status == "fail"
    assert fallback.detail == "float32: asked for /GPU:0, ran on CPU: no kernel there"
    calls = []

    def drifting(*arrays: Any) -> Any:  # a kernel that differs between its two calls
        calls.append(1)
        return call(*arrays) + 1e-3 * (len(calls) % 2 == 0)

    off = cuda.agreement(drifting, shipped.quaternion_inputs, ("float64",), rng, "/CPU:0")
    assert off.status == "fail" and off.detail == "float64: /CPU:0 is off /CPU:0 by up to 0.001"


@needs_nvcc
def test_a_gpu_gets_its_own_code_ptx_when_newer_than_nvcc_and_a_refusal_when_older() -> None:
    nvcc = build.cuda_compiler()
    assert nvcc is not None
    known = build.cuda_architectures(nvcc)  # 75 ... 121 for CUDA 13.0
    assert len(known) >= 2
    oldest, newest = known[0], known[-1]
    assert cuda.target(nvcc, divmod(newest, 10)) == (f"sm_{newest}", "")
    assert cuda.target(nvcc, (newest // 10 + 1, 0)) == (f"compute_{newest}", "")
    older = oldest - 5
    refused = f"the GPU is sm_{older}, and this nvcc compiles for sm_{oldest} and newer"
    assert cuda.target(nvcc, divmod(older, 10)) == (None, refused)


@needs_nvcc
@pytest.mark.compiler
@pytest.mark.slow
def test_cuda_on_compiles_the_kernels_with_nvcc_and_registers_them_for_each_dtype(tmp_path: Path) -> None:
    code, events, _ = customop("op=zero-out-grad", "cuda=on", XDG_CACHE_HOME=str(tmp_path))  # not cached
    assert code == 0
    logs = [e.message for e in events if isinstance(e, ev.Log)]
    assert any(m.startswith("build: ") and "nvcc" in m and "-DGOOGLE_CUDA=1" in m and "zero_out.cu" in m
               for m in logs)  # fmt: skip
    found = checks(events)
    assert {found[name] for name in ("build", "forward", "gradient", "graph/eager")} == {"PASS"}
    assert terminal(events).summary["cuda_kernels"] == 3  # type: ignore[union-attr]
    skipped = (  # the run's device is the cpu, which hides any GPU
        "skip cuda: compiled zero_out.cu with nvcc and registered GPU kernels for float32, float64, int32; "
        "TensorFlow sees no GPU to run them on"
    )
    assert skipped in logs


@needs_nvcc
@pytest.mark.parametrize("op", ["matmul_bias", "quaternion_distance"])
@pytest.mark.compiler
@pytest.mark.slow
def test_each_shipped_cuda_half_compiles_and_links_with_every_symbol_defined(
    op: str, build_cache: Path
) -> None:
    source = shipped.SOURCES / f"{op}.cc"
    built = build.built(source, build_cache / "meetup-lab" / "ops", cuda.companion(source))
    assert built.library.is_file() and built.library.name.startswith(f"{op}-cuda-")
    assert "-DGOOGLE_CUDA=1" in built.command and "defs" in built.command  # linked with -z defs


@needs_nvcc
@pytest.mark.compiler
@pytest.mark.slow
def test_a_launcher_the_cu_never_instantiates_is_a_link_error_that_names_it(tmp_path: Path) -> None:
    for name in ("zero_out.cc", "zero_out.cu", "launch.cuh", "gpu_stream.h"):
        (tmp_path / name).write_text((shipped.SOURCES / name).read_text())
    cu = tmp_path / "zero_out.cu"
    cu.write_text("\n".join(line for line in cu.read_text().splitlines() if "ZeroOutGpu<double>" not in line))
    code, events, _ = customop(f"source={tmp_path / 'zero_out.cc'}", "cuda=on")
    assert code == 1
    found = checks(events)
    assert found["cuda"] == "FAIL" and found["build"] == "PASS"  # built again for the CPU, and checked
    reason = terminal(events).reason  # type: ignore[union-attr]
    assert (
        "zero_out.cc: undefined reference to `char const* ZeroOutGpu<double>(void*, double const*" in reason
    )


@pytest.mark.gpu
@pytest.mark.skipif(build.cuda_compiler() is None or not gpu_names(), reason="needs nvcc and a GPU")
def test_on_a_gpu_the_cuda_kernel_runs_there_and_agrees_with_the_cpu_kernel() -> None:
    code, events, _ = customop("op=quaternion-distance", "cuda=on", device="gpu:0")
    assert code == 0 and checks(events)["cuda"] == "PASS"
    logs = [e.message for e in events if isinstance(e, ev.Log)]
    assert any(m.startswith("PASS cuda: /device:GPU:0 and /CPU:0 agree on 6 random cases") for m in logs)


@needs_nvcc
@pytest.mark.compiler
@pytest.mark.slow
def test_a_cuda_compile_error_fails_the_cuda_check_and_the_cpu_checks_still_run(tmp_path: Path) -> None:
    source, python = tmp_path / "square.cc", tmp_path / "square_grad.py"
    source.write_text(USER_OP.replace("BODY", SQUARE))
    python.write_text(USER_PYTHON)
    (tmp_path / "square.cu").write_text("__global__ void Square(float* x) { x[0] = undeclared_cuda_thing; }")
    code, events, _ = customop(f"source={source}", f"python={python}", "cuda=on")
    assert code == 1
    assert checks(events) == {
        "build": "PASS", "forward": "PASS", "gradient": "PASS", "graph/eager": "PASS", "training": "skip",
        "cuda": "FAIL",
    }  # fmt: skip
    failed = terminal(events)
    assert isinstance(failed, ev.Failed)
    assert failed.reason.startswith("1 of 6 checks failed for MeetupSquare: cuda: nvcc failed (exit ")
    assert "undeclared_cuda_thing" in failed.reason and "Traceback" not in "\n".join(failed.log_tail)


@needs_nvcc
@pytest.mark.compiler
@pytest.mark.slow
def test_a_cuda_half_whose_op_registers_no_gpu_kernel_fails_the_cuda_check(tmp_path: Path) -> None:
    # The guide's easy slip: a .cu that compiles, and a .cc with no DEVICE_GPU registration.
    source = tmp_path / "square.cc"
    source.write_text(USER_OP.replace("BODY", SQUARE))
    (tmp_path / "square.cu").write_text("__global__ void Square(float* x) { x[0] *= x[0]; }\n")
    code, events, _ = customop(f"source={source}", "cuda=on")
    assert code == 1 and checks(events)["cuda"] == "FAIL"
    assert "MeetupSquare has no GPU kernel registered" in terminal(events).reason  # type: ignore[union-attr]


USER_OP = """
#include "tensorflow/core/framework/common_shape_fns.h"
#include "tensorflow/core/framework/op.h"
#include "tensorflow/core/framework/op_kernel.h"
using namespace tensorflow;
REGISTER_OP("MeetupSquare").Attr("T: {float, double}").Input("x: T").Output("y: T")
    .SetShapeFn(shape_inference::UnchangedShape);
template <typename T> class SquareOp : public OpKernel {
 public:
  explicit SquareOp(OpKernelConstruction* c) : OpKernel(c) {}
  void Compute(OpKernelContext* c) override {
    const Tensor& x = c->input(0);
    Tensor* y = nullptr;
    OP_REQUIRES_OK(c, c->allocate_output(0, x.shape(), &y));
    BODY
  }
};
REGISTER_KERNEL_BUILDER(Name("MeetupSquare").Device(DEVICE_CPU).TypeConstraint<float>("T"), SquareOp<float>);
REGISTER_KERNEL_BUILDER(Name("MeetupSquare").Device(DEVICE_CPU).TypeConstraint<double>("T"),
                        SquareOp<double>);
"""
SQUARE = "y->flat<T>() = x.flat<T>() * x.flat<T>();"
USER_PYTHON = """
import numpy as np
import tensorflow as tf

@tf.RegisterGradient("MeetupSquare")
def _square_grad(op, grad):
    return 2 * op.inputs[0] * grad

def inputs(rng, dtype):
    return [rng.normal(size=(4, 3)).astype(dtype)]

def reference(x):
    return x * x
"""


@pytest.mark.compiler
@pytest.mark.slow
def test_a_users_op_with_its_python_is_checked_like_a_shipped_one(tmp_path: Path) -> None:
    source, python = tmp_path / "square.cc", tmp_path / "square_grad.py"
    source.write_text(USER_OP.replace("BODY", SQUARE))
    python.write_text(USER_PYTHON)
    code, events, _ = customop(f"source={source}", f"python={python}")
    assert code == 0
    assert checks(events) == {
        "build": "PASS", "forward": "PASS", "gradient": "PASS", "graph/eager": "PASS", "training": "skip",
        "cuda": "skip",
    }  # fmt: skip


GUIDE_OPS = Path(__file__).parent / "fixture_ops" / "guide_ops.cc"


def checks_by_op(events: list[ev.Event]) -> dict[str, dict[str, str]]:
    """{op: {check: PASS, FAIL or skip}} from the log lines of a run that checks several ops."""
    found: dict[str, dict[str, str]] = {}
    for event in events:
        if isinstance(event, ev.Log) and event.message.split(" ", 1)[0] in ("PASS", "FAIL", "skip"):
            mark, rest = event.message.split(" ", 1)
            name = rest.split(": ", 1)[0]
            op, _, check = name.rpartition(" ")
            found.setdefault(op, {})[check] = mark
    return found


@pytest.mark.compiler
@pytest.mark.slow
def test_every_op_of_a_source_is_checked_on_inputs_its_signature_asks_for() -> None:
    # TensorFlow's guide's kinds of op in one source (fixture_ops/guide_ops.cc beside this file), and
    # its Python half giving gradients, inputs and references by op name.
    code, events, stderr = customop(f"source={GUIDE_OPS}", f"python={GUIDE_OPS.with_suffix('.py')}")
    assert code == 1, stderr
    found = checks_by_op(events)
    assert found.pop("") == {"build": "FAIL"}  # Fact, named below
    rest = {"training": "skip", "cuda": "skip"}
    assert found == {
        "ZeroOut": {"forward": "PASS", "gradient": "skip", "graph/eager": "PASS", **rest},
        "Meetup>Negate": {"forward": "PASS", "gradient": "PASS", "graph/eager": "PASS", **rest},
        "Konst": {"forward": "PASS", "gradient": "skip", "graph/eager": "PASS", **rest},
        "TwiceAndFloor": {"forward": "PASS", "gradient": "PASS", "graph/eager": "PASS", **rest},
        "Scale": {"forward": "PASS", "gradient": "skip", "graph/eager": "PASS", **rest},
    }
    logs = "\n".join(e.message for e in events if isinstance(e, ev.Log))
    assert "PASS ZeroOut forward: 3 random cases in int32:" in logs  # its own type, not float32
    assert "skip ZeroOut gradient: the gradient is checked on float64 inputs, and this op takes no " in logs
    assert (
        "skip Konst gradient: the gradient is checked on float64 inputs, and this op takes no input" in logs
    )
    assert "Scale: its attrs with no default are set to factor=0" in logs
    assert "Meetup>Negate(x: T) -> y: T; T in {float32, float64}" in logs  # a namespaced op is listed
    assert "TwiceAndFloor(x: T) -> y: T, floor: int32" in logs
    failed = terminal(events)
    assert isinstance(failed, ev.Failed) and failed.kind != "crash"
    assert failed.reason.startswith(
        "1 of 26 checks failed for ZeroOut, Meetup>Negate, Konst, TwiceAndFloor, Scale"
    )
    assert "Fact did not load: TensorFlow has its own op of that name (tf.raw_ops.Fact)" in failed.reason
    assert "Traceback" not in "\n".join(failed.log_tail)
    metrics = {k: v for e in events if isinstance(e, ev.Metric) for k, v in e.values.items()}
    assert metrics["Meetup_Negate.gradient"] == 1.0 and metrics["TwiceAndFloor.gradient_max_error"] < 1e-6


@pytest.mark.compiler
@pytest.mark.slow
def test_check_op_picks_one_op_and_random_inputs_of_its_type_still_run_it() -> None:
    # The guide's first ZeroOut, int32 only, with no Python: nothing to compare with or
    # differentiate, and still run in its own type. Fact's clash is another op's business.
    code, events, stderr = customop(f"source={GUIDE_OPS}", "check_op=ZeroOut")
    assert code == 0, stderr
    assert checks(events) == {
        "build": "PASS", "forward": "skip", "gradient": "skip", "graph/eager": "PASS", "training": "skip",
        "cuda": "skip",
    }  # fmt: skip
    logs = [e.message for e in events if isinstance(e, ev.Log)]
    assert "skip forward: ran 3 random cases in int32; no reference() to compare them with" in logs
    started = next(e for e in events if isinstance(e, ev.Started))
    assert started.total_steps == len([e for e in events if isinstance(e, ev.Metric)]) == 6
    assert "Fact did not load" in next(m for m in logs if m.startswith("PASS build:"))


@pytest.mark.compiler
@pytest.mark.slow
def test_a_source_whose_only_op_has_a_builtin_name_says_so(tmp_path: Path) -> None:
    source = tmp_path / "fact.cc"
    text = GUIDE_OPS.read_text()
    source.write_text(
        text[: text.index('REGISTER_OP("ZeroOut")')] + text[text.index("// The guide's Fact") :]
    )
    code, events, _ = customop(f"source={source}")
    assert code == 1
    failed = terminal(events)
    assert isinstance(failed, ev.Failed)
    assert failed.reason.startswith("fact.cc registers no op of its own: Fact did not load: TensorFlow has")
    assert 'REGISTER_OP("Meetup>Fact")' in failed.reason


@pytest.mark.compiler
@pytest.mark.slow
def test_a_compile_error_fails_the_run_with_the_compilers_own_lines(tmp_path: Path) -> None:
    source = tmp_path / "typo.cc"
    source.write_text(USER_OP.replace("BODY", "y->flat<T>() = x.flat<T>() * undeclared_thing;"))
    code, events, stderr = customop(f"source={source}")
    assert code == 1
    failed = terminal(events)
    assert isinstance(failed, ev.Failed)
    assert failed.reason.startswith(f"the compiler failed (exit 1) on {source}:")
    assert "undeclared_thing" in failed.reason and "error" in failed.reason
    assert "Traceback" not in "\n".join(failed.log_tail)
    compiler_lines = [e.message for e in events if isinstance(e, ev.Log) and "undeclared_thing" in e.message]
    assert compiler_lines  # shown live, as the compiler printed them


@pytest.mark.compiler
@pytest.mark.slow
def test_a_missing_compiler_is_named_with_how_to_get_one(tmp_path: Path) -> None:
    source = tmp_path / "square.cc"
    source.write_text(USER_OP.replace("BODY", SQUARE))
    code, events, _ = customop(f"source={source}", CXX=str(tmp_path / "no-such-g++"))
    assert code == 1
    failed = terminal(events)
    assert isinstance(failed, ev.Failed) and failed.kind != "crash"
    assert failed.reason.startswith("no C++ compiler found: install g++")


@pytest.mark.compiler
@pytest.mark.slow
def test_a_library_that_cannot_load_names_the_undefined_symbol(tmp_path: Path) -> None:
    # A function declared but never defined links into a shared library (the
    # linker allows undefined symbols there) and fails only when TensorFlow
    # loads it: the case of a kernel declared in one file and never built.
    source = tmp_path / "missing.cc"
    body = "meetup_never_defined(); y->flat<T>() = x.flat<T>();"
    source.write_text("void meetup_never_defined();\n" + USER_OP.replace("BODY", body))
    code, events, _ = customop(f"source={source}")
    assert code == 1
    failed = terminal(events)
    assert isinstance(failed, ev.Failed)
    assert failed.reason.startswith("cannot load missing-")
    assert "undefined symbol" in failed.reason and "meetup_never_defined" in failed.reason
    assert "rebuild against this one" in failed.reason  # the hint, not a bare dlopen error
    assert "Traceback" not in "\n".join(failed.log_tail)


@pytest.mark.compiler
@pytest.mark.slow
def test_an_op_that_segfaults_is_recorded_as_a_crash(tmp_path: Path, runs_dir: Path) -> None:
    source = tmp_path / "boom.cc"
    source.write_text(USER_OP.replace("BODY", "*static_cast<volatile int*>(nullptr) = 1;"))
    code, events, _ = customop(f"source={source}")
    assert code == 1
    failed = terminal(events)
    assert isinstance(failed, ev.Failed) and failed.kind == "crash" and "SIGSEGV" in failed.reason
    (folder,) = run_dirs(runs_dir)
    assert json.loads((folder / "summary.json").read_text())["status"] == "failed"


@pytest.mark.compiler
@pytest.mark.slow
async def test_the_app_survives_a_crashing_op_and_shows_why(tmp_path: Path) -> None:
    source = tmp_path / "boom.cc"
    source.write_text(USER_OP.replace("BODY", "*static_cast<volatile int*>(nullptr) = 1;"))
    lab = get_lab("customop")
    request = RunRequest(lab, lab.build_params({"source": str(source)}), "cpu", 0)
    app = make_app(tmp_path / "runs", start=request, config_path=tmp_path / "c.json")
    async with app.run_test(size=(100, 32)) as pilot:
        screen = pilot.app.screen
        assert isinstance(screen, RunScreen)
        for _ in range(int(BUILD_TIMEOUT / 0.2)):
            if screen.ended:
                break
            await pilot.pause(0.2)
        assert screen.query_one(RunStatus).status == "failed"
        await pilot.press("escape")  # the app still answers keys
        await pilot.pause()
        assert not isinstance(pilot.app.screen, RunScreen)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"source": "/no/such/op.cc"}, "source=/no/such/op.cc: no such file"),
        ({"python": __file__}, "python= goes with source="),
        ({"data": "/no/mnist.npz"}, "no such file"),
        ({"source": __file__, "cuda": "on"}, "cuda=on: there is no CUDA source .*test_customop.cu beside"),
        ({"check_op": "ZeroOut"}, "check_op= goes with source="),
        (
            {"source": str(GUIDE_OPS), "check_op": "Nope"},
            "check_op=Nope: .*registers ZeroOut, Meetup>Negate, ",
        ),
    ],
)
def test_bad_settings_are_refused_before_the_run(values: dict[str, str], message: str) -> None:
    with pytest.raises(ParamError, match=message):
        CustomopParams(**values)  # type: ignore[arg-type]


def test_a_python_file_that_does_not_compile_is_refused_before_the_run(tmp_path: Path) -> None:
    python = tmp_path / "grad.py"
    python.write_text("import tensorflow as tf\ndef inputs(:\n")
    done = run_cli(
        "run", "customop", "--headless", "--set", f"source={GUIDE_OPS}", "--set", f"python={python}"
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"meetup-lab: error: python={python}, line 2: SyntaxError: invalid syntax"
    ]


def test_cuda_on_without_nvcc_is_refused_before_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NVCC", "/no/such/nvcc")
    with pytest.raises(ParamError, match="cuda=on needs nvcc: put the CUDA toolkit's bin on PATH"):
        CustomopParams(cuda="on")
