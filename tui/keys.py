"""Every key of the app, read off the screens' bindings: the help screen and the key
table of docs/screens.md are made from this, so neither can drift from what the keys do.

A binding's ``tooltip`` says what it does at length (the footer shows it on hover); its
description is the footer's word. Keys that Textual's own widgets handle (Tab between
fields, the arrows in a list) have no binding of ours and are listed in ``WIDGET_KEYS``.

``python -m tui.keys`` prints the table of docs/screens.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.binding import Binding, BindingType
from textual.keys import key_to_character

# Keys owned by Textual's widgets or by Textual itself, shown after a place's bindings.
WIDGET_KEYS: dict[str, list[tuple[str, str]]] = {
    "any screen": [
        ("Ctrl+Q", "quit, even from a text field"),
        ("Ctrl+P", "command palette: run a lab, open the runs board, change theme"),
    ],
    "menu": [("↑ ↓, Enter", "choose a lab")],
    "form": [
        ("Enter", "in a text field: run, as Ctrl+R does"),
        ("Tab, Shift+Tab", "next, previous field"),
    ],
    "run": [("↑ ↓ ← →", "scroll a table view, or the log once it has the focus (Tab)")],
    "runs": [("↑ ↓, Enter", "choose a run, open it: follow a live one, replay an ended one")],
}
# Said once, under the table: where the letters above do not reach.
TEXT_FIELDS = (
    "In a form's text field, letter keys (? t q …) type letters: Ctrl+R runs, Escape goes "
    "back, Ctrl+Q quits, Tab moves on."
)


@dataclass(frozen=True)
class KeyRow:
    where: str
    keys: str  # as a user types them: `?`, Ctrl+R, Shift+←
    does: str


NAMES = {
    "escape": "Escape", "enter": "Enter", "space": "Space", "tab": "Tab",
    "left": "←", "right": "→", "up": "↑", "down": "↓", "plus": "`+`", "minus": "`-`",
}  # fmt: skip


def key_display(key: str) -> str:
    """One key as the help shows it: a character in backticks, else its name (Ctrl+R, Shift+←)."""
    modifiers, _, base = key.rpartition("+")
    character = key_to_character(base)
    if not modifiers and character is not None and character.isprintable() and not character.isspace():
        return f"`{character}`"
    name = NAMES.get(base) or (base.upper() if base[1:].isdigit() else base.capitalize())
    return "".join(f"{m.capitalize()}+" for m in modifiers.split("+") if m) + name


def _bindings(bindings: list[BindingType]) -> list[tuple[str, str]]:
    rows = []
    for binding in bindings:
        if isinstance(binding, Binding):
            keys, description, tooltip = binding.key, binding.description, binding.tooltip
        else:
            keys, _, description = binding[0], binding[1], binding[2] if len(binding) > 2 else ""
            tooltip = ""
        shown = ", ".join(key_display(k.strip()) for k in keys.split(","))
        rows.append((shown, tooltip or description))
    return rows


def places() -> list[tuple[str, Any]]:
    """Each place a key works, with the class whose bindings hold its keys."""
    # Imported here: the app imports the help screen, which reads these.
    from tui.app import MeetupLabApp
    from tui.screens.compare import CompareScreen
    from tui.screens.form import FormScreen
    from tui.screens.help import HelpScreen
    from tui.screens.menu import MenuScreen
    from tui.screens.run import RunScreen
    from tui.screens.runs import RunsScreen
    from tui.widgets.lab_list import LabList

    return [
        ("any screen", MeetupLabApp),
        ("menu", MenuScreen),
        ("menu", LabList),
        ("form", FormScreen),
        ("run", RunScreen),
        ("runs", RunsScreen),
        ("compare", CompareScreen),
        ("help", HelpScreen),
    ]


def rows() -> list[KeyRow]:
    """Every key, place by place: its bindings, then its widgets' keys."""
    table: list[KeyRow] = []
    for where in dict.fromkeys(where for where, _ in places()):
        for owner in (owner for place, owner in places() if place == where):
            table += [KeyRow(where, keys, does) for keys, does in _bindings(list(owner.BINDINGS))]
        table += [KeyRow(where, keys, does) for keys, does in WIDGET_KEYS.get(where, [])]
    return table


def markdown() -> str:
    """The table of keys in docs/screens.md."""
    lines = ["| where | key | does |", "| --- | --- | --- |"]
    lines += [f"| {row.where} | {row.keys} | {row.does} |" for row in rows()]
    return "\n".join(lines) + f"\n\n{TEXT_FIELDS}\n"


if __name__ == "__main__":
    print(markdown(), end="")
