"""One parameter in the form: its name, type and default, an input, and its help or error."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select, Switch

from labs.params import ParamError, ParamSpec
from labs.sweep import swept


class ParamField(Vertical):
    DEFAULT_CSS = """
    ParamField { height: auto; layout: grid; grid-size: 2; grid-columns: 30 1fr; }
    ParamField .param-title { text-style: bold; }
    ParamField .param-help { color: $text-muted; column-span: 2; padding-left: 2; }
    ParamField.-invalid .param-help { color: $error; }
    ParamField.-swept .param-help { color: $accent; }
    ParamField Input, ParamField Select { width: 1fr; max-width: 40; }
    """

    def __init__(self, spec: ParamSpec, value: Any = None, default: Any = None) -> None:
        """The field of ``spec``, showing ``value`` (a past run's, say) or ``default``, the
        default for the other fields' values (``spec``'s own if None)."""
        super().__init__(id=f"param-{spec.name}")
        self.spec = spec
        default = spec.default if default is None else default
        self._value = default if value is None else value
        self._default_shown = as_text(default)
        # Once the value shown differs from the default shown, it stays: the user's (or the run's).
        self._typed = as_text(self._value) != self._default_shown
        self._message: str | None = None  # an error or a sweep's note, in place of the help

    def compose(self) -> ComposeResult:
        spec = self.spec
        yield Label(f"{spec.name} ({spec.type_name})", classes="param-title", markup=False)
        if spec.choices:
            yield Select(
                [(c, c) for c in spec.choices],
                value=as_text(self._value) if as_text(self._value) in spec.choices else spec.default,
                allow_blank=False,
                compact=True,
                id="value",
            )
        elif spec.type is bool:
            yield Switch(value=as_text(self._value) == "true", id="value")
        else:
            yield Input(value=as_text(self._value), compact=True, id="value")
        yield Label(self._message or self.help_text, classes="param-help", markup=False)

    def rows(self, width: int) -> int:
        """About how many rows the field takes on a screen ``width`` columns wide: its input's
        (a switch is three high) and its help's, which wraps."""
        help_width = max(20, width - 6)  # the form's padding and the help's indent
        return (3 if self.spec.type is bool else 1) + -(-len(self.help_text) // help_width)

    @property
    def help_text(self) -> str:
        return f"{self.spec.help} ({self.spec.allowed})"

    @property
    def text(self) -> str:
        if not self.children:  # not composed yet (mounted a moment ago): the value it will show
            return as_text(self._value)
        widget = self.query_one("#value")
        if isinstance(widget, Switch):
            return as_text(widget.value)
        assert isinstance(widget, Input | Select)
        return str(widget.value)

    def follow_default(self, values: dict[str, str]) -> None:
        """Show the default for the others' values (say, the wave's larger grid), unless the
        user has set a value of their own."""
        self._typed = self._typed or self.text != self._default_shown
        self._default_shown = as_text(self.spec.default_for(values))
        if self._typed or self.text == self._default_shown:
            return
        if not self.children:
            self._value = self._default_shown
            return
        widget = self.query_one("#value")
        if isinstance(widget, Switch):
            widget.value = self._default_shown == "true"
        else:
            assert isinstance(widget, Input | Select)
            widget.value = self._default_shown

    def validate(self) -> str | None:
        """Check this field alone; show and return the error, if any. Several values
        (``0.1,0.2``) are a sweep of them, which the help line counts."""
        try:
            values = swept(self.spec, self.text)
            error = None
        except ParamError as exc:
            values, error = None, str(exc)
        self.set_class(error is not None, "-invalid")
        self.set_class(values is not None, "-swept")
        note = f"swept over {len(values)} values: {', '.join(values)}" if values else None
        self._show(error or note)
        return error

    def flag(self, error: str) -> None:
        """Show an error of this field's value together with the others' (a cross-field
        check)."""
        self.set_class(True, "-invalid")
        self._show(error)

    def _show(self, message: str | None) -> None:
        """``message`` in place of the help (the help if None), now or once composed."""
        self._message = message
        if self.children:
            self.query_one(".param-help", Label).update(message or self.help_text)

    @property
    def sweep(self) -> tuple[str, ...] | None:
        """The values this field sweeps, or None for one value (or a bad one)."""
        try:
            return swept(self.spec, self.text)
        except ParamError:
            return None


def as_text(value: object) -> str:
    """A value as the form shows it (and as a user would type it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(as_text(v) for v in value)
    return str(value)
