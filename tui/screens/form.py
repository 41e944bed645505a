"""The parameter form of one lab: every parameter, the device and the seed."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select

from labs import paths
from labs.devices import available
from labs.params import ParamError, check_seed
from labs.registry import Lab
from labs.runner import RunRequest
from tui.messages import StartRun
from tui.widgets.param_field import ParamField


class FormScreen(Screen[None]):
    BINDINGS = [("escape", "app.pop_screen", "Back"), ("ctrl+r", "run", "Run")]

    def __init__(self, lab: Lab) -> None:
        super().__init__()
        self.lab = lab

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="form"):
            yield Label(f"{self.lab.title} — {self.lab.summary}", id="form-title", markup=False)
            for spec in self.lab.specs:
                yield ParamField(spec)
            with Grid(id="run-options"):
                yield Label("device", classes="param-title")
                devices = [(d.label, d.name) for d in available()]
                yield Select(devices, value="auto", allow_blank=False, compact=True, id="device")
                yield Label("seed", classes="param-title")
                yield Input(value="0", type="integer", compact=True, id="seed")
            yield Label("", id="form-error", markup=False)
            yield Button("Run  (Enter / Ctrl+R)", variant="primary", id="run")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.lab.name
        self._show_relevant_fields()
        self.query(Input).first().focus()

    @on(Select.Changed)
    def _show_relevant_fields(self) -> None:
        """Show only the parameters that matter for the current choices (say, the equation),
        with the defaults those choices give."""
        fields = list(self.query(ParamField))
        values = {f.spec.name: f.text for f in fields}
        for field in fields:
            field.display = field.spec.applies(values)
            field.follow_default(values)

    @on(Input.Changed)
    def _check_field(self, event: Input.Changed) -> None:
        field = next((a for a in event.input.ancestors if isinstance(a, ParamField)), None)
        if field is not None:
            field.validate()

    @on(Input.Submitted)
    @on(Button.Pressed, "#run")
    def _submit(self) -> None:
        self.action_run()

    def _refuse(self, message: str) -> None:
        """Say why the run did not start: in a notification, and below the form."""
        self.query_one("#form-error", Label).update(message)
        self.notify(message, title="Not started", severity="error")

    def action_run(self) -> None:
        # Hidden fields keep their values but are not checked: they do not apply.
        fields = [f for f in self.query(ParamField) if f.display]
        errors = [e for e in (f.validate() for f in fields) if e]
        if errors:
            self._refuse(f"Fix {len(errors)} field(s) first: {errors[0]}")
            return
        try:
            params = self.lab.build_params({f.spec.name: f.text for f in fields})
        except ParamError as exc:  # cross-field checks, such as the stable time step
            self._refuse(str(exc))
            return
        try:
            seed = check_seed(int(self.query_one("#seed", Input).value or "0"))
        except ParamError as exc:
            self._refuse(str(exc))
            return
        except ValueError:
            self._refuse("seed must be a whole number")
            return
        device = str(self.query_one("#device", Select).value)
        request = RunRequest(self.lab, params, device, seed)
        try:
            request.check(getattr(self.app, "runs_dir", paths.runs_dir()))
        except ParamError as exc:  # what needs the runs folder: a run to resume
            self._refuse(str(exc))
            return
        self.query_one("#form-error", Label).update("")
        self.post_message(StartRun(request))
