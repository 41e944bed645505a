"""TensorBoard summaries of a run, so ``tensorboard --logdir RUNS`` shows every run: its
curves, and its parameters as HParams, so that the HParams tab compares runs too (its
metrics are the scalars, which the tab finds by itself)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from labs.events import DeviceSample, Metric


class ScalarWriter:
    """Writes metrics and device samples with ``tf.summary``.

    :meth:`open` is called by the run once TensorFlow is imported, on the main
    thread; samples that arrive before (during the import) are only in the
    event log.
    """

    def __init__(self, logdir: Path) -> None:
        self._logdir = logdir
        self._writer: Any = None

    def open(self, params: Mapping[str, Any], trial: str) -> None:
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hp

        # Flush every second so a killed run keeps nearly all of its curves.
        self._writer = tf.summary.create_file_writer(str(self._logdir), flush_millis=1000)
        with self._writer.as_default():
            hp.hparams({name: _hparam(value) for name, value in params.items()}, trial_id=trial)

    def _scalars(self, values: Mapping[str, float | None], step: int) -> None:
        import tensorflow as tf

        if self._writer is None:
            return
        with self._writer.as_default(step=step):
            for name, value in values.items():
                if value is not None:
                    tf.summary.scalar(name, value)

    def metric(self, event: Metric) -> None:
        self._scalars(event.values, event.step)

    def device(self, event: DeviceSample) -> None:
        values = {
            "device/process_cpu_pct": event.process_cpu_pct,
            "device/process_rss_mb": event.process_rss_mb,
            "device/machine_cpu_pct": event.machine_cpu_pct,
            "device/machine_ram_pct": event.machine_ram_pct,
        }
        for gpu in event.gpus:
            values[f"device/gpu{gpu.index}_util_pct"] = gpu.util_pct
            values[f"device/gpu{gpu.index}_mem_used_mb"] = gpu.mem_used_mb
        # Their step is the run's clock in milliseconds: samples have no training step.
        self._scalars(values, round(event.time * 1000))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def _hparam(value: Any) -> bool | int | float | str:
    """HParams hold numbers, booleans and strings: a list or nothing is shown as text."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
