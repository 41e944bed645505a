"""Devices and their utilisation, without TensorFlow.

GPUs are found through NVML (nvidia-ml-py). NVML is asked one field at a time
(``_query``, after nvitop's ``nvmlQuery``): a field NVML cannot give (no
driver, no library, a reading the GPU does not support) is ``None`` ("N/A") on
its own while the others are still read. Only NVML's errors are caught; any
other exception is a bug and propagates.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

import psutil

from labs.events import DeviceSample, GpuSample

NA = "N/A"  # a name NVML cannot give; numeric readings it cannot give are None


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
            except pynvml.NVMLError:  # no library, no driver, no GPU: no usable GPU here
                _nvml_ready = False
        return pynvml if _nvml_ready else None


_T = TypeVar("_T")
_D = TypeVar("_D")


@overload
def _query(func: Callable[..., _T], *args: Any) -> _T | None: ...
@overload
def _query(func: Callable[..., _T], *args: Any, default: _D) -> _T | _D: ...
def _query(func: Callable[..., Any], *args: Any, default: Any = None) -> Any:
    """``func(*args)``, or ``default`` where NVML cannot answer it.

    ``func`` is an NVML function (``pynvml.nvmlDeviceGetName``...). An
    ``NVMLError`` of any kind (most often ``NVMLError_NotSupported``: a field
    this GPU or driver does not report) costs that one reading only. Anything
    else, a ``TypeError`` or an ``AttributeError``, is a bug here and is not
    caught.
    """
    import pynvml  # already imported by _nvml(); a lookup in sys.modules

    try:
        return func(*args)
    except pynvml.NVMLError:
        return default


def _handles(nvml: Any) -> list[Any]:
    """A handle for each GPU NVML counts, ``None`` for one it cannot open."""
    count = _query(nvml.nvmlDeviceGetCount, default=0)
    return [_query(nvml.nvmlDeviceGetHandleByIndex, index) for index in range(count)]


def _name(nvml: Any, handle: Any) -> str:
    return NA if handle is None else _text(_query(nvml.nvmlDeviceGetName, handle, default=NA))


def gpu_names() -> list[str]:
    """The name of each GPU, ``"N/A"`` for one whose name NVML cannot read."""
    nvml = _nvml()
    if nvml is None:
        return []
    return [_name(nvml, handle) for handle in _handles(nvml)]


def driver_cuda_version() -> tuple[int, int] | None:
    """The newest CUDA the installed driver supports, as (major, minor); None without NVML."""
    nvml = _nvml()
    if nvml is None:
        return None
    version = _query(nvml.nvmlSystemGetCudaDriverVersion)  # 12040 for CUDA 12.4
    if version is None:
        return None
    return int(version) // 1000, int(version) % 1000 // 10


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


def _gpu_sample(nvml: Any, index: int, handle: Any) -> GpuSample:
    """One GPU's readings, each ``None`` where NVML cannot give it, the others still read."""
    if handle is None:
        return GpuSample(index, NA, None, None, None)
    rates = _query(nvml.nvmlDeviceGetUtilizationRates, handle)
    memory = _query(nvml.nvmlDeviceGetMemoryInfo, handle)
    return GpuSample(
        index,
        _name(nvml, handle),
        None if rates is None else float(rates.gpu),
        None if memory is None else memory.used / 2**20,
        None if memory is None else memory.total / 2**20,
    )


def _gpu_samples() -> tuple[GpuSample, ...]:
    nvml = _nvml()
    if nvml is None:
        return ()
    return tuple(_gpu_sample(nvml, index, handle) for index, handle in enumerate(_handles(nvml)))


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
