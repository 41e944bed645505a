"""Start-up: `meetup-lab --help` wall time, and time until the menu is painted.

The menu is timed in a real pseudo-terminal (80x24): from process start until
the menu's text has been written to the terminal.
Run: python benchmarks/bench_startup.py
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

RUNS = 5
MENU_TEXT = b"Choose a lab"


def command() -> list[str]:
    script = shutil.which("meetup-lab")
    return [script] if script else [sys.executable, "-m", "tui"]


def help_time() -> float:
    start = time.perf_counter()
    subprocess.run([*command(), "--help"], capture_output=True, check=True)
    return time.perf_counter() - start


def menu_time() -> float:
    """Seconds until the menu appears on a pseudo-terminal; the app is then killed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "XDG_CONFIG_HOME": tempfile.mkdtemp()}
    start = time.perf_counter()
    proc = subprocess.Popen(command(), stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        while MENU_TEXT not in seen:
            ready, _, _ = select.select([master], [], [], 30)
            if not ready:
                raise RuntimeError("the menu did not appear within 30 s")
            seen = seen[-4096:] + os.read(master, 65536)
        return time.perf_counter() - start
    finally:
        proc.kill()
        proc.wait()
        os.close(master)


def row(name: str, samples: list[float], target: float) -> str:
    median = statistics.median(samples)
    verdict = "ok" if median < target else "OVER"
    return f"{name:<22} {median * 1000:>9.0f} {min(samples) * 1000:>8.0f} {target * 1000:>9.0f}  {verdict}"


if __name__ == "__main__":
    print(f"{'measure':<22} {'median ms':>9} {'best ms':>8} {'target ms':>9}")
    print(row("meetup-lab --help", [help_time() for _ in range(RUNS)], 0.5))
    print(row("menu painted (80x24)", [menu_time() for _ in range(RUNS)], 1.5))
