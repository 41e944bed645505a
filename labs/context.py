"""What a running lab is given: its folder, seed, device and a cancel flag."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from labs.events import Artifact, Frame, Metric
from labs.png import write_heatmap_png
from themes.colormaps import default_cmap

# Frames travel as JSON and are recorded for replay: a terminal panel shows
# at most about 200x100 cells, so 128 a side keeps detail and keeps records small.
FRAME_SIDE = 128


def downsample(field2d: np.ndarray, max_side: int) -> np.ndarray:
    """Block-average so that neither side exceeds ``max_side`` (an RGB image keeps its channels)."""
    field2d = np.asarray(field2d, dtype=np.float32)
    factor = -(-max(field2d.shape[:2]) // max_side)
    if factor <= 1:
        return field2d
    h, w = (field2d.shape[0] // factor) * factor, (field2d.shape[1] // factor) * factor
    blocks = field2d[:h, :w].reshape(h // factor, factor, w // factor, factor, *field2d.shape[2:])
    return blocks.mean(axis=(1, 3))


class RunError(Exception):
    """A failure the lab has already explained (a compile error, failed checks): the run is
    recorded as failed with this message, and the log keeps the lab's lines, not a traceback."""


class Diverged(RunError):
    """A field or a loss that became NaN/inf: the message names when, and what to change."""


# Metrics are recorded as float32 too (TensorBoard's scalars): what float32 cannot hold has
# diverged, whatever float64 a lab computed it in.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_metric(event: Metric) -> None:
    """Raise Diverged for a finite metric value too large for float32 (it would be recorded
    as infinity, or refused by TensorBoard's writer). NaN and infinity are left to the lab:
    some say "not measured" with NaN (a skipped check), and the labs that step fields or
    losses catch their own NaN/inf with the step and the cure."""
    for name, value in event.values.items():
        if math.isfinite(value) and abs(value) > FLOAT32_MAX:
            raise Diverged(
                f"diverged at step {event.step}: {name} {value:.3g} is beyond what float32 holds"
                f" (±{FLOAT32_MAX:.3g}); the run stopped before recording it"
            )


@dataclass
class RunContext:
    run_dir: Path
    seed: int
    device: str
    cancel_flag: threading.Event = field(default_factory=threading.Event)

    @property
    def cancelled(self) -> bool:
        """Labs check this inside long loops; the runner also checks between events."""
        return self.cancel_flag.is_set()

    @property
    def artifacts_dir(self) -> Path:
        path = self.run_dir / "artifacts"
        path.mkdir(exist_ok=True)
        return path

    # Values the user changes while the run goes (the playground's learning
    # rate): the run's control thread writes them, the lab reads them.
    tuning: dict[str, float] = field(default_factory=dict)

    def frame(
        self,
        name: str,
        step: int,
        field2d: np.ndarray,
        signed: bool = False,
        points: np.ndarray | None = None,
        contour: float | None = None,
        caption: str = "",
        labels: tuple[tuple[float, float, str], ...] = (),
    ) -> Frame:
        """A frame for the live view, block-averaged to at most FRAME_SIDE cells a side
        (points and labels are placed in fractions of the field: they need no change)."""
        data = downsample(field2d, FRAME_SIDE)
        return Frame(
            name=name,
            step=step,
            data=data,
            signed=signed,
            points=points,
            contour=contour,
            caption=caption,
            labels=labels,
        )

    def save_array(self, name: str, array: np.ndarray, description: str) -> Artifact:
        path = self.artifacts_dir / f"{name}.npy"
        np.save(path, array)
        return Artifact(path=str(path.relative_to(self.run_dir)), description=description)

    def save_heatmap_png(self, name: str, field2d: np.ndarray, signed: bool = False) -> Artifact:
        """A PNG of a field, coloured like the TUI's heatmap."""
        path = write_heatmap_png(self.artifacts_dir / f"{name}.png", field2d, default_cmap(signed), signed)
        return Artifact(path=str(path.relative_to(self.run_dir)), description=f"{name} heatmap")
