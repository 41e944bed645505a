"""The glasses lab's command: ``meetup-lab predict`` (registered in pyproject.toml's
``meetup_lab.commands`` entry points; :mod:`labs.commands`)."""

from __future__ import annotations

from pathlib import Path

from labs.commands import RUNS_DIR, Arg, LabCommand

PREDICT = LabCommand(
    "predict",
    "Label a folder of images as glasses / no_glasses with a trained glasses model.",
    "labs.glasses.predict:command",
    (
        Arg("model", "A glasses run (id, prefix or `last`) or a .keras file."),
        Arg("folder", "A folder of images to label.", type=Path),
        RUNS_DIR,
    ),
)
