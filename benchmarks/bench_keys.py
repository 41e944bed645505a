"""Key to changed screen, in the real app in a pseudo-terminal, with no run and with one computing.

Each key is timed from the moment it is written to the terminal until the screen
(as a terminal emulator keeps it) shows what the key brings up: `?` the help,
Escape the help gone, `t` the next theme's colours (the header's, which a run's frames
do not change) and then its notification, and Enter on the menu
the lab's form (its footer): the first time for each lab, when the form is made, and
again, when the kept form is shown. Escape cannot be quicker than ESCDELAY: until
then the terminal cannot tell it from the start of a longer key's sequence (an
arrow's), so the app waits that long before it sees it (meetup-lab 50 ms unless
ESCDELAY is set; Textual, and so the bare app, 100 ms).

The same keys are timed side by side: on an ended run's screen with nothing
computing, and on a live pde run (heat, 512x512, a frame every 20 steps)
computing beside the app on this machine's cores.

Beside them, the same keys on a bare Textual app (bare_app.py): Textual's own cost here.

Run: python benchmarks/bench_keys.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.terminal import Terminal  # noqa: E402
from themes.builtin import DEFAULT_THEME  # noqa: E402
from themes.builtin import THEMES as BUILTIN  # noqa: E402
from tui import config  # noqa: E402

MEETUP_LAB = Path(sys.executable).parent / "meetup-lab"
BUSY = ["equation=heat", "grid=512", "steps=10000000", "frame_every=20", "dt=0.2"]
IDLE = ["equation=heat", "grid=64", "steps=200", "frame_every=100"]
HELP = "meetup-lab keys"  # the help's title
RUN_BUTTON = "^r Run"  # the form's footer (its Run button can be below the fold)
THEMES = [theme.name for theme in BUILTIN]
LABS = 5  # on the menu
DOWN = "\x1b[B"
TARGET_KEY_MS = 100.0
TARGET_FORM_MS = 300.0
T = TypeVar("T")


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(MEETUP_LAB), *args], env=env, capture_output=True, text=True, check=True)
    return done.stdout


def run_id(printed: str) -> str:
    """The run id from `run --detach`'s output (its first word)."""
    return printed.split()[0]


def showing(text: str) -> Callable[[str], bool]:
    return lambda screen: text in screen


def gone(text: str) -> Callable[[str], bool]:
    return lambda screen: text not in screen


def timed(terminal: Terminal, keys: str, done: Callable[[str], bool]) -> float:
    """Seconds from writing ``keys`` until the screen's text meets ``done``."""
    start = time.perf_counter()
    terminal.type(keys)
    terminal.wait_until(done, timeout=60)
    return time.perf_counter() - start


def header_colours(terminal: Terminal) -> frozenset[str]:
    """The backgrounds of the screen's top row: the header, in the theme's colours."""
    return frozenset(cell.bg for cell in terminal.screen.buffer[0].values())


def theme_key(terminal: Terminal, notice: str) -> tuple[float, float]:
    """Seconds from `t` until the header's colours change, and until ``notice`` shows."""
    before = header_colours(terminal)
    start = time.perf_counter()
    terminal.type("t")
    terminal.wait_until(lambda _: header_colours(terminal) != before, timeout=60)
    recoloured = time.perf_counter() - start
    terminal.wait_until(showing(notice), timeout=60)
    return recoloured, time.perf_counter() - start


def keys_on_run_screen(
    terminal: Terminal, rounds: int, theme: Callable[[], str] = lambda: next_theme()
) -> dict[str, list[float]]:
    """``theme``: the theme `t` switches to next."""
    samples: dict[str, list[float]] = {
        "? (help)": [], "escape (close help)": [], "t (theme)": [], "t (its notice)": [],
    }  # fmt: skip
    for _ in range(rounds):
        samples["? (help)"].append(timed(terminal, "?", showing(HELP)))
        terminal.settle()
        samples["escape (close help)"].append(timed(terminal, "\x1b", gone(HELP)))
        terminal.settle()
        recoloured, noticed = theme_key(terminal, f"Theme: {theme()}")
        samples["t (theme)"].append(recoloured)
        samples["t (its notice)"].append(noticed)
        terminal.settle(1.0)
    return samples


def next_theme() -> str:
    """The theme `t` brings next: the one after the theme saved (the app saves each choice)."""
    current = config.load().get("theme", DEFAULT_THEME)  # the app's config: see main()
    return THEMES[(THEMES.index(current) + 1) % len(THEMES)] if current in THEMES else THEMES[0]


def form_opening(terminal: Terminal, rounds: int) -> dict[str, list[float]]:
    """Enter on the menu until the lab's form is drawn, then Escape back to the menu: first
    each lab's form once (it is made), then the last one again and again (it is kept)."""
    samples: dict[str, list[float]] = {"enter (first form)": [], "enter (form again)": []}
    for lab in range(LABS):
        if lab:
            terminal.type(DOWN)
            terminal.settle()
        samples["enter (first form)"].append(timed(terminal, "\r", showing(RUN_BUTTON)))
        terminal.settle()
        timed(terminal, "\x1b", gone(RUN_BUTTON))
        terminal.settle()
    for _ in range(rounds):
        samples["enter (form again)"].append(timed(terminal, "\r", showing(RUN_BUTTON)))
        terminal.settle()
        timed(terminal, "\x1b", gone(RUN_BUTTON))
        terminal.settle()
    return samples


def session(env: dict[str, str], args: list[str], ready: str, work: Callable[[Terminal], T]) -> T:
    terminal = Terminal([str(MEETUP_LAB), *args], env=env, cols=100, rows=30)
    try:
        terminal.wait_for(ready, timeout=120)
        terminal.settle(2.0)
        return work(terminal)
    finally:
        terminal.close()


def measure(env: dict[str, str], run: str, rounds: int) -> dict[str, list[float]]:
    """Every key on the screen of ``run``, then the forms from the menu."""
    samples = session(env, ["show", run], "Save PNG", lambda t: keys_on_run_screen(t, rounds))
    return {**samples, **session(env, [], "Choose a lab", lambda t: form_opening(t, rounds))}


def bare(rounds: int) -> dict[str, list[float]]:
    """The same keys on a bare Textual app: what Textual itself costs here."""
    terminal = Terminal([sys.executable, str(Path(__file__).with_name("bare_app.py"))], dict(os.environ))
    themes = iter(f"{name} {i + 1}" for i, name in enumerate(["textual-light", "textual-dark"] * rounds))
    try:
        terminal.wait_until(showing("Theme"), timeout=60)
        terminal.settle(2.0)
        return keys_on_run_screen(terminal, rounds, lambda: next(themes))
    finally:
        terminal.close()


def p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, round(0.95 * len(samples)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    home = Path(tempfile.mkdtemp(prefix="bench-keys-"))
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "MEETUP_LAB_RUNS_DIR": str(home / "runs"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "MEETUP_LAB_WARM_START": "0",  # no spare importing TensorFlow in the background of either case
    }
    os.environ["XDG_CONFIG_HOME"] = env["XDG_CONFIG_HOME"]  # where this script reads the app's theme
    cli(env, "run", "pde", "--headless", *[f"--set={s}" for s in IDLE])
    ended = cli(env, "runs", "--last", "1").splitlines()[1].split()[0]
    results = {"bare Textual": bare(rounds), "no run": measure(env, ended, rounds)}
    live = run_id(cli(env, "run", "pde", "--detach", *[f"--set={s}" for s in BUSY]))
    try:
        session(env, ["show", live], "step 20", lambda t: None)  # it computes from here on
        results["run computing"] = measure(env, live, rounds)
    finally:
        cli(env, "stop", live)
    print(f"{'key':<22} {'case':<14} {'median ms':>9} {'p95 ms':>7} {'target':>7}")
    for case, measured in results.items():
        for key, samples in measured.items():
            target = TARGET_FORM_MS if key.startswith("enter") else TARGET_KEY_MS
            worst = p95(samples) * 1000
            verdict = "ok" if worst <= target else "OVER"
            median = statistics.median(samples) * 1000
            print(f"{key:<22} {case:<14} {median:>9.0f} {worst:>7.0f} {target:>7.0f}  {verdict}")


if __name__ == "__main__":
    main()
