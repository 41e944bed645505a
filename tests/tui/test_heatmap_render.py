"""The heatmap renderer shared by the TUI widget and the headless view."""

from __future__ import annotations

import numpy as np

from themes.colormaps import ASCII_RAMP, COLORMAPS, LEVELS, value_range
from tui.heatmap_render import UPPER_HALF, colour_bar, palette, render_lines


def _text(line: list) -> str:
    return "".join(segment.text for segment in line)


def test_half_blocks_keep_the_aspect_and_fit_the_panel() -> None:
    field = np.random.default_rng(0).random((64, 64))
    lines = render_lines(field, width=80, height=20, cmap="viridis", vrange=(0.0, 1.0))
    # 20 lines hold 40 data rows, so the square field is drawn 40 columns wide.
    assert len(lines) == 20
    widths = {len(_text(line)) for line in lines}
    assert widths == {20 + 40}  # centred: 20 cells of padding on the left
    assert set(_text(lines[0]).strip()) == {UPPER_HALF}


def test_colours_follow_the_values() -> None:
    field = np.array([[0.0, 1.0], [0.0, 1.0]])
    (line,) = render_lines(field, width=2, height=1, cmap="viridis", vrange=(0.0, 1.0))
    low, high = COLORMAPS["viridis"][0], COLORMAPS["viridis"][-1]
    first, second = line[0].style, line[1].style
    assert first.color.triplet == tuple(low) and first.bgcolor.triplet == tuple(low)
    assert second.color.triplet == tuple(high)


def test_every_style_comes_from_the_palette() -> None:
    # A bounded set of styles keeps Textual's style cache hitting.
    lines = render_lines(np.random.default_rng(1).random((120, 120)), 120, 60, "inferno", (0.0, 1.0))
    pairs = {id(style) for style in palette("inferno").pairs}
    assert len(pairs) == LEVELS * LEVELS
    assert all(id(segment.style) in pairs for line in lines for segment in line if segment.style)


def test_ascii_ramp_without_colour() -> None:
    field = np.linspace(0, 1, 100).reshape(1, 100).repeat(20, axis=0)
    lines = render_lines(field, width=50, height=5, cmap="viridis", vrange=(0.0, 1.0), colour=False)
    text = _text(lines[0])
    # One data cell is two characters wide, so cells come out about square.
    assert len(lines) == 5 and len(text) == 50
    assert text[:2] == ASCII_RAMP[0] * 2 and text[-2:] == ASCII_RAMP[-1] * 2
    assert all(segment.style is None for line in lines for segment in line)


def test_colour_bar_names_min_and_max() -> None:
    bar = _text(colour_bar(40, "viridis", (-2.5, 7.25)))
    assert bar.startswith("-2.5 ") and bar.endswith(" 7.25") and len(bar) == 40


def test_signed_range_is_symmetric_and_nan_is_ignored() -> None:
    field = np.array([[-1.0, 3.0, np.nan]])
    assert value_range(field, signed=True) == (-3.0, 3.0)
    assert value_range(field, signed=False) == (-1.0, 3.0)


def test_points_and_the_contour_are_drawn_over_their_cells() -> None:
    # Left half 0, right half 1: the 0.5 contour runs down the middle.
    field = np.zeros((8, 8))
    field[:, 4:] = 1.0
    points = np.array([[0.05, 0.05, 1], [0.95, 0.95, 0]], np.float32)  # top-left x, bottom-right o
    lines = render_lines(field, 8, 4, "viridis", (0.0, 1.0), points=points, contour=0.5)
    rows = [_text(line) for line in lines]
    assert rows[0] == "●▀▀·▀▀▀▀"
    assert all(row[3] == "·" for row in rows[1:])  # the edge: column 3 differs from column 4
    assert rows[3][7] == "○"
    assert all(len(row) == 8 for row in rows)  # a marker replaces a cell, it adds none
    # On the dark left (viridis 0) the marker is light; on the bright right, dark.
    top_left = next(s for s in lines[0] if s.text == "●")
    bottom_right = next(s for s in lines[3] if s.text == "○")
    assert top_left.style.color.name == "white" and bottom_right.style.color.name == "black"
    ascii_rows = [_text(line) for line in render_lines(field, 16, 8, "viridis", (0.0, 1.0), False, points)]
    assert ascii_rows[0][0] == "x" and ascii_rows[7][14] == "o"


def test_labels_are_written_over_the_field_from_where_they_are_placed() -> None:
    field = np.zeros((8, 8))
    field[:, 4:] = 1.0
    labels = ((0.0, 0.0, "7"), (0.55, 0.9, "12"), (0.9, 0.5, "wide"))  # the last runs off the edge
    rows = [_text(line) for line in render_lines(field, 8, 4, "viridis", (0.0, 1.0), labels=labels)]
    assert rows == ["7▀▀▀▀▀▀▀", "▀▀▀▀▀▀▀▀", "▀▀▀▀▀▀▀w", "▀▀▀▀12▀▀"]
    # Without colour a data column is two characters wide: the label starts at its first.
    ascii_rows = [
        _text(line) for line in render_lines(field, 16, 8, "viridis", (0.0, 1.0), False, labels=labels)
    ]
    assert ascii_rows[0][0] == "7" and ascii_rows[7][8:10] == "12" and ascii_rows[4][14:] == "wi"


def test_a_frame_without_markers_is_drawn_as_before() -> None:
    field = np.random.default_rng(2).random((10, 10))
    plain = render_lines(field, 10, 5, "viridis", (0.0, 1.0))
    assert render_lines(field, 10, 5, "viridis", (0.0, 1.0), points=None, contour=None, labels=()) == plain


def test_pictures_are_drawn_in_their_own_colours() -> None:
    picture = np.zeros((4, 2, 3))
    picture[:2, :, 0] = 1.0  # red top half
    picture[2:, :, 2] = 1.0  # blue bottom half
    lines = render_lines(picture, 2, 2, "viridis", (0.0, 1.0))
    top, bottom = lines[0][0].style, lines[1][0].style
    assert top.color.triplet == (255, 0, 0) and top.bgcolor.triplet == (255, 0, 0)
    assert bottom.color.triplet == (0, 0, 255)
    # Without colour the ramp reads luminance: red (0.30) is lighter than blue (0.11).
    ascii_lines = [_text(line) for line in render_lines(picture, 4, 4, "viridis", (0.0, 1.0), False)]
    assert ASCII_RAMP.index(ascii_lines[0][0]) > ASCII_RAMP.index(ascii_lines[3][0])


def test_no_color_keeps_a_signed_fields_sign_in_its_characters() -> None:
    """A diverging map's sign, with no colour, is in the ramp: from the most negative value
    to the most positive the characters climb it, zero in the middle; the bar names the range."""
    field = np.array([[-1.0, -0.5, 0.0, 0.5, 1.0]])
    (row,) = render_lines(field, 10, 1, "coolwarm", (-1.0, 1.0), colour=False)
    drawn = "".join(segment.text for segment in row)[::2]  # two characters a cell without colour
    levels = [ASCII_RAMP.index(char) for char in drawn]
    assert levels == sorted(levels) and levels[0] == 0 and levels[-1] == len(ASCII_RAMP) - 1
    assert 0 < levels[2] < len(ASCII_RAMP) - 1
    bar = "".join(segment.text for segment in colour_bar(40, "coolwarm", (-1.0, 1.0), colour=False))
    assert bar.split()[0] == "-1" and bar.split()[-1] == "1"
