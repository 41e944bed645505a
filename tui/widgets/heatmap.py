"""The heatmap panel: a line-API widget over :mod:`tui.heatmap_render`."""

from __future__ import annotations

import numpy as np
from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

from themes.colormaps import COLORMAPS, default_cmap, value_range
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
        self.points: np.ndarray | None = None
        self.contour: float | None = None
        self.labels: tuple[tuple[float, float, str], ...] = ()  # text written over the field
        self._strips: list[Strip] = []
        self._rendered_for: tuple[int, int, int] | None = None
        self._version = 0
        self.chosen_cmap: str | None = None  # None: the default for the frame (signed or not)
        self.range_mode = "auto"
        self.fixed_range: tuple[float, float] | None = None

    RANGE_MODES = ("auto", "fixed", "symmetric")

    def show(
        self,
        data: np.ndarray,
        signed: bool = False,
        points: np.ndarray | None = None,
        contour: float | None = None,
        labels: tuple[tuple[float, float, str], ...] = (),
    ) -> None:
        self.data, self.signed, self.points, self.contour = data, signed, points, contour
        self.labels = labels
        self._changed()

    def _changed(self) -> None:
        self._version += 1
        self.refresh()

    @property
    def cmap(self) -> str:
        return self.chosen_cmap or default_cmap(self.signed)

    def next_cmap(self) -> str:
        """Cycle through the colour maps, starting from the one in use."""
        names = list(COLORMAPS)
        self.chosen_cmap = names[(names.index(self.cmap) + 1) % len(names)]
        self._changed()
        return self.chosen_cmap

    def next_range_mode(self) -> str:
        """auto (each frame's own min and max), fixed (frozen now) or symmetric about 0."""
        self.range_mode = self.RANGE_MODES[(self.RANGE_MODES.index(self.range_mode) + 1) % 3]
        self.fixed_range = self.value_range() if self.range_mode == "fixed" else None
        self._changed()
        return self.range_mode

    def value_range(self) -> tuple[float, float]:
        if self.data is None:
            return 0.0, 1.0
        if self.range_mode == "fixed" and self.fixed_range is not None:
            return self.fixed_range
        return value_range(self.data, self.signed or self.range_mode == "symmetric")

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
        vrange = self.value_range()
        lines = render_lines(
            self.data, width, height - 1, self.cmap, vrange, self.colour,
            self.points, self.contour, self.labels,
        )  # fmt: skip
        # A picture shows its own colours: it has no colour bar.
        lines.append([] if self.data.ndim == 3 else colour_bar(width, self.cmap, vrange, self.colour))
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
