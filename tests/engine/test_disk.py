"""A disk that fills up: the run fails in one line, keeps what it recorded, leaves no stray folder.

The runs folder is a 2 MB tmpfs (mounting one needs root, as CI and this machine have;
elsewhere these tests are skipped).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from labs import events as ev
from labs.recording import RunRecord, list_runs
from tests.support import run_cli


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount / "runs"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_a_disk_that_fills_mid_run_fails_the_run_in_one_line(tiny: Path) -> None:
    args = ["--set", "grid=128", "--set", "steps=1000000", "--set", "frame_every=50"]
    done = run_cli("run", "pde", "--headless", "--device", "cpu", "--runs-dir", str(tiny), *args, timeout=300)
    assert done.returncode == 1
    assert done.stderr == ""  # no traceback, nor anything else
    assert "Traceback" not in done.stdout
    [info] = list_runs(tiny)
    record = RunRecord(info.path)
    summary = record.summary
    assert summary is not None and (summary["status"], summary["kind"]) == ("failed", "disk")
    assert summary["reason"].startswith("no space left on device: the run stopped at step ")
    assert f"status: failed after {summary['duration']:.1f}s — no space left on device" in done.stdout
    # Everything recorded before the fault is there, and the record ends in its verdict.
    lines = (info.path / "events.jsonl").read_text().splitlines()
    events = list(record.events())
    assert isinstance(events[0], ev.Started)
    assert sum(isinstance(e, ev.Metric) for e in events) >= 5
    assert isinstance(events[-1], ev.Failed) and json.loads(lines[-1])["kind"] == "disk"
    assert not (info.path / "reserve").exists()
    listing = run_cli("runs", "--runs-dir", str(tiny))
    assert listing.returncode == 0 and " failed " in listing.stdout


@pytest.mark.slow
def test_a_full_disk_at_start_is_refused_and_leaves_no_folder(tiny: Path) -> None:
    tiny.mkdir()
    with open(tiny / "filler", "wb") as f:
        try:
            while True:
                f.write(bytes(65536))
                f.flush()
        except OSError:
            pass
    done = run_cli("run", "pde", "--headless", "--device", "cpu", "--runs-dir", str(tiny))
    assert done.returncode == 2
    assert done.stderr == f"meetup-lab: error: cannot record the run in {tiny}: No space left on device\n"
    assert sorted(p.name for p in tiny.iterdir()) == ["filler"]
