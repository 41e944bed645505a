"""The heatmap panel: a line-API widget over :mod:`tui.heatmap_render`."""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

from themes.colormaps import default_cmap, value_range
from tui.heatmap_render import colour_bar, render_lines


class Heatmap(Widget):
    """Shows the latest frame; the last line is the colour bar with min and max."""

    DEFAULT_CSS = """
    Heatmap { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.data: np.ndarray | None = None
        self.signed = False
        self._strips: list[Strip] = []
        self._rendered_for: tuple[int, int, int] | None = None
        self._version = 0

    def show(self, data: np.ndarray, signed: bool = False) -> None:
        self.data, self.signed = data, signed
        self._version += 1
        self.refresh()

    @property
    def colour(self) -> bool:
        return not self.app.no_color

    def _build_strips(self) -> None:
        width, height = self.size
        key = (width, height, self._version)
        if key == self._rendered_for:
            return
        self._rendered_for = key
        if self.data is None or height < 2:
            self._strips = []
            return
        cmap = default_cmap(self.signed)
        vrange = value_range(self.data, self.signed)
        lines = render_lines(self.data, width, height - 1, cmap, vrange, self.colour)
        lines.append(colour_bar(width, cmap, vrange, self.colour))
        self._strips = [Strip(line).apply_style(self.rich_style) for line in lines]

    def render_line(self, y: int) -> Strip:
        self._build_strips()
        if y < len(self._strips) - 1:
            return self._strips[y].extend_cell_length(self.size.width, self.rich_style)
        if self._strips and y == self.size.height - 1:
            return self._strips[-1].extend_cell_length(self.size.width, self.rich_style)
        if self.data is None and y == self.size.height // 2:
            text = "no frame yet".center(self.size.width)
            return Strip([Segment(text, self.rich_style)])
        return Strip.blank(self.size.width, self.rich_style)
