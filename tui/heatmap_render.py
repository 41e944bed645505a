"""Render a 2-D field as terminal cells: the one renderer behind the TUI's
heatmap widget and the headless live view.

Colour mode draws half blocks ("▀"): the foreground colours the upper data
row and the background the lower one, so each character shows two rows and
cells come out square. Runs of equal cells become one Segment, and styles
come from a per-palette cache of at most 32x32 entries (Textual's style cache
holds about a thousand), which keeps a 120x60 frame to a few milliseconds.
Without colour, one data row per line is drawn with an ASCII ramp.

Markers (a frame's points, and the cells its contour line crosses) and its
labels' characters replace single cells afterwards, so a frame without them
costs nothing extra.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from labs.events import Frame
from themes.colormaps import ASCII_RAMP, COLORMAPS, LEVELS, default_cmap, quantize, value_range

UPPER_HALF = "▀"
# Marker glyphs: (colour, no colour) for class 0, class 1, and the contour line.
CLASS_GLYPHS = (("○", "o"), ("●", "x"))
CONTOUR_GLYPH = ("·", "|")  # "|" is not in the ASCII ramp


class Runs:
    """Segments of runs of equal cells, by (colour pair code, length): made once, then reused
    frame after frame. A subclass says which style a code is."""

    def __init__(self) -> None:
        self._runs: dict[tuple[int, int], Segment] = {}

    def style(self, code: int) -> Style:
        raise NotImplementedError

    def run(self, code: int, length: int) -> Segment:
        segment = self._runs.get((code, length))
        if segment is None:
            if len(self._runs) > 200_000:
                self._runs.clear()
            segment = self._runs[code, length] = Segment(UPPER_HALF * length, self.style(code))
        return segment


class Palette(Runs):
    """A colour map's styles: one per (upper, lower) level pair, made once."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name
        colours = [Color.from_rgb(*map(int, rgb)) for rgb in COLORMAPS[name]]
        self.pairs = [Style(color=upper, bgcolor=lower) for upper in colours for lower in colours]

    def style(self, code: int) -> Style:
        return self.pairs[code]

    def solid(self, level: int) -> Style:
        return self.pairs[level * LEVELS + level]


@lru_cache(maxsize=8)
def palette(name: str) -> Palette:
    return Palette(name)


RGB_STEPS = 8  # levels per channel for pictures: 512 colours, styles made as they are met


class RgbPalette(Runs):
    """Styles for pictures: one per (upper, lower) colour pair, made on first use."""

    def __init__(self) -> None:
        super().__init__()
        step = 255 / (RGB_STEPS - 1)
        self.colours = [
            Color.from_rgb(round(r * step), round(g * step), round(b * step))
            for r in range(RGB_STEPS)
            for g in range(RGB_STEPS)
            for b in range(RGB_STEPS)
        ]

    def style(self, code: int) -> Style:
        upper, lower = divmod(code, RGB_STEPS**3)
        return Style(color=self.colours[upper], bgcolor=self.colours[lower])


RGB = RgbPalette()


def rgb_codes(picture: np.ndarray) -> np.ndarray:
    """Each pixel's colour index: channels quantised to RGB_STEPS levels."""
    levels = np.clip(np.rint(np.nan_to_num(picture) * (RGB_STEPS - 1)), 0, RGB_STEPS - 1).astype(np.int64)
    return (levels[..., 0] * RGB_STEPS + levels[..., 1]) * RGB_STEPS + levels[..., 2]


def fit(shape: tuple[int, int], width: int, rows: int) -> tuple[int, int]:
    """The largest (columns, data rows) within width x rows that keeps the field's aspect."""
    h, w = shape
    scale = min(width / w, rows / h)
    return max(1, min(width, round(w * scale))), max(1, min(rows, round(h * scale)))


def _resample(data: np.ndarray, cols: int, rows: int) -> np.ndarray:
    """Nearest-neighbour resampling: cheap, and faithful to sharp features."""
    h, w = data.shape[:2]
    yi = (np.arange(rows) * h // rows).clip(0, h - 1)
    xi = (np.arange(cols) * w // cols).clip(0, w - 1)
    return data[np.ix_(yi, xi)]


def render_lines(
    data: np.ndarray,
    width: int,
    height: int,
    cmap: str,
    vrange: tuple[float, float],
    colour: bool = True,
    points: np.ndarray | None = None,
    contour: float | None = None,
    labels: tuple[tuple[float, float, str], ...] = (),
) -> list[list[Segment]]:
    """``height`` lines of at most ``width`` cells showing ``data``, centred, with its markers
    and its labels (written over them)."""
    if width < 1 or height < 1 or data.size == 0:
        return []
    vmin, vmax = vrange
    # A character cell is about twice as tall as wide: half blocks draw two data
    # rows per cell; the ASCII ramp draws each data cell two characters wide.
    shape = data.shape[:2]
    if colour:
        cols, rows = fit(shape, width, 2 * height)
        rows += rows % 2
    else:
        cols, rows = fit(shape, width // 2, height)
    grid = _resample(np.asarray(data, dtype=np.float64), cols, rows)
    picture = grid.ndim == 3
    if picture:
        # Pictures: the ASCII ramp and the markers read their luminance.
        rgb, grid = grid, grid @ np.array([0.299, 0.587, 0.114])
    drawn = cols if colour else 2 * cols
    pad_left = (width - drawn) // 2
    left = [Segment(" " * pad_left)] if pad_left else []
    if colour:
        if picture:
            levels, run = rgb_codes(rgb), RGB.run
            codes = levels[0::2] * RGB_STEPS**3 + levels[1::2]
        else:
            levels, run = quantize(grid, vmin, vmax), palette(cmap).run
            codes = levels[0::2] * LEVELS + levels[1::2]
        # Runs of equal cells over the whole frame at once; a run never crosses a line.
        flat = codes.ravel()
        change = np.ones(flat.size, dtype=bool)
        change[1:] = flat[1:] != flat[:-1]
        change[::cols] = True
        starts = np.flatnonzero(change)
        lengths = np.diff(np.append(starts, flat.size))
        lines = [list(left) for _ in range(codes.shape[0])]
        for line, code, length in zip(
            (starts // cols).tolist(), flat[starts].tolist(), lengths.tolist(), strict=True
        ):
            lines[line].append(run(code, length))
    else:
        levels = quantize(grid, vmin, vmax, len(ASCII_RAMP))
        lines = [left + [Segment("".join(ASCII_RAMP[i] * 2 for i in row))] for row in levels]
    marks = _marks(grid, colour, points, contour)
    marks.update(_label_marks(grid.shape, colour, labels))
    if marks:
        for (line, at), glyph in marks.items():
            lines[line] = _put(lines[line], pad_left + at, glyph, colour)
    return lines


def _marks(
    grid: np.ndarray, colour: bool, points: np.ndarray | None, contour: float | None
) -> dict[tuple[int, int], str]:
    """{(line, character): glyph}; points drawn over the contour."""
    rows, cols = grid.shape
    per_line = 2 if colour else 1  # data rows a line shows
    step = 1 if colour else 2  # characters a data column takes
    marks: dict[tuple[int, int], str] = {}
    if contour is not None:
        above = grid >= contour
        edge = np.zeros_like(above)
        edge[:, :-1] |= above[:, :-1] != above[:, 1:]
        edge[:-1, :] |= above[:-1, :] != above[1:, :]
        glyph = CONTOUR_GLYPH[0 if colour else 1]
        for row, col in zip(*np.nonzero(edge), strict=True):
            marks[int(row) // per_line, int(col) * step] = glyph
    if points is not None and len(points):
        across = np.clip((points[:, 0] * cols).astype(int), 0, cols - 1)
        down = np.clip((points[:, 1] * rows).astype(int), 0, rows - 1)
        for col, row, cls in zip(across.tolist(), down.tolist(), points[:, 2].tolist(), strict=True):
            marks[row // per_line, col * step] = CLASS_GLYPHS[int(cls) % 2][0 if colour else 1]
    return marks


def _label_marks(
    shape: tuple[int, ...], colour: bool, labels: tuple[tuple[float, float, str], ...]
) -> dict[tuple[int, int], str]:
    """{(line, character): character} of each label, written rightwards from where it is placed
    and cut at the field's right edge."""
    rows, cols = shape[:2]
    per_line = 2 if colour else 1
    step = 1 if colour else 2
    marks: dict[tuple[int, int], str] = {}
    for x, y, text in labels:
        line = min(max(int(y * rows), 0), rows - 1) // per_line
        at = min(max(int(x * cols), 0), cols - 1) * step
        for i, char in enumerate(text[: cols * step - at]):
            marks[line, at + i] = char
    return marks


def _put(line: list[Segment], at: int, glyph: str, colour: bool) -> list[Segment]:
    """The line with the cell at ``at`` replaced by ``glyph`` over that cell's background."""
    before, cell, after = Segment.divide(line, [at, at + 1, Segment.get_line_length(line)])
    if not cell:
        return line
    style = cell[0].style
    if colour and style is not None and style.bgcolor is not None:
        # A glyph that stands out from the background: dark on light, light on dark.
        r, g, b = style.bgcolor.get_truecolor()
        ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 140 else "white"
        style = Style(color=ink, bgcolor=style.bgcolor, bold=True)
    return [*before, Segment(glyph, style), *after]


def colour_bar(width: int, cmap: str, vrange: tuple[float, float], colour: bool = True) -> list[Segment]:
    """``min ▮▮▮…▮ max`` in one line of ``width`` cells."""
    low, high = f"{vrange[0]:.3g} ", f" {vrange[1]:.3g}"
    bar = max(0, width - len(low) - len(high))
    if not colour:
        ramp = "".join(ASCII_RAMP[i * len(ASCII_RAMP) // max(bar, 1)] for i in range(bar))
        return [Segment(low), Segment(ramp), Segment(high)]
    pal = palette(cmap)
    cells = [Segment(" ", pal.solid(i * LEVELS // max(bar, 1))) for i in range(bar)]
    return [Segment(low), *cells, Segment(high)]


class HeatmapRenderable:
    """A Rich renderable of a frame (used by the headless live view): its title, its caption
    (wrapped to the width), the field in ``height`` lines at most, and its colour bar."""

    def __init__(self, frame: Frame, height: int, title: str = ""):
        self.frame = frame
        self.height = height
        self.title = title

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        frame = self.frame
        colour = not console.no_color and console.color_system is not None
        cmap = default_cmap(frame.signed)
        vrange = value_range(frame.data, frame.signed)
        cols = fit(
            frame.data.shape, options.max_width // (1 if colour else 2), self.height * (2 if colour else 1)
        )[0]
        width = cols if colour else 2 * cols
        if self.title:
            yield Segment(self.title)
            yield Segment.line()
        if frame.caption:
            yield Text(frame.caption, style="dim")
        lines = render_lines(
            frame.data, width, self.height, cmap, vrange, colour, frame.points, frame.contour, frame.labels
        )
        for line in lines:
            yield from line
            yield Segment.line()
        if frame.data.ndim == 2:  # a picture shows its own colours: no bar
            yield from colour_bar(width, cmap, vrange, colour)
            yield Segment.line()
