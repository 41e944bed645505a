"""Text that changes several times a second: repainted in place, laid out again only when
its number of lines changes (a new layout of the run screen costs more than the repaint)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class Lines(Static):
    DEFAULT_CSS = """
    Lines { height: auto; }
    """

    _count = -1  # lines shown; none yet

    def show_lines(self, text: Content | str) -> None:
        count = (text.plain if isinstance(text, Content) else text).count("\n") + 1
        self.update(text, layout=count != self._count)
        self._count = count
