"""The keys, one screen."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, str, str]] = [
    ("anywhere", "?", "this help"),
    ("anywhere", "t", "next theme (remembered)"),
    ("anywhere", "ctrl+p", "command palette: run a lab, change theme"),
    ("anywhere", "q / ctrl+q", "quit; with runs live it asks: leave them running, cancel them, or stay"),
    ("menu", "↑ ↓ / j k, Enter", "choose a lab"),
    ("menu", "h", "the runs board: live runs (updated as they go) and recorded ones"),
    ("form", "Tab / shift+Tab", "next / previous field"),
    ("form", "Enter / ctrl+r", "run with these parameters; a field of several values (0.1,0.2) runs a sweep"),
    ("form", "ctrl+o", "every field back to its default (the form opens with the values last run)"),
    ("form", "escape", "back"),
    ("run", "c", "cancel the run"),
    ("run", "p / n", "pause or resume / step one frame while paused"),
    ("run", "m / v", "next colour map / colour range: auto, fixed, symmetric"),
    ("run", "+ / -", "zoom in / out (fractals): a live run recomputes there; an ended one runs again"),
    ("run", "shift+arrows", "move the window (fractals), the same way"),
    ("run", "f", "next view: the run's parameters, and more where it shows several (minibatch: tables)"),
    ("run", "[ / ]", "learning rate down / up the Playground's ladder, while it trains (logreg)"),
    ("run", "r", "run again with the same parameters (a live run goes on beside it)"),
    ("run", "e", "run again with changes: the form, filled with this run's parameters"),
    ("run", "s", "save the heatmap as a PNG in the run folder"),
    ("run", "escape", "back; a live run goes on (see it on the runs board)"),
    ("runs", "Enter", "open the run: follow a live one, replay an ended one"),
    ("runs", "c", "cancel a live or queued run (asks first)"),
    ("runs", "f", "move a queued run to the front of the line for its device"),
    ("runs", "e", "run again with changes: the form, filled with the run's parameters"),
    ("runs", "space / v", "mark runs / compare the marked ones: their table and curves (m: next metric)"),
    ("runs", "f5", "reload"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        ("escape", "dismiss", "Close"),
        ("question_mark", "dismiss", "Close"),
        ("q", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        table = Table(title="meetup-lab keys", expand=True)
        table.add_column("where", style="bold")
        table.add_column("key")
        table.add_column("does")
        for where, key, does in KEYS:
            table.add_row(where, key, does)
        with VerticalScroll(id="help-body"):
            yield Static(table)
