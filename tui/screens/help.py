"""The keys, one screen: every binding of every screen (see :mod:`tui.keys`)."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.segment import Segment
from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import TEXT_FIELDS, rows


class KeptLines:
    """A Rich renderable drawn once for each width, its lines kept. Textual draws a widget's
    Rich renderable anew whenever the widget's styles change, as at each change of theme, and
    twice over (for its height, then for its lines): the help's table took 15-20 ms a time
    here, 40-70 ms as the help was shown after a change of theme. The colours are the
    widget's, laid over these lines by Textual, so the lines kept hold for every theme (and
    for the app's one console, whose other options do not change)."""

    def __init__(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        self._lines: dict[int, list[list[Segment]]] = {}
        self._measurements: dict[int, Measurement] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        if width not in self._lines:
            # All its lines, whatever height this draw asks for (Textual asks for none).
            lines = console.render_lines(self._renderable, options.update(height=None), pad=False)
            self._lines[width] = lines
        for line in self._lines[width]:
            yield from line
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = options.max_width
        if width not in self._measurements:
            self._measurements[width] = Measurement.get(console, options, self._renderable)
        return self._measurements[width]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "dismiss", "Close", tooltip="close the help"),
        Binding("question_mark", "dismiss", "Close", tooltip="close the help"),
        Binding("q", "dismiss", "Close", tooltip="close the help"),
        # A modal screen takes no keys of the app's: this one the help can keep.
        Binding("t", "app.next_theme", "Theme", tooltip="next theme, the screen below the help too"),
    ]

    def compose(self) -> ComposeResult:
        table = Table(title="meetup-lab keys", caption=TEXT_FIELDS, expand=True)
        table.add_column("where", style="bold")
        table.add_column("key")
        table.add_column("does")
        for row in rows():
            table.add_row(row.where, row.keys.replace("`", ""), row.does)
        with VerticalScroll(id="help-body"):
            yield Static(KeptLines(table))
