"""A command running in a real pseudo-terminal: read what it draws, type keys."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from collections.abc import Callable, Sequence

import pyte


class Terminal:
    def __init__(self, args: Sequence[str], env: dict[str, str], cols: int = 100, rows: int = 30) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(
            list(args),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            close_fds=True,
            start_new_session=True,
            # As a login does: the terminal becomes the session's controlling terminal, so
            # closing it hangs up on the program (SIGHUP), as an SSH drop does.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.output = bytearray()  # appended to in place: a busy screen draws megabytes
        # What the terminal shows, as a terminal emulator keeps it (for what a stream of
        # redraws cannot tell: that a screen has gone).
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False once the terminal is closed."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the program has exited and the terminal is gone
            return False
        self.output += chunk
        self._stream.feed(chunk)
        return bool(chunk)

    def shows(self) -> str:
        """The text on the screen now, line by line."""
        return "\n".join(self.screen.display)

    def wait_until(self, condition: Callable[[str], bool], timeout: float = 90) -> None:
        """Wait until the screen's text meets ``condition``."""
        deadline = time.monotonic() + timeout
        while not condition(self.shows()):
            if time.monotonic() > deadline or not self._read(0.2):
                raise AssertionError(f"the screen did not change as expected; it shows:\n{self.shows()}")

    def wait_for(self, text: str, timeout: float = 90, since: int = 0) -> None:
        """Wait until ``text`` has been drawn, after the first ``since`` bytes of output."""
        deadline = time.monotonic() + timeout
        while self.output.find(text.encode(), since) < 0:
            if time.monotonic() > deadline or not self._read(0.2):
                tail = self.output[-2000:].decode("utf-8", "replace")
                raise AssertionError(f"{text!r} did not appear on the terminal; last output:\n{tail}")

    def settle(self, seconds: float = 0.5) -> None:
        """Read what the program draws for ``seconds``: what one key brings has all come."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self._read(0.05):
            pass

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def wait_exit(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"the program did not exit; the screen shows:\n{self.shows()}")
            self._read(0.1)
        # What it wrote just before it exited may still be in the terminal: read it all.
        while select.select([self.master], [], [], 0.2)[0] and self._read(0):
            pass
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
