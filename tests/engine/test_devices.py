"""Devices and the utilisation sampler (real psutil, real NVML where present)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

import pynvml
import pytest

from labs import events as ev
from labs.devices import (
    Sampler,
    _gpu_sample,
    _query,
    available,
    check_device,
    cuda_visible_devices,
    gpu_names,
)


@pytest.mark.parametrize(("given", "name"), [("auto", "auto"), ("cpu", "cpu"), (" CPU ", "cpu")])
def test_check_device_accepts(given: str, name: str) -> None:
    assert check_device(given) == name


@pytest.mark.parametrize("given", ["tpu", "", "gpu:x", "gpu:-1", "cuda:0", "cpu0"])
def test_check_device_refuses(given: str) -> None:
    with pytest.raises(ValueError, match=r"use auto, cpu, gpu or gpu:N"):
        check_device(given)


@pytest.mark.gpu
def test_check_device_refuses_a_gpu_index_past_the_last() -> None:
    gpus = gpu_names()
    if not gpus:
        pytest.skip("needs NVML and at least one GPU")
    with pytest.raises(ValueError, match="does not exist"):
        check_device(f"gpu:{len(gpus)}")
    assert check_device(f"gpu:{len(gpus) - 1}") == f"gpu:{len(gpus) - 1}"


def test_available_lists_auto_cpu_and_each_gpu() -> None:
    devices = available()
    assert [d.name for d in devices[:2]] == ["auto", "cpu"]
    assert [d.name for d in devices[2:]] == [f"gpu:{i}" for i in range(len(gpu_names()))]


@pytest.mark.parametrize(
    ("device", "visible"), [("cpu", "-1"), ("gpu:1", "1"), ("auto", None), ("gpu", None)]
)
def test_cuda_visible_devices(device: str, visible: str | None) -> None:
    assert cuda_visible_devices(device) == visible


def test_sample_reads_this_process() -> None:
    sample = Sampler(os.getpid(), lambda _s: None).sample()
    assert isinstance(sample, ev.DeviceSample)
    assert sample.process_rss_mb is not None and sample.process_rss_mb > 1
    assert sample.machine_ram_pct is not None and 0 < sample.machine_ram_pct <= 100
    assert len(sample.gpus) == len(gpu_names())
    assert ev.from_json(ev.to_json(sample)) == sample


def test_no_sample_is_emitted_after_stop_returns() -> None:
    """labs.child stops the sampler and then emits the terminal event: that must be the last.

    Each trial lets the sampler run briefly, stops it, marks the stop, and checks
    that no sample came after the mark. A sample taken before stop() but emitted
    after it would land after the terminal event in the run's record.
    """
    late = 0
    trials = 50
    for _ in range(trials):
        seen: list[str] = []
        lock = threading.Lock()

        def emit(_sample: ev.DeviceSample, seen: list[str] = seen, lock: threading.Lock = lock) -> None:
            with lock:
                seen.append("sample")

        sampler = Sampler(os.getpid(), emit, interval=0.001)
        sampler.start()
        time.sleep(0.005)
        sampler.stop()
        with lock:
            seen.append("stopped")
        time.sleep(0.01)  # room for a late sample to show up
        with lock:
            if seen[-1] != "stopped":
                late += 1
    assert late == 0, f"a sample was emitted after stop() returned in {late} of {trials} trials"


# NVML, one field at a time: _query is under test; the NVML functions it is given
# are plain functions that raise pynvml's own error classes, as NVML's do.


def _unsupported(*_args: object) -> object:
    raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)  # mapped to NVMLError_NotSupported


def _lost(*_args: object) -> object:
    raise pynvml.NVMLError_GpuIsLost()


def test_query_returns_what_nvml_gives() -> None:
    assert _query(lambda handle, field: (handle, field), "h", 3) == ("h", 3)


def test_query_gives_the_default_for_an_unsupported_field() -> None:
    with pytest.raises(pynvml.NVMLError_NotSupported):
        _unsupported()  # the stand-in raises what NVML raises
    assert _query(_unsupported, "h") is None
    assert _query(_unsupported, "h", default="N/A") == "N/A"
    assert _query(_lost, "h", default=0) == 0  # any NVML error costs that reading only


def test_query_lets_a_bug_through() -> None:
    def buggy(handle: object) -> object:
        raise TypeError("a bug, not NVML")

    with pytest.raises(TypeError, match="a bug"):
        _query(buggy, "h")
    with pytest.raises(AttributeError):
        _query(lambda handle: handle.no_such_field, object())


def _gpu(**broken: Callable[..., object]) -> SimpleNamespace:
    """NVML's functions for one GPU (8 GiB, 2 GiB used, 40 % busy), some replaced by ``broken``."""
    functions: dict[str, Callable[..., object]] = {
        "nvmlDeviceGetName": lambda _h: b"Test GPU",
        "nvmlDeviceGetUtilizationRates": lambda _h: SimpleNamespace(gpu=40, memory=10),
        "nvmlDeviceGetMemoryInfo": lambda _h: SimpleNamespace(used=2 * 2**30, total=8 * 2**30),
    }
    return SimpleNamespace(**(functions | broken))


def test_gpu_sample_reads_every_field() -> None:
    assert _gpu_sample(_gpu(), 0, "h") == ev.GpuSample(0, "Test GPU", 40.0, 2048.0, 8192.0)


def test_an_unsupported_field_is_na_on_its_own() -> None:
    assert _gpu_sample(_gpu(nvmlDeviceGetUtilizationRates=_unsupported), 1, "h") == ev.GpuSample(
        1, "Test GPU", None, 2048.0, 8192.0
    )
    assert _gpu_sample(_gpu(nvmlDeviceGetMemoryInfo=_unsupported), 0, "h") == ev.GpuSample(
        0, "Test GPU", 40.0, None, None
    )
    assert _gpu_sample(_gpu(nvmlDeviceGetName=_lost), 0, "h") == ev.GpuSample(0, "N/A", 40.0, 2048.0, 8192.0)


def test_a_gpu_without_a_handle_is_all_na() -> None:
    assert _gpu_sample(_gpu(), 2, None) == ev.GpuSample(2, "N/A", None, None, None)


def test_a_bug_in_a_sample_is_not_hidden() -> None:
    with pytest.raises(AttributeError):
        _gpu_sample(_gpu(nvmlDeviceGetUtilizationRates=lambda _h: SimpleNamespace()), 0, "h")
