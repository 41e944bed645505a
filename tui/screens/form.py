"""The parameter form of one lab: every parameter, the device and the seed."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select

from labs import paths
from labs.devices import available
from labs.params import ParamError, check_seed, to_dict
from labs.registry import Lab
from labs.runner import RunRequest
from labs.sweep import Axis, grid, sweep_id
from tui.messages import StartRun, StartSweep
from tui.widgets.param_field import ParamField


class FormScreen(Screen[None]):
    BINDINGS = [
        ("escape", "app.pop_screen", "Back"),
        ("ctrl+r", "run", "Run"),
        ("ctrl+o", "defaults", "Defaults"),
    ]

    def __init__(self, lab: Lab, like: RunRequest | None = None, like_what: str = "") -> None:
        """The form of ``lab``, filled with ``like``'s values (``like_what`` says whose) or the defaults."""
        super().__init__()
        self.lab = lab
        self.like = like
        self.like_what = like_what

    def compose(self) -> ComposeResult:
        values = to_dict(self.like.params) if self.like is not None else {}
        devices = [(d.label, d.name) for d in available()]
        device = self.like.device if self.like is not None else "auto"
        if device not in [name for _, name in devices]:
            device = "auto"  # the GPU it ran on is not here
        yield Header()
        with VerticalScroll(id="form"):
            title = f"{self.lab.title} — {self.lab.summary}"
            if self.like is not None:
                title += f"\n(filled with {self.like_what}; Ctrl+O puts the defaults back)"
            yield Label(title, id="form-title", markup=False)
            for spec in self.lab.specs:
                yield ParamField(spec, values.get(spec.name, spec.default))
            with Grid(id="run-options"):
                yield Label("device", classes="param-title")
                yield Select(devices, value=device, allow_blank=False, compact=True, id="device")
                yield Label("seed", classes="param-title")
                seed = str(self.like.seed) if self.like is not None else "0"
                yield Input(value=seed, type="integer", compact=True, id="seed")
            yield Label("", id="form-error", markup=False)
            yield Button("Run  (Enter / Ctrl+R)", variant="primary", id="run")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.lab.name
        self._show_relevant_fields()
        self.query(Input).first().focus()

    def action_defaults(self) -> None:
        """Every field back to the lab's default, the device to auto and the seed to 0."""
        self.app.switch_screen(FormScreen(self.lab))

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
            seed = check_seed(int(self.query_one("#seed", Input).value or "0"))
        except ParamError as exc:
            self._refuse(str(exc))
            return
        except ValueError:
            self._refuse("seed must be a whole number")
            return
        device = str(self.query_one("#device", Select).value)
        axes = [Axis(f.spec.name, several) for f in fields if (several := f.sweep) is not None]
        plain = {f.spec.name: f.text for f in fields if f.sweep is None}
        the_sweep = sweep_id(self.lab.name) if axes else None
        requests = []
        for setting, _ in grid(axes, 1, seed):
            where = " for " + ", ".join(f"{k}={v}" for k, v in setting.items()) if setting else ""
            try:
                params = self.lab.build_params({**plain, **setting})
                request = RunRequest(self.lab, params, device, seed, sweep=the_sweep)
                # What needs the runs folder (a run to resume), and the cross-field checks
                # (such as the stable time step) of each setting.
                request.check(getattr(self.app, "runs_dir", paths.runs_dir()))
            except ParamError as exc:
                self._refuse(f"{exc}{where}")
                return
            requests.append(request)
        self.query_one("#form-error", Label).update("")
        self.post_message(StartSweep(requests) if axes else StartRun(requests[0]))
