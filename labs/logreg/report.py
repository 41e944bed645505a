"""What the logreg modes share in their reports."""

from __future__ import annotations

import numpy as np

SURFACE_SIDE = 64  # the output surface is computed on a 64x64 grid over [-6, 6]²


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) without overflow for large |z| (1 / (1 + exp(-z)) overflows below -709)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def retune(tuning: dict[str, float], rate: float) -> tuple[float, str | None]:
    """The learning rate to use now (the user may have set one while the run goes), and a
    line saying so when it changed. The line names the rate trained at until now, not the
    last one asked for: two keys between epochs (0.1 → 0.03 → 0.01) are one change here,
    and each key's own line ("learning_rate: 0.03 → 0.01") is logged as it arrives."""
    wanted = tuning.get("learning_rate", rate)
    if wanted == rate:
        return rate, None
    return wanted, f"training at learning rate {wanted:g} from here (it was {rate:g})"
