"""One node, fitted by maximum likelihood: binary logistic regression on 2-D points.

p(y=1 | x) = σ(w·x + b). The mean log-likelihood (minus an optional L2
penalty on w) is climbed by gradient ascent, TensorFlow taking the partial
derivatives with ``tf.GradientTape``; or Newton's method (IRLS) takes the
Hessian from a second tape and lands on the same optimum in a few steps.
Computed in float64, so the fit can be checked to many digits.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np

from labs import events as ev
from labs.chance import chance_warning
from labs.context import RunContext
from labs.logreg import data
from labs.logreg.report import SURFACE_SIDE, retune, sigmoid

if TYPE_CHECKING:
    from labs.logreg.lab import LogregParams


class Fit:
    """Compiled pieces of the fit over θ = (w1, w2, b)."""

    def __init__(self, x: np.ndarray, y: np.ndarray, l2: float):
        import tensorflow as tf

        self.tf = tf
        self.X = tf.constant(np.column_stack([x, np.ones(len(x))]), tf.float64)
        self.y = tf.constant(y, tf.float64)
        self.penalised = tf.constant([l2, l2, 0.0], tf.float64)  # the bias is not penalised

    def mean_log_likelihood(self, theta: Any) -> Any:
        """(1/n) Σ y z - softplus(z), z = X θ: log σ(z) for y = 1, log(1 - σ(z)) for y = 0."""
        z = self.tf.linalg.matvec(self.X, theta)
        return self.tf.reduce_mean(self.y * z - self.tf.nn.softplus(z))

    def objective(self, theta: Any) -> Any:
        """What is climbed: the mean log-likelihood minus the L2 penalty."""
        return self.mean_log_likelihood(theta) - 0.5 * self.tf.reduce_sum(self.penalised * theta**2)

    def gradient(self, theta: Any) -> Any:
        with self.tf.GradientTape() as tape:
            tape.watch(theta)
            value = self.objective(theta)
        return tape.gradient(value, theta)

    def compile(self) -> tuple[Any, Any, Any]:
        tf = self.tf

        @tf.function
        def ascend(theta: Any, rate: Any, steps: Any) -> Any:
            for _ in tf.range(steps):
                theta = theta + rate * self.gradient(theta)
            return theta

        @tf.function
        def newton(theta: Any) -> Any:
            with tf.GradientTape() as outer:
                outer.watch(theta)
                g = self.gradient(theta)
            hessian = outer.jacobian(g, theta)
            return theta - tf.linalg.solve(hessian, g[:, None])[:, 0]

        @tf.function
        def state(theta: Any) -> tuple[Any, Any, Any]:
            z = tf.linalg.matvec(self.X, theta)
            correct = tf.cast(tf.cast(z > 0, tf.float64) == self.y, tf.float64)
            return self.mean_log_likelihood(theta), tf.norm(self.gradient(theta)), tf.reduce_mean(correct)

        return ascend, newton, state


# A fit whose gradient (of the objective, per point) is larger than this at the end has not
# reached the maximum: the run says so rather than reporting the weights as the answer.
GRAD_TOLERANCE = 1e-4


def curvature_bound(x: np.ndarray, l2: float) -> float:
    """L, a bound on the objective's curvature: σ' ≤ 1/4 gives ‖∇²‖ ≤ λmax(X̃ᵀX̃)/(4n) + l2.

    Gradient ascent at a rate below 2/L climbs monotonically; above it, it may not.
    """
    xt = np.column_stack([x, np.ones(len(x))])
    return float(np.linalg.eigvalsh(xt.T @ xt / len(x)).max()) / 4 + l2


def surface(theta: np.ndarray) -> np.ndarray:
    """p(y=1) over the Playground's [-6, 6]² window, top row first."""
    g = data.grid(SURFACE_SIDE)
    z = g @ theta[:2] + theta[2]
    return sigmoid(z).reshape(SURFACE_SIDE, SURFACE_SIDE)


def run(p: LogregParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    import tensorflow as tf

    x, y = data.points(p.dataset, p.points, p.noise / 100, np.random.default_rng(ctx.seed), p.separation)
    how = "Newton's method (IRLS)" if p.solver == "newton" else f"gradient ascent, rate {p.learning_rate:g}"
    yield ev.Log(f"{p.dataset}: {len(y)} points; fitting σ(w·x + b) by {how}")
    ascend, newton, state = Fit(x, y, p.l2).compile()
    theta = tf.zeros(3, tf.float64)
    markers = data.markers(x, y)
    values: dict[str, float] = {}

    def report(step: int, theta: Any) -> Generator[ev.Event, None, None]:
        mean_ll, grad_norm, accuracy = (float(t) for t in state(theta))
        w1, w2, b = (float(v) for v in theta.numpy())
        values.update(
            nll=-mean_ll,
            log_likelihood=mean_ll * len(y),
            accuracy=accuracy,
            grad_norm=grad_norm,  # of what is climbed: 0 at the optimum
            w1=w1,
            w2=w2,
            b=b,
        )
        yield ev.Metric(step=step, values=dict(values))
        yield ctx.frame("p(y=1)", step, surface(theta.numpy()), points=markers, contour=0.5)

    yield from report(0, theta)
    done = 0
    rate, top = p.learning_rate, 2 / curvature_bound(x, p.l2)
    if p.solver == "newton":
        while done < p.steps and not ctx.cancelled:
            new = newton(theta)
            moved = float(tf.norm(new - theta))
            theta, done = new, done + 1
            yield from report(done, theta)
            if not np.isfinite(moved) or moved < 1e-12:
                break
    else:
        if rate > top:
            yield ev.Log(
                f"learning_rate={rate:g} is beyond 2/L = {top:.3g} for these data (L bounds the "
                "likelihood's curvature): the ascent may oscillate or diverge instead of climbing; "
                "a rate up to 2/L is safe",
                level="warning",
            )
        while done < p.steps and not ctx.cancelled:
            rate, change = retune(ctx.tuning, rate)
            if change is not None:
                yield ev.Log(change)
            chunk = min(p.frame_every, p.steps - done)
            theta = ascend(theta, tf.constant(rate, tf.float64), tf.constant(chunk))
            done += chunk
            yield from report(done, theta)
    if values["accuracy"] == 1.0 and p.l2 == 0:
        yield ev.Log(
            "the classes are separable: the likelihood keeps rising as |w| grows, so the maximum-"
            "likelihood weights are infinite; set l2 > 0 (or more noise) for a finite fit",
            level="warning",
        )
    elif not ctx.cancelled and values["grad_norm"] > GRAD_TOLERANCE:
        if p.solver == "newton":
            advice = "more steps"
        elif rate > top:
            advice = f"a learning_rate below 2/L = {top:.3g}, or solver=newton (a few steps)"
        else:
            advice = f"more steps, a larger learning_rate (up to 2/L = {top:.3g}), or solver=newton"
        yield ev.Log(
            f"the fit stopped short of the maximum likelihood: the gradient's norm is "
            f"{values['grad_norm']:.2g}, above the tolerance {GRAD_TOLERANCE:g}, after {done} steps; "
            f"try {advice}",
            level="warning",
        )
    if (warning := chance_warning(values["accuracy"], y)) is not None:
        yield ev.Log(warning, level="warning")
    final = surface(theta.numpy())
    yield ctx.save_array("probability", final, "p(y=1) over [-6, 6]², top row first")
    yield ctx.save_heatmap_png("probability", final)
    return {**values, "steps": done}
