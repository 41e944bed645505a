"""A minimal PNG encoder (zlib + struct) for heatmap images.

Both the run (artifacts) and the TUI (heatmap snapshots) write PNGs, and the
TUI must not import TensorFlow, so neither uses ``tf.io.encode_png``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from themes.colormaps import COLORMAPS, quantize, to_rgb


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an HxWx3 uint8 image."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width, _ = rgb.shape
    # Each scanline starts with filter type 0 (none).
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def write_heatmap_png(path: Path, field2d: np.ndarray, cmap: str, signed: bool = False) -> Path:
    """Write ``field2d`` coloured by ``cmap`` (row 0 at the top, as on screen)."""
    path.write_bytes(encode_png(to_rgb(np.asarray(field2d, dtype=np.float64), cmap, signed)))
    return path


# The picture a snapshot saves is at least this many pixels on its longer side: each cell of a
# small grid becomes a block of pixels (nearest, never smoothed: a cell stays a cell).
SNAPSHOT_SIDE = 640
BAR_HEIGHT = 16
GLYPH_SCALE = 3  # the 3x5 font below, each of its pixels 3x3
# A 3x5 pixel font for the range under the colour bar: what numbers need, no more.
FONT = {
    "0": "111101101101111", "1": "010110010010111", "2": "111001111100111", "3": "111001111001111",
    "4": "101101111001001", "5": "111100111001111", "6": "111100111101111", "7": "111001001001001",
    "8": "111101111101111", "9": "111101111001111", ".": "000000000000010", "-": "000000111000000",
    "+": "000010111010000", "e": "010101111100011", "n": "000110101101101", "a": "000011101101011",
    "i": "010000010010010", "f": "011100110100100", " ": "000000000000000",
}  # fmt: skip
INK = np.array([240, 240, 240], np.uint8)
PAPER = np.array([24, 24, 24], np.uint8)


def _text(text: str) -> np.ndarray:
    """``text`` in the small font, INK on PAPER, an HxWx3 image."""
    height, width = 5 * GLYPH_SCALE, 4 * GLYPH_SCALE * len(text)
    image = np.tile(PAPER, (height, max(width, 1), 1))
    for i, char in enumerate(text):
        bits = np.array([int(b) for b in FONT.get(char, FONT[" "])], bool).reshape(5, 3)
        block = np.kron(bits, np.ones((GLYPH_SCALE, GLYPH_SCALE), bool))
        x = 4 * GLYPH_SCALE * i
        image[:, x : x + 3 * GLYPH_SCALE][block] = INK
    return image


def snapshot_image(data: np.ndarray, cmap: str, vrange: tuple[float, float]) -> np.ndarray:
    """What the heatmap panel shows, as a picture worth keeping: the field in ``cmap`` over
    ``vrange`` (the range on screen: auto, fixed or symmetric), scaled up to SNAPSHOT_SIDE,
    with the colour bar under it and the range written at its ends. A picture (HxWx3, values
    0 to 1) is kept in its own colours, with no bar."""
    data = np.asarray(data, dtype=np.float64)
    if data.ndim == 3:
        image = np.clip(np.rint(np.nan_to_num(data) * 255), 0, 255).astype(np.uint8)
    else:
        image = COLORMAPS[cmap][quantize(data, *vrange)]
    scale = max(1, -(-SNAPSHOT_SIDE // max(image.shape[:2])))
    image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    if data.ndim == 3:
        return image
    width = image.shape[1]
    bar = COLORMAPS[cmap][quantize(np.linspace(0, 1, width)[None, :], 0.0, 1.0)]
    low, high = _text(f"{vrange[0]:.4g}"), _text(f"{vrange[1]:.4g}")
    legend = np.tile(PAPER, (low.shape[0], width, 1))
    legend[:, : min(width, low.shape[1])] = low[:, :width]
    legend[:, max(0, width - high.shape[1]) :] = high[:, -width:]
    gap = np.tile(PAPER, (GLYPH_SCALE * 2, width, 1))
    return np.concatenate([image, gap, np.repeat(bar, BAR_HEIGHT, axis=0), gap, legend, gap])


def write_snapshot_png(path: Path, data: np.ndarray, cmap: str, vrange: tuple[float, float]) -> Path:
    path.write_bytes(encode_png(snapshot_image(data, cmap, vrange)))
    return path
