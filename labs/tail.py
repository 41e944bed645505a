"""Reading a run's ``events.jsonl`` as it grows: how every viewer sees a run.

The run's process appends one line per event. A reader remembers how far it
has read, holds back a last line without its newline (still being written),
skips lines that do not decode (a torn line from a killed writer, a damaged
byte), and notices a file that was replaced or cut short instead of crashing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from labs import events as ev

POLL_S = 0.05


class EventTail:
    """The events appended to a file since the last :meth:`read`."""

    def __init__(self, path: Path, skip: str | None = None) -> None:
        self.path = path
        self._offset = 0
        self._inode: int | None = None
        self._partial = b""
        # Lines holding this text are passed over undecoded (``'"type":"frame"'``: a
        # viewer that draws no heatmap need not decode thousands of frames).
        self._skip = skip.encode() if skip else None

    def read(self) -> list[ev.Event]:
        try:
            with open(self.path, "rb") as f:
                stat = os.fstat(f.fileno())
                if stat.st_ino != self._inode or stat.st_size < self._offset:
                    # A new file (replaced), or one cut short: read it from the start.
                    self._inode, self._offset, self._partial = stat.st_ino, 0, b""
                f.seek(self._offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self._offset += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()  # b"" after a complete last line
        out = []
        for line in lines:
            if not line or (self._skip is not None and self._skip in line):
                continue
            try:
                out.append(ev.from_json(line.decode("utf-8")))
            except (ValueError, KeyError, TypeError):
                continue  # torn or damaged: the lines after it still count
        return out


def follow(
    path: Path,
    live: Callable[[], bool],
    stop: Callable[[], bool] = lambda: False,
    poll: float = POLL_S,
    skip: str | None = None,
) -> Iterator[ev.Event]:
    """Every event in ``path``, then each one as it is appended, until the terminal event.

    It also ends, without a terminal event, once ``live()`` says nobody writes the
    file any more and everything written has been read, or when ``stop()`` is true.
    """
    tail = EventTail(path, skip)
    while not stop():
        # Liveness first: whatever was written before the writer went is then read below.
        writing = live()
        events = tail.read()
        for event in events:
            yield event
            if isinstance(event, ev.TERMINAL):
                return
        if not events:
            if not writing:
                return
            time.sleep(poll)
