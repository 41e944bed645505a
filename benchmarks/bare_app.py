"""The floor for bench_keys.py: a bare Textual app with the same keys and no more.

`?` opens a modal help titled as ours, Escape closes it, `t` switches between two of
Textual's themes and says so; the screen holds a header, a panel of text and a footer.
Whatever the keys cost here is Textual's own on this machine, not meetup-lab's.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, Static


class Help(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        yield Static("meetup-lab keys\n" + "\n".join(f"key {i}  does {i}" for i in range(20)))


class Bare(App[None]):
    BINDINGS = [Binding("question_mark", "help", "Help"), Binding("t", "theme", "Theme")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("\n".join("text " * 15 for _ in range(20)))
        yield Footer()

    def action_help(self) -> None:
        self.push_screen(Help())

    switches = 0

    def action_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"
        self.switches += 1  # counted: the last notice may still be up when the next comes
        self.notify(f"Theme: {self.theme} {self.switches}")


if __name__ == "__main__":
    Bare().run()
