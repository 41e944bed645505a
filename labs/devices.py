"""Devices and their utilisation, without TensorFlow.

GPUs are found through NVML (nvidia-ml-py). Every NVML failure (no driver,
no library, no GPU) degrades to "no GPU" or to ``None`` readings ("N/A"),
never to an error.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

from labs.events import DeviceSample, GpuSample


@dataclass(frozen=True)
class Device:
    name: str  # as given to --device: auto, cpu, gpu:N
    label: str  # what the form shows


_nvml_lock = threading.Lock()
_nvml_ready: bool | None = None


def _nvml() -> Any:
    """The initialised ``pynvml`` module, or ``None`` where NVML is unavailable."""
    global _nvml_ready
    with _nvml_lock:
        try:
            import pynvml
        except ImportError:
            return None
        if _nvml_ready is None:
            try:
                pynvml.nvmlInit()
                _nvml_ready = True
            except Exception:  # any NVML error means: no usable GPU here
                _nvml_ready = False
        return pynvml if _nvml_ready else None


def gpu_names() -> list[str]:
    nvml = _nvml()
    if nvml is None:
        return []
    try:
        count = nvml.nvmlDeviceGetCount()
        return [_text(nvml.nvmlDeviceGetName(nvml.nvmlDeviceGetHandleByIndex(i))) for i in range(count)]
    except Exception:
        return []


def driver_cuda_version() -> tuple[int, int] | None:
    """The newest CUDA the installed driver supports, as (major, minor); None without NVML."""
    nvml = _nvml()
    if nvml is None:
        return None
    try:
        version = int(nvml.nvmlSystemGetCudaDriverVersion())  # 12040 for CUDA 12.4
    except Exception:
        return None
    return version // 1000, version % 1000 // 10


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def available() -> list[Device]:
    """The devices a run can be placed on here."""
    devices = [Device("auto", "auto (GPU if present)"), Device("cpu", "CPU")]
    devices += [Device(f"gpu:{i}", f"GPU {i}: {name}") for i, name in enumerate(gpu_names())]
    return devices


_DEVICE = re.compile(r"^(auto|cpu|gpu|gpu:\d+)$")


def check_device(name: str) -> str:
    """Validate a ``--device`` value against the syntax and the GPUs present."""
    name = name.strip().lower()
    if not _DEVICE.match(name):
        raise ValueError(f"unknown device {name!r}: use auto, cpu, gpu or gpu:N")
    gpus = gpu_names()
    if name.startswith("gpu") and not gpus:
        raise ValueError(f"device {name!r} asked for, but no NVIDIA GPU was found: use auto or cpu")
    if name.startswith("gpu:") and gpus and int(name[4:]) >= len(gpus):
        raise ValueError(f"device {name!r} does not exist: GPUs here are gpu:0..gpu:{len(gpus) - 1}")
    return name


def cuda_visible_devices(device: str) -> str | None:
    """The CUDA_VISIBLE_DEVICES a run on ``device`` needs (``None``: leave as is)."""
    if device == "cpu":
        return "-1"
    if device.startswith("gpu:"):
        return device[4:]
    return None


def _gpu_samples() -> tuple[GpuSample, ...]:
    nvml = _nvml()
    if nvml is None:
        return ()
    samples = []
    try:
        count = nvml.nvmlDeviceGetCount()
    except Exception:
        return ()
    for index in range(count):
        util = used = total = None
        name = "N/A"
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            name = _text(nvml.nvmlDeviceGetName(handle))
            util = float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            used, total = memory.used / 2**20, memory.total / 2**20
        except Exception:
            pass  # keep whatever was read; the rest shows as N/A
        samples.append(GpuSample(index, name, util, used, total))
    return tuple(samples)


class Sampler:
    """Samples a process and the machine about twice a second on a daemon thread."""

    def __init__(self, pid: int, emit: Callable[[DeviceSample], object], interval: float = 0.5) -> None:
        self._process = psutil.Process(pid)
        self._emit = emit
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="device-sampler", daemon=True)

    def start(self) -> None:
        # cpu_percent's first call only sets the baseline.
        self._process.cpu_percent(None)
        psutil.cpu_percent(None)
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait: no sample may be emitted after this returns."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def sample(self) -> DeviceSample:
        try:
            cpu: float | None = self._process.cpu_percent(None)
            rss: float | None = self._process.memory_info().rss / 2**20
        except psutil.Error:
            cpu = rss = None
        return DeviceSample(
            process_cpu_pct=cpu,
            process_rss_mb=rss,
            machine_cpu_pct=psutil.cpu_percent(None),
            machine_ram_pct=psutil.virtual_memory().percent,
            gpus=_gpu_samples(),
        )

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._emit(self.sample())
