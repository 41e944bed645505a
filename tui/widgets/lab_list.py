"""The menu's list of labs, with vi keys."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from labs.registry import Lab


class LabList(OptionList):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, tooltip="next lab (as ↓)"),
        Binding("k", "cursor_up", "Up", show=False, tooltip="previous lab (as ↑)"),
    ]

    def __init__(self, labs: list[Lab]) -> None:
        options = [Option(Text.assemble((lab.name, "bold"), "\n", lab.summary), id=lab.name) for lab in labs]
        super().__init__(*options, id="lab-list")
