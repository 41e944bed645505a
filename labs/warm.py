"""A warm start: one spare run process kept ready, TensorFlow already imported.

A cold run spends seconds in ``import tensorflow`` before its first frame. While
the TUI is open it keeps a :class:`Spare`: a supervisor started ahead of time
(``python -m labs.supervisor --spare FD``) whose lab process has imported
TensorFlow and nothing else, so no device is initialised yet. Starting a run
hands it the run folder and the run's liveness lock over a Unix socket pair
(``SCM_RIGHTS``); the spare's lab process then sets ``CUDA_VISIBLE_DEVICES``,
logical devices and threads for that run, as a cold one would.

The spare costs about what an idle TensorFlow process does (benchmarks/README.md).
When the app goes, its end of the socket closes and the spare exits.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from labs.recording import RunRecord

ENV = "MEETUP_LAB_WARM_START"  # 0 turns the spare off, whatever the settings say
TAKE_TIMEOUT_S = 2.0  # the spare answers at once; one that does not is stuck, and a cold start is due


def wanted(setting: bool) -> bool:
    """Whether to keep a spare: the environment's word, else the user's setting."""
    value = os.environ.get(ENV, "").strip().lower()
    if value in ("0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    return setting


class Spare:
    def __init__(self) -> None:
        from labs.runner import child_env

        self._channel, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "labs.supervisor", "--spare", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=child_env(),
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        finally:
            theirs.close()

    def take(self, record: RunRecord) -> bool:
        """Give the spare this run; False if it cannot take it: start cold then.

        Two steps, so that the run is the spare's only once both sides know: the spare
        says ``ok`` (alive, its lab process too), we say ``go``. A spare that does not
        answer in time is killed, so it can never start the run after a cold start has.
        """
        assert record.lock_fd is not None
        taken = False
        try:
            socket.send_fds(self._channel, [str(record.path).encode()], [record.lock_fd])
            self._channel.settimeout(TAKE_TIMEOUT_S)
            if self._channel.recv(16) == b"ok":
                self._channel.sendall(b"go")
                taken = True
        except OSError:
            pass
        if not taken:
            self.process.kill()
        self.close()
        return taken

    def close(self) -> None:
        """Let the spare go (unless it has a run, it exits)."""
        self._channel.close()
