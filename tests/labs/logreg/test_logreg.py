"""The logreg lab against independent answers: scikit-learn's maximum-likelihood
fit, the Playground's separability lessons, and the digits accuracy.

The modes run in this process (real TensorFlow and Keras, no runner), except
the reproducibility test, which runs the real CLI twice.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from rich.console import Console
from rich.text import Text
from sklearn.linear_model import LogisticRegression

from labs import events as ev
from labs.chance import chance_warning
from labs.context import Diverged, RunContext
from labs.logreg import binary, data, playground, softmax
from labs.logreg.lab import LogregParams
from labs.params import ParamError
from labs.registry import get_lab
from tests.support import drain, metric_lines, only_run_dir, run_cli
from tui.heatmap_render import UPPER_HALF, HeatmapRenderable

SEED = 3


def run_mode(tmp_path: Path, **values: Any) -> tuple[list[ev.Event], dict[str, Any]]:
    keras.utils.set_random_seed(SEED)  # as the run's process does before a lab starts
    params = get_lab("logreg").build_params(values)
    return drain(get_lab("logreg").load_run()(params, RunContext(tmp_path, SEED, "cpu")))


def warnings(events: list[ev.Event]) -> list[str]:
    return [e.message for e in events if isinstance(e, ev.Log) and e.level == "warning"]


# -- binary -------------------------------------------------------------------


def sklearn_fit() -> tuple[np.ndarray, float, float]:
    """Coefficients (w1, w2, b), total log-likelihood and accuracy by scikit-learn, unpenalised."""
    p = LogregParams()
    x, y = data.points(p.dataset, p.points, p.noise / 100, np.random.default_rng(SEED), p.separation)
    model = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(x, y)
    theta = np.r_[model.coef_[0], model.intercept_]
    prob = model.predict_proba(x)[:, 1]
    loglik = float(np.sum(y * np.log(prob) + (1 - y) * np.log1p(-prob)))
    return theta, loglik, float(model.score(x, y))


def test_binary_gradient_ascent_and_newton_reach_sklearns_maximum_likelihood(tmp_path: Path) -> None:
    theta, loglik, accuracy = sklearn_fit()
    _, ascent = run_mode(tmp_path, solver="gradient", learning_rate=1.0, steps=4000)
    _, newton = run_mode(tmp_path, solver="newton")
    for fit in (ascent, newton):
        got = np.array([fit["w1"], fit["w2"], fit["b"]])
        # lbfgs stops at tol 1e-12 on the gradient; the objective is flat near
        # its top, so coefficients agree to about 1e-6 and the likelihood to far more.
        np.testing.assert_allclose(got, theta, rtol=0, atol=1e-5)
        assert fit["log_likelihood"] == pytest.approx(loglik, rel=1e-9)
        assert fit["accuracy"] == accuracy
        assert fit["grad_norm"] < 1e-8  # the optimum: the gradient vanishes
    # Newton lands in a handful of iterations (it stops once a step is below 1e-12).
    assert newton["steps"] <= 10
    np.testing.assert_allclose(
        [ascent[k] for k in ("w1", "w2", "b")], [newton[k] for k in ("w1", "w2", "b")], atol=1e-7
    )


def test_binary_l2_shrinks_the_weights_and_matches_its_own_optimum(tmp_path: Path) -> None:
    _, plain = run_mode(tmp_path, solver="newton")
    _, shrunk = run_mode(tmp_path, solver="newton", l2=0.5)
    assert np.hypot(shrunk["w1"], shrunk["w2"]) < 0.5 * np.hypot(plain["w1"], plain["w2"])
    assert shrunk["grad_norm"] < 1e-8  # the gradient of the penalised objective
    assert shrunk["log_likelihood"] < plain["log_likelihood"]  # the penalty costs likelihood


def test_binary_frames_draw_the_surface_with_the_points_and_the_boundary(tmp_path: Path) -> None:
    events, _ = run_mode(tmp_path, solver="newton")
    frames = [e for e in events if isinstance(e, ev.Frame)]
    first, last = frames[0], frames[-1]
    assert np.allclose(first.data, 0.5)  # w = 0: p = 1/2 everywhere
    assert last.data.min() < 0.05 and last.data.max() > 0.95
    assert last.contour == 0.5
    assert last.points is not None and last.points.shape == (500, 3)
    assert set(np.unique(last.points[:, 2])) == {0.0, 1.0}
    # The gauss set's class 1 sits up and to the right: the surface's top-right is class 1.
    assert last.data[0, -1] > 0.95 and last.data[-1, 0] < 0.05


def test_binary_warns_that_separable_classes_have_no_finite_optimum(tmp_path: Path) -> None:
    events, summary = run_mode(tmp_path, solver="gradient", noise=0, separation=10.0, steps=300)
    assert summary["accuracy"] == 1.0
    assert any("separable" in w for w in warnings(events))
    events, _ = run_mode(tmp_path, solver="newton")
    assert not warnings(events)


def test_a_fit_that_stops_short_or_a_rate_past_2_over_l_is_said(tmp_path: Path) -> None:
    keras.utils.set_random_seed(21)
    params = get_lab("logreg").build_params(
        {
            "dataset": "xor",
            "points": 250,
            "noise": 5,
            "solver": "gradient",
            "learning_rate": 1.0,
            "steps": 5000,
        }
    )
    events, summary = drain(get_lab("logreg").load_run()(params, RunContext(tmp_path, 21, "cpu")))
    said = warnings(events)
    assert said[0].startswith("learning_rate=1 is beyond 2/L = ")
    assert said[1].startswith("the fit stopped short of the maximum likelihood: the gradient's norm is ")
    assert summary["grad_norm"] > 1e-4
    # The defaults on well-separated gauss data stop short too, and say so; Newton does not.
    values = {"dataset": "gauss", "points": 1000, "noise": 0, "separation": 1.5}
    events, summary = drain(
        get_lab("logreg").load_run()(get_lab("logreg").build_params(values), RunContext(tmp_path, 5, "cpu"))
    )
    assert summary["grad_norm"] > 1e-4
    assert any("stopped short" in w for w in warnings(events))
    assert not any(w.startswith("learning_rate=") for w in warnings(events))  # 0.03 is below 2/L
    newton = get_lab("logreg").build_params({**values, "solver": "newton"})
    events, summary = drain(get_lab("logreg").load_run()(newton, RunContext(tmp_path, 5, "cpu")))
    assert summary["grad_norm"] < 1e-4 and not warnings(events)


def test_a_diverging_network_fails_naming_the_epoch_and_the_cure(tmp_path: Path) -> None:
    # Six linear layers of 8 on unscaled squares and products: rate 10 overflows at once.
    with pytest.raises(Diverged, match="NaN/inf in epoch 1: lower learning_rate"):
        run_mode(
            tmp_path,
            mode="playground",
            learning_rate=10.0,
            activation="linear",
            hidden="8,8,8,8,8,8",
            features="x1,x2,x1sq,x2sq,x1x2",
        )


# -- softmax ------------------------------------------------------------------


def test_softmax_on_digits_beats_093_with_defaults(tmp_path: Path) -> None:
    events, summary = run_mode(tmp_path, mode="softmax")
    assert summary["test_accuracy"] >= 0.93
    assert not warnings(events)
    names = {e.name for e in events if isinstance(e, ev.Frame)}
    assert names == {"weights", "confusion"}
    confusion = next(e for e in reversed(events) if isinstance(e, ev.Frame) and e.name == "confusion")
    # The diagonal holds the correct answers: their share is the test accuracy.
    assert np.trace(confusion.data) / confusion.data.sum() == pytest.approx(summary["test_accuracy"])
    weights = next(e for e in reversed(events) if isinstance(e, ev.Frame) and e.name == "weights")
    assert weights.signed and weights.data.shape == (17, 44)  # 2 x 5 images of 8x8, 1-cell gaps


def field_lines(frame: ev.Frame, height: int) -> list[str]:
    """The frame's field as the headless view draws it in colour, one string a line: its
    title, caption and colour bar left out, the half blocks' colours dropped."""
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system="truecolor")
    console.print(HeatmapRenderable(frame, height))
    drawn = Text.from_ansi(out.getvalue()).plain.splitlines()
    return [line for line in drawn if UPPER_HALF in line]


def test_softmax_frames_say_which_digit_is_where(tmp_path: Path) -> None:
    events, _ = run_mode(tmp_path, mode="softmax", epochs=1)
    frames = {e.name: e for e in events if isinstance(e, ev.Frame)}  # the last of each
    digits = [str(d) for d in range(10)]
    confusion, weights = frames["confusion"], frames["weights"]
    assert "rows: true digit" in confusion.caption and "columns: predicted" in confusion.caption
    assert [text for _, _, text in confusion.labels] == digits
    # Each digit on its diagonal cell: row d and column d of the 10x10 counts.
    assert [(int(x * 10), int(y * 10)) for x, y, _ in confusion.labels] == [(d, d) for d in range(10)]
    assert "0-4 on top, 5-9 below" in weights.caption
    rows, cols = weights.data.shape
    cell = (cols + 1) // 5  # an 8x8 image and its gap
    for x, y, text in weights.labels:  # over the top left pixel of the digit's own image
        assert divmod(int(text), 5) == (int(y * rows) // cell, int(x * cols) // cell)
    recorded = ev.from_json(ev.to_json(confusion))
    assert isinstance(recorded, ev.Frame)
    assert recorded.caption == confusion.caption and recorded.labels == confusion.labels
    # Drawn, the confusion matrix's lines read 0 to 9 down the diagonal...
    lines = field_lines(confusion, 10)
    assert [line.replace(UPPER_HALF, "") for line in lines] == digits
    across = [line.index(d) for line, d in zip(lines, digits, strict=True)]
    assert all(a < b for a, b in zip(across, across[1:], strict=False))
    # ...and the weight images' top lines 0 to 4, then 5 to 9, left to right.
    tile_rows = [line.replace(UPPER_HALF, "") for line in field_lines(weights, 12)]
    assert [row for row in tile_rows if row] == ["01234", "56789"]


def test_softmax_warns_when_accuracy_is_within_noise_of_a_constant_class(tmp_path: Path) -> None:
    # A rate this small leaves the weights near their start: close to chance.
    events, summary = run_mode(tmp_path, mode="softmax", learning_rate=1e-5, epochs=1)
    assert summary["test_accuracy"] < 0.2
    assert any("commonest class" in w for w in warnings(events))


def test_chance_warning_uses_the_commonest_class_and_binomial_noise() -> None:
    labels = np.r_[np.zeros(90), np.ones(10)]  # constant prediction scores 0.9
    assert chance_warning(0.9, labels) is not None
    assert chance_warning(0.95, labels) is not None  # 3σ = 0.09 on 100 points
    assert chance_warning(0.995, labels) is None


def test_softmax_reads_a_local_mnist_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "mnist.npz"

    # A tiny stand-in with MNIST's layout: class c is a bright row c of a 28x28 image.
    def images(count: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 10, count)
        x = rng.integers(0, 40, (count, 28, 28)).astype(np.uint8)
        x[np.arange(count), labels * 2 + 4, :] = 255
        return x, labels.astype(np.uint8)

    (x_train, y_train), (x_test, y_test) = images(300), images(100)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    events, summary = run_mode(tmp_path, mode="softmax", data=str(path), epochs=5)
    assert any("MNIST: 300 train and 100 test" in e.message for e in events if isinstance(e, ev.Log))
    assert summary["test_accuracy"] > 0.9
    weights = next(e for e in events if isinstance(e, ev.Frame) and e.name == "weights")
    assert weights.data.shape == (28, 72)  # 2 x 5 images of 28x28 (57x144), halved to fit 128


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"not a zip", "not a NumPy .npz file"),
        ({"x_train": np.zeros((2, 28, 28))}, "lacks x_test, y_test, y_train"),
        (
            {k: np.zeros((2, 8, 8)) for k in ("x_train", "y_train", "x_test", "y_test")},
            "images must be 28x28",
        ),
    ],
)
def test_a_bad_mnist_path_is_refused_before_the_run(tmp_path: Path, content: Any, message: str) -> None:
    path = tmp_path / "bad.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, dict):
        np.savez(path, **content)
    with pytest.raises(ParamError, match=message):
        LogregParams(mode="softmax", data=str(path))


# -- playground -----------------------------------------------------------------


def accuracy_of(tmp_path: Path, **values: Any) -> float:
    settings = {"mode": "playground", "epochs": 150, "learning_rate": 0.1, "noise": 0, **values}
    return run_mode(tmp_path, **settings)[1]["test_accuracy"]


@pytest.mark.slow
def test_playground_xor_needs_the_product_feature_or_a_hidden_layer(tmp_path: Path) -> None:
    linear = accuracy_of(tmp_path, dataset="xor", hidden="")
    assert 0.3 < linear < 0.7  # no line splits xor's quadrants
    assert accuracy_of(tmp_path, dataset="xor", hidden="", features="x1,x2,x1x2") > 0.95
    assert accuracy_of(tmp_path, dataset="xor", hidden="4") > 0.9


@pytest.mark.slow
def test_playground_circle_needs_the_squares(tmp_path: Path) -> None:
    assert accuracy_of(tmp_path, dataset="circle", hidden="") < 0.75
    assert accuracy_of(tmp_path, dataset="circle", hidden="", features="x1sq,x2sq") > 0.95


def test_playground_with_no_hidden_layer_is_the_binary_model(tmp_path: Path) -> None:
    keras.utils.set_random_seed(SEED)
    model = playground.build_model(LogregParams(mode="playground", hidden=""), 2)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"]
    w, b = (v.numpy() for v in model.layers[0].weights)
    x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    # One Dense unit on (x1, x2): the logit w·x + b that binary.surface turns into σ.
    np.testing.assert_allclose(model(x).numpy()[:, 0], x @ w[:, 0] + b[0], rtol=1e-6)


def test_playground_draws_the_output_with_its_points(tmp_path: Path) -> None:
    events, summary = run_mode(tmp_path, mode="playground", epochs=5, points=200, train_ratio=70)
    frames = [e for e in events if isinstance(e, ev.Frame)]
    assert frames and frames[-1].step == 5 and frames[-1].name == "output"
    assert frames[-1].points is not None and len(frames[-1].points) == 200
    assert frames[-1].contour == 0.5
    assert summary["steps"] == 5 * 14  # ceil(140 / 10) batches an epoch
    metrics = [e for e in events if isinstance(e, ev.Metric)]
    assert [m.step for m in metrics] == [1, 2, 3, 4, 5]  # every epoch reports its losses


def test_playground_takes_a_new_learning_rate_while_it_runs(tmp_path: Path) -> None:
    keras.utils.set_random_seed(SEED)
    params = LogregParams(mode="playground", epochs=4, points=100)
    ctx = RunContext(tmp_path, SEED, "cpu")
    steps = playground.run(params, ctx)
    seen: list[ev.Event] = []
    for event in steps:
        seen.append(event)
        if isinstance(event, ev.Metric) and event.step == 2:
            ctx.tuning["learning_rate"] = 0.3  # what the run's control thread does on "set"
    rates = [e.values["learning_rate"] for e in seen if isinstance(e, ev.Metric)]
    assert rates == [0.03, 0.03, 0.3, 0.3]
    assert any(
        isinstance(e, ev.Log) and e.message == "training at learning rate 0.3 from here (it was 0.03)"
        for e in seen
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"features": "x1,x3"}, "unknown x3"),
        ({"features": ""}, "none given"),
        ({"hidden": "9"}, "1 to 8 neurons"),
        ({"hidden": "1,1,1,1,1,1,1"}, "0 to 6 layer"),
        ({"hidden": "two"}, "comma-separated"),
    ],
)
def test_playground_refuses_bad_features_and_layers(values: dict[str, str], message: str) -> None:
    with pytest.raises(ParamError, match=message):
        LogregParams(mode="playground", **values)


def test_playground_sets_look_like_the_playgrounds() -> None:
    rng = np.random.default_rng(0)
    for kind in data.PLAYGROUND_SETS:
        x, y = data.points(kind, 500, 0.0, rng, 3.0)
        assert x.shape == (500, 2) and set(np.unique(y)) == {0.0, 1.0}
        assert np.abs(x).max() < data.EXTENT + 0.5 or kind == "gauss"
    x, y = data.points("circle", 500, 0.0, rng, 3.0)
    radius = np.hypot(*x.T)
    assert radius[y == 1].max() <= 2.5 < 3.5 <= radius[y == 0].min()
    x, y = data.points("xor", 500, 0.0, rng, 3.0)
    np.testing.assert_array_equal(y, x[:, 0] * x[:, 1] >= 0)


# -- reproducibility, through the real CLI ---------------------------------------


@pytest.mark.slow
def test_the_same_seed_gives_the_same_curve(tmp_path: Path, runs_dir: Path) -> None:
    curves = []
    for attempt in range(2):
        folder = tmp_path / f"runs{attempt}"
        done = run_cli(
            "run", "logreg", "--headless", "--json", "--runs-dir", str(folder), "--seed", "5",
            "--set", "mode=playground", "--set", "epochs=8", "--set", "points=120",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        run_dir = only_run_dir(folder)
        assert run_dir is not None
        curves.append([m["values"] for m in metric_lines(run_dir)])
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["status"] == "finished"
    assert len(curves[0]) == 8
    assert curves[0] == curves[1]


def test_binary_surface_function_is_the_logistic_of_the_linear_score() -> None:
    theta = np.array([1.0, -2.0, 0.5])
    surface = binary.surface(theta)
    g = data.grid(surface.shape[0])
    np.testing.assert_allclose(surface.ravel(), 1 / (1 + np.exp(-(g @ theta[:2] + theta[2]))))
    assert softmax.CLASSES == 10 and dataclasses.is_dataclass(LogregParams)
