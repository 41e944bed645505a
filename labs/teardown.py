"""How our own processes end: at once, without the interpreter's teardown.

A run's process (``labs.child``, a spare too), a multi-worker run's workers and
the thread-setting probes all end through :func:`exit_now`. It imports nothing
but the standard library, so a worker or a probe can use it without importing
the run machinery.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process with ``code``, skipping teardown.

    Why ``os._exit`` and not ``sys.exit``: the interpreter's teardown runs
    TensorFlow's atexit hooks and finalisers, which can hang (a worker's
    collective ops wait for peers that are already gone) or crash, and it joins
    threads that may never end. Everything worth keeping is on disk or written
    by then. ``os._exit`` does not flush Python's buffers, hence the flushes:
    a worker's last JSON line, a probe's result and a crash's last words must
    reach their reader. A stream closed under us (its reader gone) has nothing
    left to deliver and does not stop the exit.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a broken pipe, a full disk, a closed file
            pass
    os._exit(code)
