"""Runs wait their turn for their device: a queue kept in the runs folder, with no daemon.

Each run's supervisor is its own agent. The queue is a folder of entries, one per
waiting run (``.queue/ORDER-RUN_ID``), and a device's room is a set of slot files
(``.queue/slots/cpu-0``), each held by a run for its life with ``flock``. A waiting
supervisor takes its slots when no live run of the same device is ahead of it in
line; a run that dies, however it dies, frees its slots with its process, and an
entry whose supervisor is gone is swept by the next one to look.

A run on a GPU holds that GPU's one slot (``gpu`` and ``auto`` use every GPU, so
they hold them all); CPU runs share ``cpu_runs()`` slots.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

QUEUE = ".queue"
POLL_S = 0.2
# The setting: how many runs share the CPU. By default one on a machine of four
# cores or fewer, where two runs would each take twice as long.
CPU_RUNS_ENV = "MEETUP_LAB_CPU_RUNS"


def cpu_runs() -> int:
    given = os.environ.get(CPU_RUNS_ENV, "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return max(1, (os.cpu_count() or 1) // 4)


def slot_kinds(device: str) -> list[str]:
    """The devices a run on ``device`` occupies: ``cpu``, or its GPUs (``gpu0``...)."""
    if device.startswith("gpu:"):
        return [f"gpu{device[4:]}"]
    if device == "cpu":
        return ["cpu"]
    from labs.devices import gpu_names  # NVML, not TensorFlow

    gpus = len(gpu_names())
    return [f"gpu{n}" for n in range(gpus)] if gpus else ["cpu"]


def _room(kind: str) -> int:
    """Runs a device takes at once: one a GPU, ``cpu_runs()`` the CPU."""
    return cpu_runs() if kind == "cpu" else 1


class Queue:
    def __init__(self, runs_dir: Path) -> None:
        self.path = runs_dir / QUEUE

    def join(self, run_id: str, device: str) -> None:
        """Put a new run at the back of the line (its supervisor takes it from there)."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / f"{time.time_ns():020d}-{run_id}").write_text(" ".join(slot_kinds(device)))

    def entry(self, run_id: str) -> Path | None:
        return next(iter(sorted(self.path.glob(f"*-{run_id}"))), None) if self.path.is_dir() else None

    def waiting(self, live: Callable[[str], bool]) -> list[tuple[str, list[str]]]:
        """(run id, slot kinds) of every waiting run, first in line first; entries of runs
        nobody supervises any more are swept."""
        found = []
        for entry in sorted(self.path.glob("*-*")) if self.path.is_dir() else []:
            run_id = entry.name.partition("-")[2]
            if not live(run_id):
                with contextlib.suppress(OSError):
                    entry.unlink()
                continue
            with contextlib.suppress(OSError):
                found.append((run_id, entry.read_text().split()))
        return found

    def position(self, run_id: str, live: Callable[[str], bool]) -> int | None:
        """1 for the next run to start on its devices; None for a run that is not waiting."""
        waiting = self.waiting(live)
        mine = next((kinds for rid, kinds in waiting if rid == run_id), None)
        if mine is None:
            return None
        ahead = [rid for rid, kinds in waiting if set(kinds) & set(mine)]
        return ahead.index(run_id) + 1

    def front(self, run_id: str) -> bool:
        """Move a waiting run to the front of the line; False if it is not waiting."""
        entry = self.entry(run_id)
        if entry is None:
            return False
        first = min((int(e.name.partition("-")[0]) for e in self.path.glob("*-*")), default=0)
        with contextlib.suppress(OSError):
            entry.rename(self.path / f"{first - 1:020d}-{run_id}")
            return True
        return False

    def admit(
        self,
        run_id: str,
        live: Callable[[str], bool],
        stop: Callable[[], bool],
        waiting: Callable[[str, int], None],
    ) -> list[int] | None:
        """Wait for the run's turn and its slots: the slot fds, held until they are closed, or
        None once ``stop()`` (the run cancelled while it waits). ``waiting(devices, ahead)``
        hears of each wait. A run with no entry is let in at once (it was not queued)."""
        while not stop():
            entry = self.entry(run_id)
            if entry is None:
                return []
            try:
                kinds = entry.read_text().split()
            except OSError:
                continue  # moved to the front just now
            ahead = [rid for rid, theirs in self.waiting(live) if set(theirs) & set(kinds)]
            # As many of the first in line try for a slot as the devices have room for.
            room = min(_room(kind) for kind in kinds)
            if run_id in ahead[:room]:
                fds = self._take(kinds)
                if fds is not None:
                    with contextlib.suppress(OSError):
                        entry.unlink()
                    return fds
            waiting(" ".join(kinds), ahead.index(run_id) if run_id in ahead else 0)
            time.sleep(POLL_S)
        self.leave(run_id)
        return None

    def leave(self, run_id: str) -> None:
        entry = self.entry(run_id)
        if entry is not None:
            with contextlib.suppress(OSError):
                entry.unlink()

    def _take(self, kinds: list[str]) -> list[int] | None:
        """A slot of each kind, or None (and none held) if one of them is full."""
        slots = self.path / "slots"
        slots.mkdir(exist_ok=True)
        held: list[int] = []
        for kind in kinds:
            fd = self._slot(slots, kind, _room(kind))
            if fd is None:
                for taken in held:
                    os.close(taken)
                return None
            held.append(fd)
        return held

    @staticmethod
    def _slot(slots: Path, kind: str, count: int) -> int | None:
        for n in range(count):
            fd = os.open(slots / f"{kind}-{n}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError:
                os.close(fd)
        return None
