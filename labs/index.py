"""An index of ended runs in the runs folder (``.index.json``), so that a list of the
newest runs among 20,000 reads one file and the runs it shows, not 20,000 summaries.

The folders stay the truth. The index holds each ended run's line of a listing,
with the times and sizes of its folder, ``params.json`` and ``summary.json`` when the
line was made. A listing takes the folder names from the runs folder itself (a new
run, a deleted one and a live one are read from their folders), orders and filters
runs by what the index says, and checks every line it returns against its folder:
one that changed since (every writer replaces those files whole, and an edit by
hand changes their times too) is read again. A missing, unreadable or damaged
index is rebuilt as it is read. Live runs are never indexed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from labs.jsonfile import dumps, read_object, write_atomic

INDEX = ".index.json"
VERSION = 3


def stamp(folder: str, files: tuple[str, ...]) -> list[int] | None:
    """What an entry is checked against: the folder's mtime, its files' mtimes and sizes."""
    try:
        found = [os.stat(folder).st_mtime_ns]
    except OSError:
        return None
    for name in files:
        try:
            st = os.stat(os.path.join(folder, name))
            found += [st.st_mtime_ns, st.st_size]
        except OSError:
            found += [0, -1]
    return found


Head = tuple[float, str, str]  # a run's start time, lab and sweep: what listings order and filter by


class RunIndex:
    """Entries by run id, each one line of text: ``started<TAB>lab<TAB>sweep<TAB>stamp<TAB>
    fields``, the fields a listing's line as JSON. Text, so that reading the index parses
    20,000 strings, and a line's fields only for the runs a listing shows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        raw = read_object(path) or {}
        runs = raw.get("runs") if raw.get("version") == VERSION else None
        self._entries: dict[str, Any] = runs if isinstance(runs, dict) else {}
        self._changed = not isinstance(runs, dict) and path.exists()  # damaged: rewrite it

    def head(self, run_id: str) -> Head | None:
        """(start time, lab, sweep) of an indexed run, for ordering and filtering; unchecked."""
        entry = self._entries.get(run_id)
        parts = entry.split("\t", 3) if isinstance(entry, str) else ()
        if len(parts) != 4:
            return None
        try:
            return float(parts[0]), parts[1], parts[2]
        except ValueError:
            return None

    def fields(self, run_id: str, now: list[int] | None) -> list[Any] | None:
        """The indexed line of a run, if the entry was made from its folder as it is ``now``."""
        entry = self._entries.get(run_id)
        parts = entry.split("\t", 4) if isinstance(entry, str) and now is not None else ()
        if len(parts) != 5 or parts[3] != _text(now):
            return None
        try:
            fields = json.loads(parts[4])
        except ValueError:
            return None
        return fields if isinstance(fields, list) else None

    def put(self, run_id: str, now: list[int] | None, head: Head, fields: list[Any]) -> None:
        if now is None or any("\t" in part for part in head[1:]):
            self.drop(run_id)
            return
        entry = "\t".join([repr(float(head[0])), head[1], head[2], _text(now), dumps(fields)])
        if self._entries.get(run_id) != entry:
            self._entries[run_id] = entry
            self._changed = True

    def drop(self, run_id: str) -> None:
        if self._entries.pop(run_id, None) is not None:
            self._changed = True

    def keep_only(self, run_ids: set[str]) -> None:
        """Forget the runs whose folders are gone."""
        for run_id in [rid for rid in self._entries if rid not in run_ids]:
            self.drop(run_id)

    def save(self) -> None:
        """Best effort: a folder we may not write is listed all the same, only slower."""
        if not self._changed:
            return
        try:
            write_atomic(self.path, {"version": VERSION, "runs": self._entries}, compact=True)
        except OSError:
            pass
        self._changed = False


def _text(now: list[int] | None) -> str:
    return ",".join(map(str, now or ()))
