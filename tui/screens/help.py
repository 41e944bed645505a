"""The keys, one screen: every binding of every screen (see :mod:`tui.keys`)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import TEXT_FIELDS, rows


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", tooltip="close the help"),
        Binding("question_mark", "dismiss", "Close", tooltip="close the help"),
        Binding("q", "dismiss", "Close", tooltip="close the help"),
        # A modal screen takes no keys of the app's: this one the help can keep.
        Binding("t", "app.next_theme", "Theme", tooltip="next theme, the screen below the help too"),
    ]

    def compose(self) -> ComposeResult:
        table = Table(title="meetup-lab keys", caption=TEXT_FIELDS, expand=True)
        table.add_column("where", style="bold")
        table.add_column("key")
        table.add_column("does")
        for row in rows():
            table.add_row(row.where, row.keys.replace("`", ""), row.does)
        with VerticalScroll(id="help-body"):
            yield Static(table)
