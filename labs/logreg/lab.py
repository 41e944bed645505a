"""The ``logreg`` lab: one node by maximum likelihood, softmax, and the Playground.

Each parameter says which mode reads it; the others are ignored.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from labs import digits
from labs import events as ev
from labs.context import RunContext
from labs.logreg import binary, data, playground, softmax
from labs.params import ParamError, param
from labs.registry import Lab

MODES = ("binary", "softmax", "playground")
BINARY, SOFTMAX, PLAYGROUND = ("mode", ("binary",)), ("mode", ("softmax",)), ("mode", ("playground",))
POINTS = ("mode", ("binary", "playground"))
KERAS = ("mode", ("softmax", "playground"))
RUNS = {"binary": binary.run, "softmax": softmax.run, "playground": playground.run}


@dataclass(frozen=True)
class LogregParams:
    mode: str = param("binary", "the experiment", choices=MODES)
    # binary and playground
    dataset: str = param(
        "gauss", "the 2-D data set (the Playground's)", choices=data.PLAYGROUND_SETS, when=POINTS
    )
    points: int = param(500, "number of 2-D points", min=10, max=100_000, when=POINTS)
    noise: int = param(20, "noise, in % (the Playground's 0 to 50)", min=0, max=50, when=POINTS)
    separation: float = param(3.0, "gauss: distance between the two centres", min=0.0, max=12.0, when=POINTS)
    # binary
    solver: str = param(
        "gradient",
        "binary: gradient ascent on the log-likelihood, or Newton's method (IRLS)",
        choices=("gradient", "newton"),
        when=BINARY,
    )
    steps: int = param(
        3000, "binary: gradient steps, or Newton iterations at most", min=1, max=10_000_000, when=BINARY
    )
    frame_every: int = param(50, "binary: gradient steps between frames", min=1, max=1_000_000, when=BINARY)
    l2: float = param(
        0.0, "binary: L2 penalty on w (0: plain maximum likelihood)", min=0.0, max=100.0, when=BINARY
    )
    # softmax
    data: str = param(
        "digits", "softmax: digits (scikit-learn's 8x8) or the path of a local mnist.npz", when=SOFTMAX
    )
    # softmax and playground
    train_ratio: int = param(50, "% of the points (digits: images) to train on", min=10, max=90, when=KERAS)
    epochs: int = param(100, "passes over the training set", min=1, max=1_000_000, when=KERAS)
    batch_size: int = param(10, "examples per gradient step", min=1, max=30, when=KERAS)
    # playground
    features: str = param(
        "x1,x2", f"playground: input features from {','.join(playground.FEATURES)}", when=PLAYGROUND
    )
    hidden: str = param(
        "4,2", "playground: hidden layer sizes (0-6 layers of 1-8; empty: none)", when=PLAYGROUND
    )
    activation: str = param(
        "tanh",
        "playground: hidden activation",
        choices=("relu", "tanh", "sigmoid", "linear"),
        when=PLAYGROUND,
    )
    regularization: str = param(
        "none", "playground: weight penalty", choices=("none", "L1", "L2"), when=PLAYGROUND
    )
    reg_rate: float = param(0.0, "playground: regularisation rate", min=0.0, max=10.0, when=PLAYGROUND)
    # all modes
    learning_rate: float = param(0.03, "learning rate (binary: of the gradient ascent)", min=1e-5, max=10.0)

    def __post_init__(self) -> None:
        # Values whose form a type cannot express are checked here, before the run.
        try:
            if self.mode == "playground":
                playground.parse_features(self.features)
                playground.parse_hidden(self.hidden)
        except ValueError as exc:
            raise ParamError(str(exc)) from None
        if self.mode == "softmax" and self.data != "digits" and (why := digits.check_mnist(self.data)):
            raise ParamError(why)


def total_steps(p: LogregParams) -> int:
    return p.steps if p.mode == "binary" else p.epochs


def run(p: LogregParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    return (yield from RUNS[p.mode](p, ctx))


LAB = Lab(
    name="logreg",
    order=20,
    title="Logistic regression and the Playground",
    summary="One node by maximum likelihood (gradient ascent or Newton), softmax on digits, "
    "and a terminal TensorFlow Playground",
    params_cls=LogregParams,
    run="labs.logreg.lab:run",
    key_metric=("test_accuracy", "accuracy"),
    steps=total_steps,
    charts=("nll", "accuracy", "grad_norm", "train_loss", "test_loss", "test_accuracy"),
    tunables={"learning_rate": playground.LEARNING_RATES},
)
