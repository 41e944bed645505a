"""Checkpoints that survive a kill at any moment, and the newest complete one to resume from.

Keras's ``ModelCheckpoint`` rewrites one file in place: a run killed while it
writes is left with a truncated model and no good epoch. Here each epoch's
model is written under a temporary name, flushed to disk and renamed to
``checkpoint-N.keras`` (a rename is atomic), then ``checkpoint.json`` names
it, then the older one goes. Every ``checkpoint-N.keras`` is therefore whole.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labs.jsonfile import write_atomic

INFO = "checkpoint.json"  # {"epoch": N, "model": "checkpoint-N.keras"}, for people and tools
_NAME = re.compile(r"checkpoint-(\d+)\.keras")


def save(model: Any, run_dir: Path, epoch: int) -> Path:
    """Write the model after ``epoch`` epochs as the run's checkpoint."""
    run_dir.mkdir(parents=True, exist_ok=True)  # Keras's own checkpoint made it too
    final = run_dir / f"checkpoint-{epoch}.keras"
    tmp = run_dir / f".checkpoint-{epoch}.tmp.keras"  # Keras wants the suffix; the dot hides it
    model.save(tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())  # on disk before the rename makes it the checkpoint
    os.replace(tmp, final)
    write_atomic(run_dir / INFO, {"epoch": epoch, "model": final.name})
    for _, older in complete(run_dir):
        if older != final:
            older.unlink(missing_ok=True)
    return final


def complete(run_dir: Path) -> Iterator[tuple[int, Path]]:
    """The run's whole checkpoints, newest first (a half-written one has another name)."""
    found = []
    for path in run_dir.glob("checkpoint-*.keras"):
        if (match := _NAME.fullmatch(path.name)) is not None:
            found.append((int(match.group(1)), path))
    yield from sorted(found, reverse=True)


def has_one(run_dir: Path) -> bool:
    return next(complete(run_dir), None) is not None
