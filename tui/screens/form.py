"""The parameter form of one lab: every parameter, the device and the seed."""

from __future__ import annotations

import re

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, Select, Switch

from labs import paths
from labs.devices import available
from labs.params import ParamError, check_seed, to_dict
from labs.registry import Lab
from labs.runner import RunRequest
from labs.sweep import Axis, grid, sweep_id
from tui.messages import StartRun, StartSweep
from tui.widgets.footer import Footer
from tui.widgets.param_field import ParamField, as_text


class FormScreen(Screen[None]):
    # The first text field has the focus from the start (Enter there runs): a change of focus
    # once the form is up would restyle the whole form again (a tenth of a second on two cores).
    AUTO_FOCUS = "#form Input"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", tooltip="back to the menu"),
        Binding(
            "ctrl+r", "run", "Run",
            tooltip="run; a field given several values (0.1,0.2, lists in brackets as on the command line) "
            "makes it a sweep: every setting is checked, the runs start (queued for the device) and the runs "
            "board opens. Choices (the drop-downs) are swept from the command line",
        ),
        Binding(
            "ctrl+o", "defaults", "Defaults",
            tooltip="every field back to the lab's default (a form opens with the values that lab last ran "
            "with)",
        ),
    ]  # fmt: skip

    def __init__(self, lab: Lab, like: RunRequest | None = None, like_what: str = "") -> None:
        """The form of ``lab``, filled with ``like``'s values (``like_what`` says whose) or the defaults."""
        super().__init__()
        self.lab = lab
        self.like = like
        self.like_what = like_what
        self._flagged: set[str] = set()  # fields showing a check of several fields' error
        # Made first: the fields the screen has room for; once the form is drawn, the rest.
        self._whole = False

    def compose(self) -> ComposeResult:
        like = to_dict(self.like.params) if self.like is not None else {}
        # Each parameter's value to start from: the run's, or the default for the choices made.
        self._start_values = {spec.name: like.get(spec.name) for spec in self.lab.specs}
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
            # Only the parameters that apply to the choices shown: the others are made when a
            # choice needs them (a widget costs a few milliseconds to make on two cores). And
            # only those the screen has room for: the rest once the form has been drawn.
            yield from self._new_fields(room=self.app.size.height - 2 - title.count("\n"))
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

    def on_screen_resume(self) -> None:
        if not self._whole:
            self.call_after_refresh(self._show_the_rest)  # after the first paint

    def _show_the_rest(self) -> None:
        """The fields below the first screenful, unless the form was left (or covered, by the
        help say) before it was drawn: then when it is shown again."""
        if self.app.screen is self:
            self._whole = True
            self._show_relevant_fields()

    async def action_defaults(self) -> None:
        """Every field back to the lab's default, the device to auto and the seed to 0."""
        await self.app.switch_screen(FormScreen(self.lab))
        self.app.uninstall_screen(self)  # the menu makes this lab's form anew: no edits come back

    def _new_fields(self, room: int | None = None) -> list[ParamField]:
        """The fields, not made yet, of the parameters that apply now, in the lab's order:
        as many as fill ``room`` rows, if given."""
        made = {field.spec.name: field for field in self.query(ParamField)}
        values = {name: field.text for name, field in made.items()}
        new: list[ParamField] = []
        width = self.app.size.width
        for spec in self.lab.specs:
            if room is not None and room <= 0:
                break
            if spec.name not in made:
                start = self._start_values[spec.name]
                values[spec.name] = as_text(spec.default_for(values) if start is None else start)
                if spec.applies(values):
                    new.append(ParamField(spec, start, spec.default_for(values)))
                    room = None if room is None else room - new[-1].rows(width)
        return new

    @on(Select.Changed)
    def _show_relevant_fields(self) -> None:
        """Show only the parameters that matter for the current choices (say, the equation),
        with the defaults those choices give; a field hidden keeps its value."""
        fields = list(self.query(ParamField))
        # Made for their choices: they apply, and show their defaults. (A choice's first value,
        # as its widget is mounted, makes none: those below the first screenful wait.)
        new = self._new_fields() if self._whole else []
        for field in new:
            later = [s.name for s in self.lab.specs[self.lab.specs.index(field.spec) :]]
            anchor = next((f for f in fields if f.spec.name in later), None)
            self.query_one("#form").mount(field, before=anchor or self.query_one("#run-options"))
        values = {f.spec.name: f.text for f in fields + new}
        for field in fields:
            field.display = field.spec.applies(values)
            field.follow_default(values)
        self._check_together()

    @on(Input.Changed)
    def _check_field(self, event: Input.Changed) -> None:
        field = next((a for a in event.input.ancestors if isinstance(a, ParamField)), None)
        if field is not None and field.validate() is None:
            self._check_together()

    @on(Switch.Changed)
    def _check_together(self) -> None:
        """The checks that take several fields (a stable time step for the diffusivity), as
        the user types: the error shows on the field its message names (``dt=0.3 is …``),
        else below the form. A field's own error comes first; a sweep is checked at Run."""
        every = {f.spec.name: f for f in self.query(ParamField)}
        for name in self._flagged:  # shown or hidden now: its own check again, the others changed
            every[name].validate()
        self._flagged = set()
        fields = {name: f for name, f in every.items() if f.display}
        below = self.query_one("#form-error", Label)
        if any(f.has_class("-invalid") or f.sweep is not None for f in fields.values()):
            return
        try:
            self.lab.build_params({name: f.text for name, f in fields.items()})
        except ParamError as exc:
            named = re.match(r"(\w+)=", str(exc))
            field = fields.get(named.group(1)) if named else None
            if field is not None:
                field.flag(str(exc))
                self._flagged.add(field.spec.name)
            else:
                below.update(str(exc))
            return
        below.update("")

    @on(Input.Submitted)
    @on(Button.Pressed, "#run")
    def _submit(self) -> None:
        self.action_run()

    def _refuse(self, message: str) -> None:
        """Say why the run did not start: in a notification, and below the form."""
        self.query_one("#form-error", Label).update(message)
        self.notify(message, title="Not started", severity="error")

    def action_run(self) -> None:
        # A key typed ahead can come before the fields below the first screenful (with the
        # values the lab last ran with) are made: they are made now, and give their values.
        self._whole = True
        self._show_relevant_fields()
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
