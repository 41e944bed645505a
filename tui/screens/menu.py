"""The first screen: the labs, one line each."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList

from labs.registry import all_labs
from tui.messages import OpenForm
from tui.widgets.lab_list import LabList


class MenuScreen(Screen[None]):
    BINDINGS = [("h", "app.runs", "Runs")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Choose a lab (↑↓ or j k, Enter)", id="menu-hint")
        yield LabList(list(all_labs().values()))
        yield Footer()

    @on(OptionList.OptionSelected, "#lab-list")
    def open_lab(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        self.post_message(OpenForm(event.option.id))
