"""A question with a few answers, as buttons: "cancel this run?", "quit with runs live?"."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ChoiceScreen(ModalScreen[str]):
    """Dismissed with the id of the answer chosen; Escape chooses ``escape``'s answer."""

    BINDINGS = [("escape", "escape", "Back")]
    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: auto; max-width: 90%; height: auto; padding: 1 2;
        border: round $primary; background: $surface;
    }
    ChoiceScreen Label { width: auto; max-width: 76; margin-bottom: 1; }
    ChoiceScreen Horizontal { width: auto; height: auto; }
    ChoiceScreen Button { margin-right: 2; }
    """

    def __init__(self, question: str, answers: list[tuple[str, str]], escape: str) -> None:
        """``answers`` are (id, label) pairs, the first one focused: the default."""
        super().__init__()
        self.question = question
        self.answers = answers
        self.escape = escape

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, markup=False)
            with Horizontal():
                for answer_id, label in self.answers:
                    yield Button(label, id=f"answer-{answer_id}")

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        assert event.button.id is not None
        self.dismiss(event.button.id.removeprefix("answer-"))

    def action_escape(self) -> None:
        self.dismiss(self.escape)
