"""labs.teardown.exit_now, in real processes: what it flushes, and the teardown it skips."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Output still in Python's buffers, an atexit hook that would print, and a thread that never
# ends (a non-daemon thread joined at teardown, as TensorFlow's can hang there).
PROGRAM = """
import atexit, sys, threading
from labs.teardown import exit_now
atexit.register(lambda: print("teardown ran"))
threading.Thread(target=threading.Event().wait).start()
print("the last line", end="")
print("last words", end="", file=sys.stderr)
{before}
exit_now(3)
"""


def run(before: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered, as in a run
    return subprocess.run(
        [sys.executable, "-c", PROGRAM.format(before=before)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def test_it_flushes_what_was_written_and_skips_the_teardown() -> None:
    done = run()
    assert done.returncode == 3
    assert done.stdout == "the last line"  # flushed; no atexit hook ran, no thread was waited for
    assert done.stderr == "last words"


@pytest.mark.parametrize(
    ("before", "stdout"),
    [
        ("import os; os.close(1)", ""),  # its reader gone: flushing fails with an OSError
        ("sys.stdout.close()", "the last line"),  # closing flushed it; flushing again: ValueError
    ],
)
def test_a_stream_closed_under_it_does_not_stop_the_exit(before: str, stdout: str) -> None:
    done = run(before)
    assert done.returncode == 3
    assert done.stdout == stdout and done.stderr == "last words"
