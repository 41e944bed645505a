"""The ``pde`` lab's parameters and run: one equation per run, chosen by ``equation``.

Each parameter says which equation reads it; the others are ignored.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from labs import events as ev
from labs.context import RunContext
from labs.params import ParamError, param
from labs.pde import fractal, gray_scott, heat, poisson, wave
from labs.registry import Lab

EQUATIONS = ("heat", "wave", "gray-scott", "poisson", "mandelbrot", "julia")
# Which equations read a parameter: the form shows it only for those.
STEPPED = ("equation", ("heat", "wave", "gray-scott"))
HEAT, WAVE, GRAY_SCOTT = ("equation", ("heat",)), ("equation", ("wave",)), ("equation", ("gray-scott",))
POISSON, JULIA = ("equation", ("poisson",)), ("equation", ("julia",))
FRACTALS = ("equation", ("mandelbrot", "julia"))

RUNS = {
    "heat": heat.run,
    "wave": wave.run,
    "gray-scott": gray_scott.run,
    "poisson": poisson.run,
    "mandelbrot": fractal.run,
    "julia": fractal.run,
}


@dataclass(frozen=True)
class PdeParams:
    equation: str = param("heat", "the equation to solve", choices=EQUATIONS)
    grid: int = param(
        256,
        "grid points per side (fractals: pixels across)",
        min=8,
        max=4096,
        default_by=("equation", {"wave": 500}),  # the tutorial's pond
    )
    steps: int = param(
        10_000,
        "time steps in total (heat, wave, gray-scott)",
        min=1,
        max=10_000_000,
        when=STEPPED,
    )
    frame_every: int = param(
        100,
        "steps between frames (heat, wave, gray-scott)",
        min=1,
        max=1_000_000,
        when=STEPPED,
    )
    # heat
    diffusivity: float = param(1.0, "heat: diffusion coefficient D", min=1e-6, max=1e3, when=HEAT)
    dt: float = param(0.2, "heat: time step; stable while dt <= dx²/(4D)", min=1e-9, max=1e3, when=HEAT)
    boundary: str = param(
        "fixed",
        "heat: u = 0 at the edges, or periodic",
        choices=("fixed", "periodic"),
        when=HEAT,
    )
    initial: str = param(
        "gaussian",
        "heat: initial field",
        choices=("gaussian", "drops", "square"),
        when=HEAT,
    )
    # wave
    eps: float = param(0.03, "wave: time step (the tutorial's eps)", min=1e-6, max=10.0, when=WAVE)
    damping: float = param(0.04, "wave: damping of the velocity", min=0.0, max=10.0, when=WAVE)
    drops: int = param(40, "wave: raindrops on the pond", min=1, max=100_000, when=WAVE)
    scheme: str = param(
        "symplectic",
        "wave: symplectic Euler, or the tutorial's unstable update",
        choices=("symplectic", "tutorial"),
        when=WAVE,
    )
    # gray-scott
    preset: str = param(
        "spots",
        "gray-scott: Pearson's (F, k), or custom",
        choices=(*gray_scott.PRESETS, "custom"),
        when=GRAY_SCOTT,
    )
    feed: float = param(0.030, "gray-scott (custom): feed rate F", min=0.0, max=0.2, when=GRAY_SCOTT)
    kill: float = param(0.055, "gray-scott (custom): kill rate k", min=0.0, max=0.2, when=GRAY_SCOTT)
    # poisson
    symbol: str = param(
        "spectral",
        "poisson: the Laplacian's symbol",
        choices=("spectral", "5-point"),
        when=POISSON,
    )
    source: str = param(
        "charges",
        "poisson: the source f",
        choices=("charges", "manufactured", "random"),
        when=POISSON,
    )
    precision: str = param(
        "float64",
        "poisson: float64 (error at rounding level) or float32 (faster: 1.3x to 1.7x here)",
        choices=("float64", "float32"),
        when=POISSON,
    )
    # mandelbrot and julia
    iterations: int = param(200, "fractals: iterations per pixel", min=1, max=100_000, when=FRACTALS)
    centre_x: float = param(
        -0.5,
        "fractals: window centre, real part",
        min=-10.0,
        max=10.0,
        when=FRACTALS,
        default_by=("equation", {"julia": 0.0}),  # a Julia set is symmetric about 0
    )
    centre_y: float = param(
        0.0,
        "fractals: window centre, imaginary part",
        min=-10.0,
        max=10.0,
        when=FRACTALS,
    )
    zoom: float = param(
        1.0,
        "fractals: 1 shows a window 3 wide and 2.6 high (Mandelbrot: [-2, 1] x [-1.3, 1.3]); "
        "complex64 limits it to about 2.5e7 / grid",
        min=1e-3,
        max=1e6,
        when=FRACTALS,
    )
    c_re: float = param(-0.8, "julia: c, real part", min=-2.0, max=2.0, when=JULIA)
    c_im: float = param(0.156, "julia: c, imaginary part", min=-2.0, max=2.0, when=JULIA)

    def __post_init__(self) -> None:
        # Unstable parameters are refused before the run starts, naming the limit.
        if self.equation == "heat" and self.dt > (limit := heat.stable_dt(self.diffusivity)):
            raise ParamError(
                f"dt={self.dt:g} is unstable for D={self.diffusivity:g}: "
                f"the largest stable dt is dx²/(4D) = {limit:g}"
            )
        top = wave.stable_eps(self.damping)
        if self.equation == "wave" and self.scheme == "symplectic" and self.eps >= top:
            raise ParamError(
                f"eps={self.eps:g} is unstable for the symplectic scheme with damping {self.damping:g}: "
                f"eps must stay below (√(damping² + {4 * wave.LAMBDA_MAX:g}) - damping)/{wave.LAMBDA_MAX:g} "
                f"= {top:.4f} (the Laplacian's largest eigenvalue is {wave.LAMBDA_MAX:g})"
            )
        zoom_top, step = fractal.zoom_limit(self.centre_x, self.centre_y, self.grid)
        if self.equation in FRACTALS[1] and self.zoom > zoom_top:
            raise ParamError(
                f"zoom={self.zoom:g} is past what complex64 resolves: at {self.grid} pixels across, "
                f"neighbouring pixels would be closer than float32's step there ({step:.2g}); "
                f"the largest zoom here is {zoom_top:.3g}"
            )


def total_steps(p: PdeParams) -> int:
    if p.equation == "poisson":
        return 1
    if p.equation in FRACTALS[1]:
        return p.iterations
    return p.steps


def reframe(values: dict[str, Any], factor: float, dx: int, dy: int) -> dict[str, float] | None:
    """The fractals' window zoomed by ``factor`` about its centre and moved ``dx`` across and
    ``dy`` up by half its half height: the values that change."""
    if values.get("equation") not in FRACTALS[1]:
        return None
    zoom = values["zoom"]
    step = fractal.HALF_HEIGHT / 2 / zoom
    moved = {
        "zoom": zoom * factor,
        "centre_x": values["centre_x"] + dx * step,
        "centre_y": values["centre_y"] + dy * step,
    }
    return {name: value for name, value in moved.items() if value != values[name]}


def run(p: PdeParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    return (yield from RUNS[p.equation](p, ctx))


LAB = Lab(
    name="pde",
    order=10,
    title="PDEs on TensorFlow",
    summary="TensorFlow as a numerical engine: heat, waves, Turing patterns, Poisson by FFT, fractals",
    params_cls=PdeParams,
    run="labs.pde.lab:run",
    key_metric=("mass", "energy", "v_mean", "residual", "area"),
    steps=total_steps,
    charts=("mass", "max", "energy", "checkerboard", "v_mean", "area", "residual"),
    reframe=reframe,
)
