"""The control channel of a live run: a FIFO named ``control`` in the run folder.

Any viewer writes one command per line; the run's supervisor reads them. A
FIFO has no path-length limit (a Unix socket's is 107 bytes, which a run folder
under a long home can pass), needs no reply, and answers its owner only, since
the run folder is created 0700. A line shorter than ``PIPE_BUF`` is written
atomically, so viewers writing at once never interleave.

Commands: ``cancel [GRACE_S]`` (ask the run to stop; kill it after the grace),
``kill`` (stop it at once), ``pause``, ``resume``, ``step`` (one frame, then
hold again), ``set NAME VALUE`` (a lab's tunable value).
"""

from __future__ import annotations

import errno
import os
import select
from collections.abc import Iterator
from pathlib import Path

FIFO = "control"
COMMANDS = ("cancel", "kill", "pause", "resume", "step", "set")


class NotLive(Exception):
    """The run has no supervisor reading its controls (it ended, or it was killed)."""


def create(run_dir: Path) -> Path:
    path = run_dir / FIFO
    os.mkfifo(path, 0o600)
    return path


def send(run_dir: Path, command: str) -> None:
    """Hand one command to the run's supervisor, or raise :class:`NotLive`."""
    if command.split(" ", 1)[0] not in COMMANDS or "\n" in command:
        raise ValueError(f"not a run control: {command!r}")
    try:
        # Non-blocking: with no reader the open fails at once (ENXIO) instead of waiting.
        fd = os.open(run_dir / FIFO, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.ENOENT):
            raise NotLive(f"run {run_dir.name} is not live") from None
        raise
    try:
        os.write(fd, (command + "\n").encode())
    except BlockingIOError:  # 64 KiB of commands unread: the supervisor is stuck
        raise NotLive(f"run {run_dir.name} does not answer its controls") from None
    finally:
        os.close(fd)


def commands(path: Path) -> Iterator[str]:
    """The commands written to the FIFO at ``path``, for as long as the reader lives."""
    # Opened read-write, the FIFO never reports end of file when a writer closes it.
    fd = os.open(path, os.O_RDWR)
    pending = b""
    while True:
        select.select([fd], [], [])
        pending += os.read(fd, 4096)
        *lines, pending = pending.split(b"\n")
        for line in lines:
            text = line.decode("utf-8", "replace").strip()
            if text:
                yield text
