"""The lab's declaration: what the menu, `list`, `params` and the form read.

This module is imported to list the labs, so it must import cheaply: TensorFlow is
imported by the run (``meetup_line.fit``), in the run's own process.
"""

from __future__ import annotations

from dataclasses import dataclass

from labs.params import param
from labs.registry import Lab


@dataclass(frozen=True)
class LineParams:
    slope: float = param(2.0, "the true line's slope", min=-100.0, max=100.0)
    intercept: float = param(-1.0, "the true line's intercept", min=-100.0, max=100.0)
    noise: float = param(0.1, "standard deviation of the noise added to each point", min=0.0, max=10.0)
    points: int = param(200, "points to fit", min=2, max=1_000_000)
    steps: int = param(300, "gradient-descent steps", min=1, max=100_000)
    learning_rate: float = param(0.1, "the step size", min=1e-6, max=10.0)


LAB = Lab(
    name="line",
    title="Line fit",
    summary="Fits a line to noisy points by gradient descent (an example lab package)",
    params_cls=LineParams,
    run="meetup_line.fit:run",  # imported only where the run executes
    key_metric="loss",
    steps=lambda p: p.steps,  # for the progress bar and the ETA
    charts=("loss", "slope", "intercept"),
    draws=False,  # it sends no frames: the run screen gives the log more room
)
