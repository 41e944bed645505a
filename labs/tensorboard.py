"""TensorBoard scalar summaries of a run, so ``tensorboard --logdir RUNS`` shows every run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labs.events import DeviceSample, Metric


class ScalarWriter:
    """Writes metrics and device samples with ``tf.summary``.

    The writer is made on first use, so that TensorFlow is imported by the run
    that needs it rather than by this module.
    """

    def __init__(self, logdir: Path):
        self._logdir = logdir
        self._writer: Any = None
        self._samples = 0

    def _scalars(self, values: dict[str, float | None], step: int) -> None:
        import tensorflow as tf

        if self._writer is None:
            # Flush every second so a killed run keeps nearly all of its curves.
            self._writer = tf.summary.create_file_writer(str(self._logdir), flush_millis=1000)
        with self._writer.as_default(step=step):
            for name, value in values.items():
                if value is not None:
                    tf.summary.scalar(name, value)

    def metric(self, event: Metric) -> None:
        self._scalars(event.values, event.step)

    def device(self, event: DeviceSample) -> None:
        if self._writer is None:
            # Samples come from a thread: leave the TensorFlow import (and the
            # writer's creation) to the run's first metric on the main thread.
            return
        values = {
            "device/process_cpu_pct": event.process_cpu_pct,
            "device/process_rss_mb": event.process_rss_mb,
            "device/machine_cpu_pct": event.machine_cpu_pct,
            "device/machine_ram_pct": event.machine_ram_pct,
        }
        for gpu in event.gpus:
            values[f"device/gpu{gpu.index}_util_pct"] = gpu.util_pct
            values[f"device/gpu{gpu.index}_mem_used_mb"] = gpu.mem_used_mb
        self._samples += 1
        self._scalars(values, self._samples)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
