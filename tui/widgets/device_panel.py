"""CPU, RAM and per-GPU utilisation of the run; N/A where there is no reading."""

from __future__ import annotations

from labs.events import DeviceSample
from tui.widgets.lines import Lines


def _pct(value: float | None) -> str:
    return "N/A" if value is None else f"{value:5.1f}%"


def _mb(value: float | None) -> str:
    return "N/A" if value is None else f"{value:,.0f} MB"


def describe(sample: DeviceSample) -> str:
    lines = [
        f"run  CPU {_pct(sample.process_cpu_pct)}  RSS {_mb(sample.process_rss_mb)}",
        f"host CPU {_pct(sample.machine_cpu_pct)}  RAM {_pct(sample.machine_ram_pct)}",
    ]
    if not sample.gpus:
        lines.append("GPU  N/A")
    for gpu in sample.gpus:
        memory = "N/A"
        if gpu.mem_used_mb is not None and gpu.mem_total_mb:
            memory = f"{gpu.mem_used_mb / 1024:.1f}/{gpu.mem_total_mb / 1024:.0f} GB"
        lines.append(f"GPU{gpu.index} {_pct(gpu.util_pct)}  {memory}")
    return "\n".join(lines)


class DevicePanel(Lines):
    def on_mount(self) -> None:
        if not self.content:
            self.update("waiting for the first sample…")

    def show(self, sample: DeviceSample) -> None:
        self.show_lines(describe(sample))
