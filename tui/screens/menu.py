"""The first screen: the labs, one line each."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Label, OptionList

from labs.registry import NO_LABS, installed
from tui.messages import OpenForm
from tui.widgets.footer import Footer
from tui.widgets.lab_list import LabList


class MenuScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "h", "app.runs", "Runs",
            tooltip="the runs board: live runs first (status, progress, elapsed, ETA, device, key metric, "
            "updated every second), then the recorded ones",
        ),
    ]  # fmt: skip

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Choose a lab (↑↓ or j k, Enter)", id="menu-hint")
        yield LabList(list(installed().labs.values()))
        yield Footer()

    def on_mount(self) -> None:
        if not installed().labs:
            self.notify(NO_LABS, title="No labs", severity="error", timeout=30)
        for error in installed().errors.values():  # a lab package that is broken: the others still work
            self.notify(error, title="A lab could not be loaded", severity="error", timeout=10)

    @on(OptionList.OptionSelected, "#lab-list")
    def open_lab(self, event: OptionList.OptionSelected) -> None:
        assert event.option.id is not None
        # Keys typed while the form is being made must not move the menu and open another lab.
        event.option_list.disabled = True
        self.post_message(OpenForm(event.option.id))

    def on_screen_resume(self) -> None:
        lab_list = self.query_one(LabList)
        lab_list.disabled = False
        lab_list.focus()
