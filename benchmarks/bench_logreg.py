"""logreg: time to converge against scikit-learn, playground steps per second,
and the live frame rate of a playground run in the real TUI.

1. The binary fit (two Gaussians, 20 % noise): TensorFlow gradient ascent
   (rate 1) and Newton against scikit-learn's LogisticRegression (lbfgs, no
   penalty), each until the gradient of the mean log-likelihood is below
   1e-6; compiling is timed apart. Best of 5, taking turns.
2. Playground steps per second at the default network (2 → 4 → 2 → 1, tanh,
   batch 10, 250 training points), one compiled epoch per call.
3. A real playground run in the Textual app (App.run_test, 100x30): heatmap
   frames repainted per second while it trains. Target: 10 or more.
Run: python benchmarks/bench_logreg.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench_pde import side_by_side  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from labs.logreg import data, playground, train  # noqa: E402
from labs.logreg.binary import Fit  # noqa: E402
from labs.logreg.lab import LogregParams  # noqa: E402
from labs.registry import get_lab  # noqa: E402
from labs.runner import RunRequest  # noqa: E402

TOLERANCE = 1e-6


def converge_table() -> None:
    columns = f"{'fits/s':>8} {'ms/fit':>8} {'iterations':>10} {'|grad|':>8} {'vs sklearn':>10}"
    print(f"{'points':>8} {'method':<22} {columns}")
    for count in (500, 10_000, 100_000):
        converge_rows(count)


def converge_rows(count: int) -> None:
    x, y = data.points("gauss", count, 0.2, np.random.default_rng(0), 3.0)
    fit = Fit(x, y, 0.0)
    ascend, newton, state = fit.compile()
    zero = tf.zeros(3, tf.float64)
    chunk = tf.constant(50)

    ends: dict[str, np.ndarray] = {}
    sklearn_theta = np.zeros(3)

    def ascent_fit(_: int) -> int:
        # As the lab runs it: chunks of 50 steps (a frame each), rate 1.
        theta, steps = zero, 0
        while float(state(theta)[1]) > TOLERANCE:
            theta, steps = ascend(theta, tf.constant(1.0, tf.float64), chunk), steps + 50
        ends["ascent"] = theta.numpy()
        return steps

    def newton_fit(_: int) -> int:
        theta, steps = zero, 0
        while float(state(theta)[1]) > TOLERANCE:
            theta, steps = newton(theta), steps + 1
        ends["newton"] = theta.numpy()
        return steps

    def sklearn_fit(_: int) -> int:
        # scikit-learn's lbfgs minimises the mean log-loss: the same tolerance applies.
        model = LogisticRegression(C=np.inf, tol=TOLERANCE, max_iter=10_000).fit(x, y)
        sklearn_theta[:] = [*model.coef_[0], model.intercept_[0]]
        return int(model.n_iter_[0])

    def grad_norm(theta: np.ndarray) -> float:
        return float(state(tf.constant(theta, tf.float64))[1])

    started = time.perf_counter()
    ascent_steps, newton_steps = ascent_fit(0), newton_fit(0)  # compiles both
    compile_s = time.perf_counter() - started
    iterations = (ascent_steps, newton_steps, sklearn_fit(0))
    rates = side_by_side((ascent_fit, 1), (newton_fit, 1), (sklearn_fit, 1))
    names = ("TF gradient ascent", "TF Newton (IRLS)", "scikit-learn lbfgs")
    grads = [grad_norm(ends["ascent"]), grad_norm(ends["newton"]), grad_norm(sklearn_theta)]
    for name, rate, steps, grad in zip(names, rates, iterations, grads, strict=True):
        cells = f"{rate:>8.1f} {1e3 / rate:>8.2f} {steps:>10} {grad:>8.1e} {rate / rates[2]:>9.2f}x"
        print(f"{count:>8} {name:<22} {cells}")
    print(f"{'':>8} (first TF fits, compiling included: {compile_s:.2f} s)")


def playground_rate() -> float:
    keras.utils.set_random_seed(0)
    p = LogregParams(mode="playground")
    names = playground.parse_features(p.features)
    x, y = data.points(p.dataset, p.points, p.noise / 100, np.random.default_rng(0), p.separation)
    x_train, y_train = playground.featurise(x[:250], names), y[:250].astype(np.float32)[:, None]
    model = playground.build_model(p, len(names))
    optimizer = keras.optimizers.SGD(learning_rate=p.learning_rate)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    epoch = train.make_epoch(model, optimizer, loss_fn, x_train, y_train, p.batch_size, 0)
    epoch(tf.constant(0))
    (epochs_per_s,) = side_by_side((lambda n: [epoch(tf.constant(i)) for i in range(n)], 200))
    steps = train.steps_per_epoch(250, p.batch_size)
    print(f"\nplayground, default network: {epochs_per_s:.0f} epochs/s = {epochs_per_s * steps:.0f} steps/s")
    return epochs_per_s


async def tui_frame_rate() -> None:
    from tui.app import make_app
    from tui.screens.run import RunScreen
    from tui.widgets.heatmap import Heatmap

    lab = get_lab("logreg")
    params = lab.build_params({"mode": "playground", "epochs": "1000000"})
    with TemporaryDirectory() as tmp:
        app = make_app(
            Path(tmp) / "runs", start=RunRequest(lab, params, "cpu", 0), config_path=Path(tmp) / "c"
        )
        async with app.run_test(size=(100, 30)) as pilot:
            screen = pilot.app.screen
            assert isinstance(screen, RunScreen)
            heatmap = screen.query_one(Heatmap)
            painted: list[float] = []
            build = heatmap._build_strips

            def counted() -> None:  # count each repaint of a new frame
                before = heatmap._rendered_for
                build()
                if heatmap._rendered_for != before:
                    painted.append(time.perf_counter())

            heatmap._build_strips = counted  # type: ignore[method-assign]
            while heatmap.data is None:  # TensorFlow's import and the first epoch
                await pilot.pause(0.1)
            await pilot.pause(8.0)
            epochs = screen.query_one("RunStatus").step  # type: ignore[attr-defined]
            screen.action_cancel()
            await pilot.pause(1.0)
    window = [t for t in painted if t >= painted[0] + 1.0]  # skip the first second
    fps = (len(window) - 1) / (window[-1] - window[0])
    verdict = "ok" if fps >= 10 else "BELOW"
    print(f"TUI playground run (100x30): {fps:.1f} heatmap frames/s while training, target 10: {verdict}")
    print(f"  ({epochs} epochs in the 8 s window and the start before it)")


if __name__ == "__main__":
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs\n")
    converge_table()
    playground_rate()
    asyncio.run(tui_frame_rate())
