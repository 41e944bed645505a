"""customop: a cached against an uncached build (and, where nvcc is, the build with
its CUDA kernels), and the shipped MatMulBias op's forward and backward against
``tf.matmul`` + bias on the same shapes, on the CPU and on a GPU where there is one.

Run: python benchmarks/bench_customop.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tensorflow as tf  # noqa: E402
from bench_pde import side_by_side  # noqa: E402

from labs.customop import build, cuda, gradients, shipped  # noqa: E402

SOURCE = shipped.SOURCES / "matmul_bias.cc"
COLUMNS = f"{'n x k x m':<18} {'pass':<9} {'MatMulBias ms':>14} {'tf.matmul+b ms':>15} {'time ratio':>11}"
SHAPES = ((64, 64, 10), (256, 784, 10), (1024, 1024, 1024))  # (n, k, m): digits, MNIST, a big layer


def timed_build(cache: Path, cu: Path | None = None, arch: str | None = None) -> tuple[float, Path]:
    started = time.perf_counter()
    built = build.built(SOURCE, cache, cu, arch)
    return time.perf_counter() - started, built.library


def build_times() -> object:
    """Build times, and the library to time: the CUDA build where nvcc is (it has the
    CPU kernels too), else the plain one."""
    with TemporaryDirectory() as folder:
        cache = Path(folder)
        uncached, library = timed_build(cache)
        cached, _ = timed_build(cache)
        speedup = uncached / cached
        print(
            f"build matmul_bias.cc: uncached {uncached:.1f} s, cached {cached * 1e3:.0f} ms ({speedup:.0f}x)"
        )
        plan = cuda.plan("on", SOURCE)  # for this machine's GPU, if any
        if plan.source is not None:
            with_cuda, library = timed_build(cache, plan.source, plan.arch)
            print(f"build matmul_bias.cc + matmul_bias.cu with nvcc: uncached {with_cuda:.1f} s")
        else:
            print(f"no CUDA build: {plan.why_not}")
        return build.load(library)


def matmul_bias(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    return tf.matmul(x, w) + b


def shape_rows(custom: object, n: int, k: int, m: int) -> None:
    x, w, b = tf.random.normal((n, k)), tf.Variable(tf.random.normal((k, m))), tf.Variable(tf.zeros(m))

    def forward(op, count: int) -> None:  # type: ignore[no-untyped-def]
        for _ in range(count):
            op(x, w, b).numpy()

    def backward(op, count: int) -> None:  # type: ignore[no-untyped-def]
        for _ in range(count):
            with tf.GradientTape() as tape:
                y = op(x, w, b)
            [g.numpy() for g in tape.gradient(y, [w, b])]

    count = max(3, 2_000_000_000 // (2 * n * k * m) // 10)
    for name, work in (("forward", forward), ("fwd+bwd", backward)):
        mine, theirs = side_by_side(
            (lambda c, wk=work: wk(custom, c), count), (lambda c, wk=work: wk(matmul_bias, c), count)
        )
        times = f"{1e3 / mine:>14.3f} {1e3 / theirs:>15.3f} {theirs / mine:>10.2f}x"
        print(f"{f'{n} x {k} x {m}':<18} {name:<9} {times}")


def op_table(library: object) -> None:
    gradients.register("MatMulBias")
    devices = ["/CPU:0"]
    if tf.config.list_logical_devices("GPU") and "float32" in cuda.gpu_dtypes("MatMulBias"):
        devices.append("/GPU:0")
    for device in devices:
        print(f"\n{device}\n{COLUMNS}")
        with tf.device(device):
            for n, k, m in SHAPES:
                shape_rows(library.mat_mul_bias, n, k, m)  # type: ignore[attr-defined]


if __name__ == "__main__":
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs\n")
    op_table(build_times())
