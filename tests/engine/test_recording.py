"""Run folders on disk, without running anything (the real RunRecord on tmp folders)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labs import events as ev
from labs.recording import RunRecord, find_run, list_runs


def make(runs_dir: Path, lab: str = "pde") -> RunRecord:
    """A run folder as its starter leaves it, the liveness lock let go (as by a dead starter)."""
    record = RunRecord.create(runs_dir, lab, lab, {"grid": 32}, "cpu", 0, "mass")
    assert record.lock_fd is not None
    os.close(record.lock_fd)
    return record


def test_create_writes_params_and_the_lock_in_a_private_folder(runs_dir: Path) -> None:
    record = make(runs_dir)
    assert record.path.parent == runs_dir
    assert sorted(p.name for p in record.path.iterdir()) == ["params.json", "reserve", "supervisor.lock"]
    assert (record.path / "reserve").stat().st_size == 256 * 1024  # room kept for the verdict
    assert record.path.stat().st_mode & 0o777 == 0o700  # parameters and results: the owner's only
    meta = record.meta
    assert meta["run_id"] == record.run_id
    assert (meta["lab"], meta["params"], meta["device"], meta["seed"]) == ("pde", {"grid": 32}, "cpu", 0)
    assert record.summary is None
    assert list(record.events()) == []
    assert record.log_tail() == ()


def test_a_torn_last_line_is_ended_and_skipped(runs_dir: Path) -> None:
    record = make(runs_dir)
    record.append(ev.Metric(step=1, values={"mass": 1.0}))
    with open(record.path / "events.jsonl", "a") as f:
        f.write('{"type":"metric","step":2,"val')  # a writer killed mid-line
    record.append(ev.Interrupted(reason="killed"))
    got = list(record.events())
    assert got == [ev.Metric(step=1, values={"mass": 1.0}), ev.Interrupted(reason="killed")]


def test_status_without_a_summary_follows_the_locks(runs_dir: Path) -> None:
    record = make(runs_dir)
    lab_lock = record.hold_lab_lock()  # as the lab's process holds it
    assert record.status() == "running"
    # Held by another process (a supervisor), the other lock keeps the run live too.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX);"
            " print('held', flush=True); sys.stdin.read()",
            str(record.path / "supervisor.lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    os.close(lab_lock)
    assert record.status() == "running" and record.summary is None
    holder.kill()  # however the holder dies, the kernel lets the lock go
    holder.wait()
    holder.stdout.close()
    assert record.status() == "interrupted"
    summary = record.summary
    assert summary is not None and summary["status"] == "interrupted"  # recorded by this reader
    record.write_summary(ev.Failed(kind="oom", reason="MemoryError: x", time=2.0), {"mass": 3.0}, {})
    assert record.status() == "failed"
    summary = record.summary
    assert (summary["kind"], summary["reason"], summary["duration"]) == ("oom", "MemoryError: x", 2.0)
    assert summary["key_metric"] == {"mass": 3.0}


def test_list_runs_skips_folders_that_are_not_runs_and_names_damaged_ones(runs_dir: Path) -> None:
    assert list_runs(runs_dir) == []  # not even created yet
    record = make(runs_dir)
    (runs_dir / "stray").mkdir()
    (runs_dir / "notes.txt").write_text("hi")
    broken = runs_dir / "broken"
    broken.mkdir()
    (broken / "params.json").write_text("{not json")
    infos = {info.run_id: info for info in list_runs(runs_dir)}
    assert set(infos) == {record.run_id, "broken"}
    assert infos[record.run_id].status == "interrupted"
    assert (infos["broken"].status, infos["broken"].reason) == (
        "damaged",
        "params.json is missing or is not a JSON object",
    )


def ended(runs_dir: Path, mass: float, lab: str = "pde") -> RunRecord:
    record = make(runs_dir, lab)
    finished = ev.Finished({"mass": mass}, time=1.0)
    record.append(finished)
    record.write_summary(finished, {"mass": mass}, {})
    return record


def listed(
    runs_dir: Path, limit: int | None = None, lab: str | None = None
) -> list[tuple[str, str, str, str]]:
    return [(i.run_id, i.status, i.key_metric, i.label) for i in list_runs(runs_dir, limit, lab)]


def test_the_index_serves_listings_and_the_folders_always_win(runs_dir: Path) -> None:
    runs = [ended(runs_dir, float(n), "pde" if n % 2 else "logreg") for n in range(6)]
    truth = listed(runs_dir)
    index = runs_dir / ".index.json"
    assert index.is_file() and len(truth) == 6
    assert listed(runs_dir) == truth  # from the index now
    assert [r for r, *_ in listed(runs_dir, limit=2)] == [r for r, *_ in truth[:2]]
    assert {r for r, *_ in listed(runs_dir, lab="logreg")} == {r.run_id for r in runs[::2]}

    index.unlink()  # missing: rebuilt
    assert listed(runs_dir) == truth and index.is_file()
    index.write_text('{"version": 3, "runs": [1, 2]')  # damaged: rebuilt
    assert listed(runs_dir) == truth
    assert index.read_text().startswith('{"version":3,"runs":{')

    # Stale: a summary rewritten by its writer, one edited in place by hand, a label, a
    # deleted run and a new one. Each listing says what the folders say.
    finished = ev.Finished({"mass": 42.0}, time=1.0)
    runs[5].write_summary(finished, {"mass": 42.0}, {})
    by_hand = runs[4].path / "summary.json"
    by_hand.write_text(by_hand.read_text().replace('"finished"', '"cancelled"', 1))
    runs[3].set_label("the good one")
    shutil.rmtree(runs[2].path)
    newest = ended(runs_dir, 7.0)
    rows = {run_id: rest for run_id, *rest in listed(runs_dir)}
    assert rows[runs[5].run_id] == ["finished", "mass=42", ""]
    assert rows[runs[4].run_id][0] == "cancelled"
    assert rows[runs[3].run_id][2] == "the good one"
    assert runs[2].run_id not in rows and rows[newest.run_id] == ["finished", "mass=7", ""]
    assert runs[2].run_id not in index.read_text()
    # A live run is read from its folder each time, never from the index.
    live = RunRecord.create(runs_dir, "pde", "pde", {"grid": 32}, "cpu", 0, "mass")
    try:
        assert dict((r, s) for r, s, *_ in listed(runs_dir))[live.run_id] == "running"
        assert live.run_id not in index.read_text()
    finally:
        assert live.lock_fd is not None
        os.close(live.lock_fd)


def test_find_run_by_id_prefix_path_and_last(runs_dir: Path) -> None:
    first = make(runs_dir, "aaa")
    second = make(runs_dir, "bbb")
    assert find_run(runs_dir, first.run_id).path == first.path
    assert find_run(runs_dir, str(second.path)).path == second.path
    assert find_run(runs_dir, second.run_id[:-3]).path == second.path  # "...-bbb-x": unique
    with pytest.raises(LookupError, match="matches 2 runs"):
        find_run(runs_dir, "2")
    with pytest.raises(LookupError, match="no run 'zzz'"):
        find_run(runs_dir, "zzz")


def test_last_is_the_most_recently_started_run(runs_dir: Path) -> None:
    """``last`` must be the newest run even when two start within the same second.

    Run ids carry the start time to the second, then the lab's name: the lab
    created second here sorts first by name ("alpha" < "zulu").
    """
    for _ in range(20):
        older = make(runs_dir, "zulu")
        newer = make(runs_dir, "alpha")
        if older.run_id[:15] == newer.run_id[:15]:  # the same YYYYmmdd-HHMMSS
            break
    else:
        pytest.fail("could not create two runs within the same second")
    assert older.meta["started_unix"] <= newer.meta["started_unix"]
    assert find_run(runs_dir, "last").path == newer.path


def test_settling_a_run_whose_lab_finished_keeps_its_result(runs_dir: Path) -> None:
    """Killed between its last event and its summary: the summary is rebuilt from the events."""
    record = make(runs_dir)
    record.append(ev.Metric(step=1, values={"mass": 2.0}))
    record.append(ev.Finished(summary={"answer": 42}, time=3.0))
    assert record.status() == "finished"
    summary = record.summary
    assert summary is not None
    assert (summary["result"], summary["metrics"], summary["duration"]) == (
        {"answer": 42},
        {"mass": 2.0},
        3.0,
    )
