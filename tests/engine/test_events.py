"""Events survive their one-line JSON form (what runs record and --json prints)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from labs import events as ev
from labs.context import Diverged, check_metric
from labs.recording import RunRecord

SIMPLE_EVENTS = [
    ev.Started(
        lab="pde", run_id="r1", params={"grid": 32, "dt": 0.2, "boundary": "fixed"}, device="cpu", seed=3
    ),
    ev.Started(lab="ok", run_id="r2", params={}, device="gpu:0", seed=0, total_steps=200, time=0.5),
    ev.Metric(step=7, values={"loss": 0.125, "acc": 1.0}, time=1.25),
    ev.Metric(step=0, values={}),
    ev.Chart(
        name="loss vs time",
        x_label="s",
        y_label="loss",
        series={"b=1": ((0.0, 2.3), (1.5, 0.4)), "b=full": ((0.0, 2.3),)},
        time=2.0,
    ),
    ev.Table(name="sweep", columns=("batch", "ex/s", "note"), rows=((1, 950.5, None), ("full", 1e6, "ok"))),
    ev.Log(message="héllo — wörld\nsecond line"),
    ev.Log(message="careful", level="warning", time=2.0),
    ev.Artifact(path="artifacts/u.npy", description="final field u", time=3.0),
    ev.DeviceSample(
        process_cpu_pct=150.5,
        process_rss_mb=512.0,
        machine_cpu_pct=12.5,
        machine_ram_pct=40.0,
        gpus=(
            ev.GpuSample(index=0, name="H100", util_pct=99.0, mem_used_mb=1024.0, mem_total_mb=81559.0),
            ev.GpuSample(index=1, name="N/A", util_pct=None, mem_used_mb=None, mem_total_mb=None),
        ),
        time=0.75,
    ),
    ev.DeviceSample(process_cpu_pct=None, process_rss_mb=None, machine_cpu_pct=None, machine_ram_pct=None),
    ev.Finished(summary={"mass": 16.8, "steps": 200, "nested": {"a": [1, 2]}, "none": None}, time=4.5),
    ev.Failed(kind="exception", reason="ValueError: boom", log_tail=("Traceback", "ValueError: boom")),
    ev.Failed(kind="start", reason="no such lab"),
    ev.Cancelled(),
    ev.Cancelled(reason="cancelled by the user (stopped by force)", time=9.0),
    ev.Interrupted(reason="killed", log_tail=("last line",), time=1.0),
    ev.Interrupted(reason="killed"),
    ev.Stage(name="starting TensorFlow", time=0.1),
    ev.Queued(devices="cpu", ahead=2, time=0.0),
    ev.Paused(held=True, time=4.0),
    ev.Paused(held=False),
]


@pytest.mark.parametrize("event", SIMPLE_EVENTS, ids=lambda e: type(e).__name__)
def test_round_trip(event: ev.Event) -> None:
    line = ev.to_json(event)
    assert "\n" not in line  # one event, one line
    back = ev.from_json(line)
    assert type(back) is type(event)
    assert back == event


def test_every_event_type_is_covered() -> None:
    covered = {type(e) for e in SIMPLE_EVENTS} | {ev.Frame}
    assert covered == set(ev.Event.__args__)


@pytest.mark.parametrize(
    ("event", "name"),
    [
        (SIMPLE_EVENTS[0], "started"),
        (SIMPLE_EVENTS[2], "metric"),
        (SIMPLE_EVENTS[4], "chart"),
        (SIMPLE_EVENTS[5], "table"),
        (SIMPLE_EVENTS[6], "log"),
        (SIMPLE_EVENTS[8], "artifact"),
        (SIMPLE_EVENTS[9], "device"),
        (SIMPLE_EVENTS[11], "finished"),
        (SIMPLE_EVENTS[12], "failed"),
        (SIMPLE_EVENTS[14], "cancelled"),
        (SIMPLE_EVENTS[16], "interrupted"),
    ],
)
def test_type_names(event: ev.Event, name: str) -> None:
    obj = json.loads(ev.to_json(event))
    assert obj["type"] == name
    assert obj["time"] == event.time


def test_device_sample_gpus_come_back_as_gpu_samples() -> None:
    back = ev.from_json(ev.to_json(SIMPLE_EVENTS[9]))
    assert isinstance(back, ev.DeviceSample)
    assert all(isinstance(g, ev.GpuSample) for g in back.gpus)
    assert back.gpus[1].util_pct is None
    assert json.loads(ev.to_json(SIMPLE_EVENTS[10]))["process_cpu_pct"] is None


def test_log_tail_comes_back_as_a_tuple() -> None:
    back = ev.from_json(ev.to_json(SIMPLE_EVENTS[12]))
    assert back.log_tail == ("Traceback", "ValueError: boom")
    assert isinstance(back.log_tail, tuple)


def _refuse(constant: str) -> None:
    raise ValueError(f"not standard JSON: {constant}")


def test_non_finite_values_are_written_as_null_in_strict_json(tmp_path: Path) -> None:
    event = ev.Metric(step=3, values={"nan": float("nan"), "inf": float("inf"), "ninf": -math.inf, "x": 1.5})
    line = ev.to_json(event)
    obj = json.loads(line, parse_constant=_refuse)  # what jq and JavaScript accept
    assert obj["values"] == {"nan": None, "inf": None, "ninf": None, "x": 1.5}
    finished = ev.Finished(summary={"checks": {"forward": float("nan")}, "errors": [math.inf, 2.0]})
    assert json.loads(ev.to_json(finished), parse_constant=_refuse)["summary"] == {
        "checks": {"forward": None},
        "errors": [None, 2.0],
    }
    record = RunRecord.create(tmp_path, "x", "x", {"lr": math.nan}, "cpu", 0)
    assert record.lock_fd is not None
    os.close(record.lock_fd)
    record.write_summary(finished, {"loss": math.nan}, {"forward": math.nan})
    for name in ("params.json", "summary.json"):
        json.loads((record.path / name).read_text(), parse_constant=_refuse)


def test_frame_small_values_travel_as_float16() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(0, 100, (12, 20)).astype(np.float32)
    frame = ev.Frame(name="u", step=50, data=data, signed=True, time=1.5)
    obj = json.loads(ev.to_json(frame))
    assert obj["type"] == "frame"
    assert obj["dtype"] == "float16"
    assert obj["shape"] == [12, 20]
    back = ev.from_dict(obj)
    assert isinstance(back, ev.Frame)
    assert (back.name, back.step, back.signed, back.time) == ("u", 50, True, 1.5)
    assert back.data.dtype == np.float32
    assert back.data.shape == (12, 20)
    # Half precision keeps ~3 significant digits: relative error <= 2**-11.
    np.testing.assert_allclose(back.data, data, rtol=2**-11, atol=0)
    assert not np.array_equal(back.data, data)  # it really was rounded to half precision


def test_frame_large_values_keep_float32() -> None:
    data = np.array([[1e5, -3.5e7], [0.1, 123456.789]], dtype=np.float32)
    obj = json.loads(ev.to_json(ev.Frame(name="big", step=1, data=data)))
    assert obj["dtype"] == "float32"
    back = ev.from_dict(obj)
    np.testing.assert_array_equal(back.data, data)  # exact: no precision lost
    assert back.signed is False


def test_frame_just_below_the_float16_limit() -> None:
    data = np.array([[59999.0, -59999.0]], dtype=np.float32)
    obj = json.loads(ev.to_json(ev.Frame(name="u", step=0, data=data)))
    assert obj["dtype"] == "float16"
    back = ev.from_dict(obj)
    assert np.all(np.isfinite(back.data))  # float16's max is 65504: no overflow to inf
    np.testing.assert_allclose(back.data, data, rtol=2**-11)


def test_frame_non_finite_values_survive() -> None:
    data = np.array([[np.nan, np.inf], [-np.inf, 0.5]], dtype=np.float32)
    back = ev.from_json(ev.to_json(ev.Frame(name="u", step=0, data=data)))
    assert np.isnan(back.data[0, 0])
    assert back.data[0, 1] == np.inf and back.data[1, 0] == -np.inf
    assert back.data[1, 1] == 0.5


def test_frame_all_nan() -> None:
    data = np.full((2, 3), np.nan, dtype=np.float32)
    back = ev.from_json(ev.to_json(ev.Frame(name="u", step=0, data=data)))
    assert back.data.shape == (2, 3) and np.isnan(back.data).all()


def test_frame_from_float64_and_read_only_result_is_writable() -> None:
    data = np.linspace(0, 1, 6, dtype=np.float64).reshape(2, 3)
    back = ev.from_json(ev.to_json(ev.Frame(name="u", step=0, data=data)))
    np.testing.assert_allclose(back.data, data, rtol=2**-11)
    back.data[0, 0] = 5.0  # a consumer may normalise in place


def test_frame_without_dtype_reads_as_float32() -> None:
    """Records written before the float16 encoding carry no dtype field."""
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    obj = json.loads(ev.to_json(ev.Frame(name="u", step=0, data=data * 1e5)))
    del obj["dtype"]
    np.testing.assert_array_equal(ev.from_dict(obj).data, data * 1e5)


def test_frame_points_and_contour_round_trip() -> None:
    points = np.array([[0.0, 1.0, 1], [0.5, 0.25, 0], [1.0, 0.0, 1]], np.float32)
    frame = ev.Frame(name="p", step=3, data=np.zeros((4, 4)), points=points, contour=0.5)
    back = ev.from_json(ev.to_json(frame))
    assert isinstance(back, ev.Frame) and back.contour == 0.5
    assert back.points is not None and back.points.shape == (3, 3)
    # A byte a coordinate: within half of 1/255 of where they were.
    np.testing.assert_allclose(back.points[:, :2], points[:, :2], atol=0.5 / 255)
    np.testing.assert_array_equal(back.points[:, 2], [1, 0, 1])
    plain = ev.from_json(ev.to_json(ev.Frame(name="u", step=0, data=np.zeros((2, 2)))))
    assert plain.points is None and plain.contour is None  # type: ignore[union-attr]


def test_frame_caption_and_labels_round_trip_and_old_records_read_without_them() -> None:
    labels = ((0.05, 0.05, "0"), (0.95, 0.95, "9"))
    frame = ev.Frame(name="confusion", step=2, data=np.eye(2), caption="rows: true", labels=labels)
    obj = json.loads(ev.to_json(frame))
    assert obj["caption"] == "rows: true" and obj["labels"] == [[0.05, 0.05, "0"], [0.95, 0.95, "9"]]
    back = ev.from_dict(obj)
    assert isinstance(back, ev.Frame) and back.caption == "rows: true" and back.labels == labels
    # A frame without them writes neither key, as records made before they existed hold none.
    old = json.loads(ev.to_json(ev.Frame(name="u", step=0, data=np.zeros((2, 2)))))
    assert "caption" not in old and "labels" not in old
    plain = ev.from_dict(old)
    assert isinstance(plain, ev.Frame) and plain.caption == "" and plain.labels == ()


@pytest.mark.parametrize("labels", [[[0.5, 0.5]], [[0.5, "top", "0"]], [[0.5, 0.5, 7]], "0"])
def test_frame_labels_of_the_wrong_form_are_refused(labels: object) -> None:
    obj = {**json.loads(ev.to_json(ev.Frame(name="u", step=0, data=np.zeros((2, 2))))), "labels": labels}
    with pytest.raises(ValueError, match="labels"):
        ev.from_dict(obj)


def test_with_time_stamps_a_copy() -> None:
    metric = ev.Metric(step=1, values={"a": 1.0})
    stamped = ev.with_time(metric, 2.5)
    assert stamped == ev.Metric(step=1, values={"a": 1.0}, time=2.5)
    assert metric.time == 0.0
    frame = ev.with_time(ev.Frame(name="u", step=4, data=np.ones((2, 2)), signed=True), 1.0)
    assert isinstance(frame, ev.Frame) and frame.time == 1.0 and frame.signed and frame.step == 4


def test_status_of_terminal_events() -> None:
    assert ev.STATUS == {
        ev.Finished: "finished",
        ev.Failed: "failed",
        ev.Cancelled: "cancelled",
        ev.Interrupted: "interrupted",
    }
    assert set(ev.TERMINAL) == set(ev.STATUS)


@pytest.mark.parametrize("line", ["", "{", '{"type": "nope"}', '{"type": "metric"}', "[1]"])
def test_malformed_lines_raise_the_errors_readers_skip(line: str) -> None:
    # RunRecord.events() and Run.events() skip torn lines by catching exactly these.
    with pytest.raises((ValueError, KeyError, TypeError)):
        ev.from_json(line)


def test_a_finite_metric_past_float32_is_divergence_and_nan_is_the_labs_own_word() -> None:
    check_metric(ev.Metric(step=1, values={"skipped": math.nan, "loss": 0.5, "big": 3e38}))
    check_metric(ev.Metric(step=1, values={"inf": math.inf}))  # a lab's own NaN/inf check says more
    with pytest.raises(Diverged, match=r"diverged at step 7: energy 3.33e\+42 is beyond what float32 holds"):
        check_metric(ev.Metric(step=7, values={"loss": 1.0, "energy": 3.33e42}))
