"""The device queue with real supervisors: runs on a one-slot CPU wait their turn in
order, can be moved to the front or cancelled while they wait, and a run killed
outright frees its device for the next."""

from __future__ import annotations

from pathlib import Path

import pytest

from labs import events as ev
from labs.board import Board
from labs.queue import Queue, slot_kinds
from labs.registry import get_lab
from labs.runner import Run, RunRequest
from tests.support import EventPump, kill_run, wait_until


def slow(runs_dir: Path) -> Run:
    lab = get_lab("tests.fixture_labs:SLOW")
    return RunRequest(lab, lab.build_params({}), "cpu", 0, "tests.fixture_labs:SLOW").start(runs_dir)


def queued(run: Run) -> list[ev.Queued]:
    return [e for e in run.record.events() if isinstance(e, ev.Queued)]


@pytest.mark.slow
def test_runs_on_a_one_slot_cpu_start_one_at_a_time_in_line(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEETUP_LAB_CPU_RUNS", "1")
    first = slow(runs_dir)
    EventPump(first).wait_for_metrics(1)
    second, third = slow(runs_dir), slow(runs_dir)
    try:
        wait_until(lambda: queued(second) and queued(third), "both runs to say they are queued")
        assert [e.ahead for e in queued(second)] == [0]  # next, the CPU busy with the first
        assert [e.ahead for e in queued(third)] == [1]
        assert second.record.status() == third.record.status() == "queued"
        assert [info.status for info in map(lambda r: r.record.info(), (second, third))] == ["queued"] * 2
        rows = {row.run_id: row for row in Board(runs_dir).rows()}
        assert rows[third.run_id].status == "queued" and rows[third.run_id].live
        assert rows[third.run_id].key_metric == "-"

        assert third.front()  # the third goes first: each hears of its new place
        wait_until(lambda: [e.ahead for e in queued(second)] == [0, 1], "the second to move back")
        wait_until(lambda: [e.ahead for e in queued(third)] == [1, 0], "the third to move up")

        kill_run(first)  # SIGKILL, supervisor and all: its slot is freed with its process
        EventPump(third).wait_for_metrics(1)
        assert second.record.status() == "queued"  # one run at a time on this CPU

        second.cancel()  # cancelled while it waits: no lab process was ever started
        assert second.wait(30)
        events = list(second.record.events())
        assert not any(isinstance(e, ev.Started) for e in events)
        assert events[-1] == ev.Cancelled("cancelled while queued", events[-1].time)
        assert second.record.status() == "cancelled" and second.pid is None
        assert Queue(runs_dir).entry(second.run_id) is None
    finally:
        for run in (first, second, third):
            kill_run(run)


@pytest.mark.slow
def test_a_run_with_room_on_its_device_never_queues(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEETUP_LAB_CPU_RUNS", "2")
    runs = [slow(runs_dir), slow(runs_dir)]
    try:
        for run in runs:
            EventPump(run).wait_for_metrics(1)
            assert queued(run) == []
    finally:
        for run in runs:
            kill_run(run)


def test_a_run_occupies_the_devices_it_names() -> None:
    assert slot_kinds("cpu") == ["cpu"]
    assert slot_kinds("gpu:1") == ["gpu1"]
