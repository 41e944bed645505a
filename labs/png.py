"""A minimal PNG encoder (zlib + struct) for heatmap images.

Both the run (artifacts) and the TUI (heatmap snapshots) write PNGs, and the
TUI must not import TensorFlow, so neither uses ``tf.io.encode_png``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from themes.colormaps import to_rgb


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
