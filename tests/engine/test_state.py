"""RunState, the one fold of a run's events, and EventTail, how every viewer reads them."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from labs import events as ev
from labs.state import RATE_WINDOW_S, RunState
from labs.tail import EventTail

STARTED = ev.Started(lab="glasses", run_id="r", params={}, device="cpu", seed=1, total_steps=100)


def test_metrics_merge_so_epoch_metrics_stay_between_epochs() -> None:
    state = RunState.of(
        [
            STARTED,
            ev.Metric(step=1, values={"loss": 2.0}),
            ev.Metric(step=10, values={"loss": 1.0, "val_accuracy": 0.6}),  # an epoch's end
            ev.Metric(step=11, values={"loss": 0.9}),  # a batch: no validation metric in it
        ]
    )
    assert state.metrics == {"loss": 0.9, "val_accuracy": 0.6}
    assert state.step == 11
    assert state.key_metric(("accuracy", "val_accuracy")) == ("val_accuracy", 0.6)
    assert state.key_metric("missing") is None


def test_status_follows_start_up_stages_pause_and_the_end() -> None:
    state = RunState()
    assert (state.status, state.stage) == ("starting", "starting the run's process")
    state.apply(ev.Started(lab="pde", run_id="r", params={}, device="cpu", seed=0, time=0.5))
    state.apply(ev.Stage("starting TensorFlow", time=0.6))
    state.apply(ev.DeviceSample(None, 700.0, None, None, time=3.7))
    assert (state.status, state.stage) == ("starting", "starting TensorFlow")
    assert state.stage_time == pytest.approx(3.1)
    state.apply(ev.Paused(held=True, time=3.8))
    assert state.status == "paused"
    state.apply(ev.Paused(held=False, time=3.9))
    assert state.status == "starting"  # still no result
    state.apply(ev.Frame("u", 0, np.zeros((2, 2), np.float32), time=4.0))
    assert (state.status, state.stage) == ("running", None)
    state.apply(ev.Paused(held=True, time=5.0))
    assert state.status == "paused" and state.eta is None
    state.apply(ev.Paused(held=False, time=6.0))
    assert state.status == "running"
    state.apply(ev.DeviceSample(None, 900.0, None, None, time=6.5))
    state.apply(ev.Cancelled(time=7.0))
    assert (state.status, state.ended, state.elapsed, state.peak_rss_mb) == ("cancelled", True, 7.0, 900.0)
    state.apply(ev.Paused(held=False, time=7.1))  # a late control changes nothing after the end
    assert state.status == "cancelled"


def test_eta_comes_from_the_recent_rate_not_the_start_up() -> None:
    state = RunState()
    state.apply(STARTED)
    state.apply(ev.Metric(step=10, values={}, time=20.0))  # 20 s of start-up for the first 10 steps
    assert state.eta is None  # one point is no rate
    state.apply(ev.Metric(step=20, values={}, time=21.0))
    # 10 steps a second since computing began: 80 steps left are 8 s (not 21 * 80 / 20 = 84 s).
    assert state.rate == pytest.approx(10.0)
    assert state.eta == pytest.approx(8.0)


def test_eta_forgets_a_slower_phase_outside_its_window() -> None:
    state = RunState.of([STARTED, ev.Metric(step=0, values={}, time=0.0)])
    t = 0.0
    for step in range(1, 11):  # one step a second ...
        t = float(step)
        state.apply(ev.Metric(step=step, values={}, time=t))
    for step in range(12, 80, 2):  # ... then two, for longer than the window
        t += 1.0
        state.apply(ev.Metric(step=step, values={}, time=t))
    assert t - 10 > RATE_WINDOW_S
    assert state.rate == pytest.approx(2.0)


def test_the_clock_stands_still_while_paused_and_the_pause_is_not_slow_progress() -> None:
    state = RunState.of(
        [STARTED, ev.Metric(step=0, values={}, time=1.0), ev.Metric(step=10, values={}, time=2.0)]
    )
    assert state.running_time == 2.0
    state.apply(ev.Paused(held=True, time=3.0))
    state.apply(ev.DeviceSample(None, 700.0, None, None, time=60.0))  # samples go on while held
    assert state.elapsed == 60.0 and state.running_time == 3.0
    state.apply(ev.Paused(held=False, time=63.0))
    state.apply(ev.Metric(step=20, values={}, time=64.0))
    state.apply(ev.Metric(step=30, values={}, time=65.0))
    assert state.running_time == 5.0
    # 10 steps a second since it resumed, not 20 steps over the minute with the pause in it.
    assert state.rate == pytest.approx(10.0) and state.eta == pytest.approx(7.0)


def test_the_latest_view_of_each_name_in_first_seen_order() -> None:
    a1 = ev.Frame("weights", 1, np.zeros((2, 2), np.float32))
    b = ev.Table("sizes", ("b",), ((1,),))
    a2 = ev.Frame("weights", 2, np.ones((2, 2), np.float32))
    state = RunState.of([STARTED, a1, b, a2])
    assert list(state.views) == ["parameters", "weights", "sizes"]
    assert state.views["weights"] is a2


def test_the_parameters_view_holds_those_that_matter_to_the_run() -> None:
    params = {"equation": "heat", "grid": 32, "dt": 0.1, "eps": 0.03, "scheme": "symplectic"}
    state = RunState.of([ev.Started(lab="pde", run_id="r", params=params, device="cpu", seed=3)])
    table = state.views["parameters"]
    assert isinstance(table, ev.Table) and table.columns == ("parameter", "value")
    # eps and scheme are the wave's: not this heat run's.
    assert table.rows == (("equation", "heat"), ("grid", 32), ("dt", 0.1), ("device", "cpu"), ("seed", 3))


def test_the_tail_holds_back_a_line_being_written_and_skips_damaged_ones(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    tail = EventTail(path)
    assert tail.read() == []  # no file yet
    one, two = ev.Metric(step=1, values={"a": 1.0}), ev.Metric(step=2, values={"a": 2.0})
    line = ev.to_json(two).encode()
    with open(path, "wb") as f:
        f.write(ev.to_json(one).encode() + b"\n" + b'{"type":"metr\xff\xfe}\n' + line[:10])
    assert tail.read() == [one]  # the damaged line is skipped, the torn last one held back
    with open(path, "ab") as f:
        f.write(line[10:] + b"\n")
    assert tail.read() == [two]
    assert tail.read() == []


def test_the_tail_reads_a_replaced_or_shortened_file_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    events = [ev.Metric(step=i, values={}) for i in range(3)]
    path.write_text("".join(ev.to_json(e) + "\n" for e in events))
    tail = EventTail(path)
    assert tail.read() == events
    new = tmp_path / "new.jsonl"
    new.write_text(ev.to_json(events[0]) + "\n")
    os.replace(new, path)  # another inode
    assert tail.read() == events[:1]
    path.write_text("")  # cut short in place
    assert tail.read() == []
    path.write_text(ev.to_json(events[2]) + "\n")
    assert tail.read() == events[2:]


def test_the_tail_can_pass_over_frames_undecoded(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    frame = ev.Frame("u", 1, np.zeros((4, 4), np.float32))
    metric = ev.Metric(step=1, values={"a": 1.0})
    path.write_text(ev.to_json(frame) + "\n" + ev.to_json(metric) + "\n")
    assert EventTail(path, skip='"type":"frame"').read() == [metric]
