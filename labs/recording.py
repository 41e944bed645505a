"""Run folders on disk: everything a run logged survives the run's death.

A run folder (mode 0700: it holds parameters and results) holds
``params.json`` (written before the run starts), ``events.jsonl`` (one event
per line, flushed as it goes), ``output.log`` (everything the run's processes
printed, TensorFlow's own lines included), ``artifacts/``, ``tensorboard/``,
``process.json`` (the pids), the ``control`` FIFO (:mod:`labs.control`;
removed when the run ends, unless its supervisor was killed), two lock files
and, once the run has ended, ``summary.json``.

Liveness is the locks: the run's supervisor holds an exclusive ``flock`` on
``supervisor.lock`` for its whole life, taken before ``params.json`` exists,
and the lab's process one on ``lab.lock`` for its own; the kernel drops each
however its holder dies. A run is live while either is held (the lab's
process may write its last events just after its supervisor died). A folder
without a summary whose locks are both free was interrupted, and the first
reader to see it records so (:meth:`RunRecord.settle`): no listing ever says
``running`` for a run that nobody supervises.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from labs import events as ev
from labs.damage import meta_problem, summary_problem
from labs.index import INDEX, RunIndex, stamp
from labs.jsonfile import read_object, write_atomic
from labs.numbers import fmt
from labs.queue import Queue

PARAMS = "params.json"
EVENTS = "events.jsonl"
SUMMARY = "summary.json"
STAMPED = (PARAMS, SUMMARY)  # the files an index entry is checked against, beside the folder
OUTPUT = "output.log"
PROCESS = "process.json"
# The statuses of a run some process still holds: never indexed, always read from its folder.
LIVE = ("queued", "running")
LABEL = "label.json"
RESERVE = "reserve"  # room kept on the disk for the run's last words (see RunRecord.create)
RESERVE_BYTES = 256 * 1024
LOCK = "supervisor.lock"  # held by the supervisor (taken by the starter, handed on)
LAB_LOCK = "lab.lock"  # held by the lab's process, which may outlive its supervisor by a moment


def _read_tail(path: Path, nbytes: int) -> str | None:
    """The last ``nbytes`` of a file as text (a torn first line is the caller's to skip)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - nbytes))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


@dataclass(frozen=True)
class RunInfo:
    """One line of ``meetup-lab runs``."""

    run_id: str
    lab: str
    status: str
    started: str
    started_unix: float
    duration: float | None
    key_metric: str
    path: Path
    device: str = ""
    reason: str = ""  # why the run ended as it did, or what is damaged in its folder
    label: str = ""  # the user's words for it (``meetup-lab label``)
    changed: str = ""  # its parameters that differ from the lab's defaults, as name=value
    sweep: str = ""  # the id of the sweep it is one run of


class RunRecord:
    def __init__(self, path: Path, lock_fd: int | None = None):
        self.path = Path(path)
        # Set by create(): the liveness lock, held until it is handed to the supervisor.
        self.lock_fd = lock_fd

    @classmethod
    def create(
        cls,
        runs_dir: Path,
        lab_ref: str,
        lab: str,
        params: dict[str, Any],
        device: str,
        seed: int,
        key_metric: str | tuple[str, ...] | None = None,
        sweep: str | None = None,
        changed: list[str] | None = None,
    ) -> RunRecord:
        now = datetime.now()
        run_id = f"{now:%Y%m%d-%H%M%S}-{lab}-{secrets.token_hex(2)}"
        path = Path(runs_dir) / run_id
        Path(runs_dir).mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700)
        try:
            # Locked before params.json makes it a run folder: no reader ever sees it unsupervised.
            lock_fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            shutil.rmtree(path, ignore_errors=True)
            raise
        meta = {
            "run_id": run_id,
            "lab": lab,
            "lab_ref": lab_ref,
            "params": params,
            "device": device,
            "seed": seed,
            "key_metric": key_metric,
            "sweep": sweep,  # the id of the sweep the run is one of, or None
            "changed": changed or [],  # the parameters given other values than the lab's defaults
            "started_at": now.isoformat(timespec="seconds"),
            "started_unix": time.time(),
        }
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            # Room for the verdict and summary, given back when the disk fills: a run that
            # fills it still ends in one clear line. A disk too full for it refuses the run.
            with open(path / RESERVE, "wb") as reserve:
                try:
                    os.posix_fallocate(reserve.fileno(), 0, RESERVE_BYTES)
                except OSError as exc:
                    if exc.errno == errno.ENOSPC:
                        raise
                    reserve.write(bytes(RESERVE_BYTES))  # a filesystem without fallocate
            write_atomic(path / PARAMS, meta)
        except BaseException:
            os.close(lock_fd)
            shutil.rmtree(path, ignore_errors=True)  # no stray folder holding half a start
            raise
        return cls(path, lock_fd)

    def release_reserve(self) -> None:
        """Give back the room kept for the run's end (done by whoever records the end)."""
        try:
            (self.path / RESERVE).unlink()
        except OSError:
            pass

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def meta(self) -> dict[str, Any]:
        """The run's parameters file, whole; LookupError says what is damaged."""
        meta = read_object(self.path / PARAMS)
        problem = meta_problem(meta)
        if problem is not None or meta is None:
            raise LookupError(f"run {self.run_id} is damaged: {problem} (in {self.path})")
        return meta

    def damage(self) -> str | None:
        """What is wrong with this run folder's parameters or summary, if anything."""
        problem = meta_problem(read_object(self.path / PARAMS))
        summary = self.summary
        if problem is None and summary is not None:
            problem = summary_problem(summary)
        return problem

    def set_process(self, pid: int | None, supervisor: int) -> None:
        """Record the pids of the lab's process and of its supervisor (for people and tests:
        liveness is the lock, since pids are reused)."""
        write_atomic(self.path / PROCESS, {"pid": pid, "supervisor": supervisor})

    @property
    def process(self) -> dict[str, Any]:
        return read_object(self.path / PROCESS) or {}

    def live(self) -> bool:
        """Whether the run's supervisor or its lab process is alive (holds its lock)."""
        return any(_held(self.path / name) for name in (LOCK, LAB_LOCK))

    def supervisor_alive(self) -> bool:
        return _held(self.path / LOCK)

    def hold_lab_lock(self) -> int:
        """For the lab's process: take its lock for life (returns the fd to keep open).

        Blocks while a reader settles the run; the caller then finds the summary written.
        """
        fd = os.open(self.path / LAB_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def settle(self) -> None:
        """Record a run whose supervisor and lab process died without a verdict as interrupted.

        Done under both locks, so nobody can be writing the run's own verdict meanwhile.
        """
        if self.summary is not None:
            return
        fds: list[int] = []
        try:
            for name in (LOCK, LAB_LOCK):
                fd = os.open(self.path / name, os.O_RDWR | os.O_CREAT, 0o600)
                fds.append(fd)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if self.summary is not None:
                return
            from labs.state import RunState  # a cycle otherwise: state folds events

            self.release_reserve()
            state = RunState.of(self.events())
            terminal = state.terminal
            if terminal is None:
                terminal = ev.Interrupted(
                    reason="the run's supervisor was killed before it recorded a verdict",
                    log_tail=self.log_tail(),
                    time=state.elapsed,
                )
                self.append(terminal)
            self.write_summary(terminal, state.metrics, state.result)
        except (OSError, LookupError):
            pass  # live after all, damaged, or a folder we may not write: readers still say interrupted
        finally:
            for fd in fds:
                os.close(fd)

    def append(self, event: ev.Event, handle: Any = None) -> None:
        """Append one event line. A writer that appends often passes its open handle."""
        line = ev.to_json(event) + "\n"
        if handle is not None:
            handle.write(line)
            handle.flush()
            return
        path = self.path / EVENTS
        with open(path, "a+b") as f:
            # A process killed mid-line leaves a partial line: end it first.
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")
            f.write(line.encode())

    def open_events_for_append(self) -> Any:
        return open(self.path / EVENTS, "a", buffering=1, encoding="utf-8")

    def events(self, only: str | None = None) -> Iterator[ev.Event]:
        """The recorded events (``only``: of that type, say "table"); a torn last line
        (a killed writer) is skipped."""
        try:
            f = open(self.path / EVENTS, encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        wanted = f'"type":"{only}"' if only else ""
        with f:
            for line in f:
                if wanted not in line:  # skips decoding the rest: a PDE run records thousands of frames
                    continue
                try:
                    yield ev.from_json(line)
                except (ValueError, KeyError, TypeError):
                    continue

    def tables(self) -> list[ev.Table]:
        """The last of each table the run reported, in the order they first came."""
        latest = {t.name: t for t in self.events("table") if isinstance(t, ev.Table)}
        return list(latest.values())

    def last_event(self) -> ev.Event | None:
        """The last complete event line, read from the end of the file."""
        tail = _read_tail(self.path / EVENTS, 65536) or ""
        for line in reversed(tail.splitlines()):
            try:
                return ev.from_json(line)
            except (ValueError, KeyError, TypeError):
                continue
        return None

    @property
    def summary(self) -> dict[str, Any] | None:
        return read_object(self.path / SUMMARY)

    def write_summary(
        self, terminal: ev.Event, metrics: dict[str, float], lab_summary: dict[str, Any]
    ) -> None:
        meta = self.meta
        wanted = meta.get("key_metric") or []
        candidates = [wanted] if isinstance(wanted, str) else list(wanted)
        key = next((name for name in candidates if name in metrics), None)
        summary: dict[str, Any] = {
            "status": ev.STATUS[type(terminal)],
            "duration": round(terminal.time, 3),
            "ended_at": datetime.now().isoformat(timespec="seconds"),
            "metrics": metrics,
            "key_metric": {key: metrics[key]} if key is not None else {},
            "result": lab_summary,
        }
        if isinstance(terminal, ev.Failed):
            summary["kind"] = terminal.kind
        if isinstance(terminal, ev.Failed | ev.Cancelled | ev.Interrupted):
            summary["reason"] = terminal.reason
        write_atomic(self.path / SUMMARY, summary)

    def status(self) -> str:
        if self.damage() is not None:
            return "damaged"
        summary = self.summary
        if summary is not None:
            return str(summary["status"])
        if self.live():
            return "queued" if Queue(self.path.parent).entry(self.run_id) is not None else "running"
        self.settle()  # records the verdict the events hold, or interrupted
        summary = self.summary
        return str(summary["status"]) if summary is not None and self.damage() is None else "interrupted"

    def log_tail(self, lines: int = 20) -> tuple[str, ...]:
        text = _read_tail(self.path / OUTPUT, 16384) or ""
        return tuple(text.splitlines()[-lines:])

    def info(self) -> RunInfo:
        """Its line in a list of runs; a damaged folder gives one too, saying what is wrong."""
        problem = self.damage()
        if problem is not None:
            raw = read_object(self.path / PARAMS) or {}
            lab = raw.get("lab")
            try:
                modified = self.path.stat().st_mtime
            except OSError:
                modified = 0.0
            return RunInfo(
                run_id=self.run_id,
                lab=lab if isinstance(lab, str) and lab.strip() and " " not in lab else "?",
                status="damaged",
                started=datetime.fromtimestamp(modified).isoformat(timespec="seconds"),
                started_unix=modified,
                duration=None,
                key_metric="-",
                path=self.path,
                reason=problem,
            )
        meta = self.meta
        status = self.status()  # first: it may record the summary read next
        summary = (self.summary or {}) if status != "running" else {}
        key = summary.get("key_metric") or {}
        return RunInfo(
            run_id=self.run_id,
            lab=meta["lab"],
            status=status,
            started=meta["started_at"],
            started_unix=meta.get("started_unix", 0.0),
            duration=summary.get("duration"),
            key_metric=", ".join(f"{k}={fmt(v)}" for k, v in key.items()) or "-",
            path=self.path,
            device=meta["device"],
            reason=summary.get("reason", ""),
            label=self.label,
            changed=changed_text(meta),
            sweep=str(meta.get("sweep") or ""),
        )

    @property
    def label(self) -> str:
        text = (read_object(self.path / LABEL) or {}).get("label")
        return " ".join(text.split()) if isinstance(text, str) else ""

    def set_label(self, text: str) -> None:
        """Label the run (the user's words, on one line); an empty text takes the label off."""
        if text.strip():
            write_atomic(self.path / LABEL, {"label": " ".join(text.split())})
        else:
            (self.path / LABEL).unlink(missing_ok=True)


def changed_text(meta: dict[str, Any]) -> str:
    """``name=value`` for each parameter the run was given other than the lab's default."""
    params, names = meta.get("params"), meta.get("changed")
    if not isinstance(params, dict) or not isinstance(names, list):
        return ""
    return " ".join(f"{n}={fmt(params[n])}" for n in names if isinstance(n, str) and n in params)


def _held(path: Path) -> bool:
    """Whether another open file holds a lock on ``path``."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False  # never taken, or a run recorded before runs had supervisors
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # releases the probe's own shared lock too
    return False


def live_runs(runs_dir: Path) -> list[RunRecord]:
    """The runs still computing: held by a process (found by their locks) and without a
    summary yet. A run whose verdict is written is over, though its process may take a few
    seconds more to exit (TensorFlow's teardown): there is nothing left of it to cancel."""
    try:
        folders = list(runs_dir.iterdir())
    except OSError:
        return []
    return [
        RunRecord(p)
        for p in folders
        if (p / PARAMS).is_file() and not (p / SUMMARY).exists() and RunRecord(p).live()
    ]


def list_runs(
    runs_dir: Path, limit: int | None = None, lab: str | None = None, sweep: str | None = None
) -> list[RunInfo]:
    """Recorded runs, newest first, damaged ones among them; folders that are not runs are
    skipped. ``limit``, ``lab`` and ``sweep`` keep the newest, one lab's, one sweep's."""
    return runs_page(runs_dir, limit, lab, sweep)[0]


def runs_page(
    runs_dir: Path, limit: int | None = None, lab: str | None = None, sweep: str | None = None
) -> tuple[list[RunInfo], int]:
    """The newest ``limit`` runs (of ``lab``, of ``sweep``) and every live one, newest
    first, and how many runs there are in all.

    Ended runs are ordered and filtered by the folder's index (:mod:`labs.index`), and
    each one returned is checked against its folder; the rest are read from their folders.
    """
    try:
        names = {e.name for e in os.scandir(runs_dir) if not e.name.startswith(".") and e.is_dir()}
    except OSError:
        return [], 0
    index = RunIndex(runs_dir / INDEX)
    index.keep_only(names)
    # (start, run id, its line read now or None: indexed, to check when shown)
    found: list[tuple[float, str, RunInfo | None]] = []
    for name in names:
        head = index.head(name)
        info = _read(runs_dir / name, index) if head is None else None
        if info is not None:
            head = (info.started_unix, info.lab, info.sweep)
        if head is not None and (lab is None or head[1] == lab) and (sweep is None or head[2] == sweep):
            found.append((head[0], name, info))
    found.sort(reverse=True)
    live = [item for item in found if item[2] is not None and item[2].status in LIVE]
    shown: list[RunInfo] = []
    for _, name, info in live + [item for item in found if item not in live][:limit]:  # every live run
        if info is None:
            path = runs_dir / name
            fields = index.fields(name, stamp(str(path), STAMPED))
            try:
                info = RunInfo(**dict(zip(_INDEXED, fields, strict=True)), path=path) if fields else None
            except (TypeError, ValueError):  # an entry of other fields
                info = None
            info = info or _read(path, index)  # changed since it was indexed: read it again
        if info is not None:
            shown.append(info)
    index.save()
    return sorted(shown, key=lambda i: (i.started_unix, i.run_id), reverse=True), len(found)


# A RunInfo's fields as an index keeps them: in this order, without the folder it is found in.
_INDEXED = tuple(f.name for f in dataclasses.fields(RunInfo) if f.name != "path")


def _read(path: Path, index: RunIndex) -> RunInfo | None:
    """A run's line from its folder (None: not a run folder), indexed once the run has ended."""
    if not (path / PARAMS).is_file():
        return None
    info = RunRecord(path).info()  # may settle the run, writing its summary: stamped after
    if info.status in LIVE:
        index.drop(path.name)
    else:
        fields = dataclasses.asdict(info)
        head = (info.started_unix, info.lab, info.sweep)
        index.put(path.name, stamp(str(path), STAMPED), head, [fields[name] for name in _INDEXED])
    return info


def find_run(runs_dir: Path, ref: str) -> RunRecord:
    """A run by id, unique id prefix, ``last``, or folder path."""
    if not ref.strip():
        raise LookupError("no run given: name a run id, a unique prefix of one, or `last`")
    if (Path(ref) / PARAMS).is_file():
        return RunRecord(Path(ref))
    if ref == "last" and (newest := list_runs(runs_dir, limit=1)):
        return RunRecord(newest[0].path)
    if "/" not in ref and (runs_dir / ref / PARAMS).is_file():
        return RunRecord(runs_dir / ref)
    try:
        names = [e.name for e in os.scandir(runs_dir) if e.name.startswith(ref) and e.name[0] != "."]
    except OSError:
        names = []
    matches = [name for name in names if (runs_dir / name / PARAMS).is_file()]
    if len(matches) == 1:
        return RunRecord(runs_dir / matches[0])
    if not matches:
        raise LookupError(f"no run {ref!r} in {runs_dir} (see `meetup-lab runs`)")
    raise LookupError(f"{ref!r} matches {len(matches)} runs: give more of the run id")
