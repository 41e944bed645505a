"""What the glasses lab draws: picture grids, and where the model looks.

Grids are RGB frames (drawn with half blocks). In the predictions grid each
image gets a border, green when the prediction is right and red when wrong,
and a bar under it as long as the confidence, blue for "glasses" and orange
for "no glasses": labels and confidence without any text.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from themes.colormaps import to_rgb

TILE = 32  # images are shown at half size: six fit a panel
BORDER = 2
BAR = 3
RIGHT, WRONG = (0.2, 0.8, 0.2), (0.9, 0.15, 0.15)
CLASS_COLOURS = ((1.0, 0.55, 0.1), (0.2, 0.45, 1.0))  # no glasses, glasses


def half(image: np.ndarray) -> np.ndarray:
    """64x64 → 32x32 by averaging 2x2 blocks."""
    rows, cols, channels = image.shape
    return image.reshape(rows // 2, 2, cols // 2, 2, channels).mean(axis=(1, 3))


def grid(
    images: np.ndarray, columns: int, extras: Callable[[int, np.ndarray], np.ndarray] | None = None
) -> np.ndarray:
    """Images side by side, ``columns`` a row, on a dark background; ``extras`` may frame each tile."""
    rows = -(-len(images) // columns)
    cell_h, cell_w = TILE + 2 * BORDER + BAR + 1, TILE + 2 * BORDER + 1
    canvas = np.full((rows * cell_h, columns * cell_w, 3), 0.08, np.float32)
    for i, image in enumerate(images):
        tile = np.zeros((TILE + 2 * BORDER + BAR, TILE + 2 * BORDER, 3), np.float32)
        tile[BORDER : BORDER + TILE, BORDER : BORDER + TILE] = half(image)
        if extras is not None:
            tile = extras(i, tile)
        r, c = divmod(i, columns)
        canvas[r * cell_h : r * cell_h + tile.shape[0], c * cell_w : c * cell_w + tile.shape[1]] = tile
    return canvas


def predictions_grid(images: np.ndarray, labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Each image framed green (right) or red (wrong), a confidence bar in the predicted class's colour."""
    predicted = probabilities.argmax(axis=1)

    def frame(i: int, tile: np.ndarray) -> np.ndarray:
        colour = RIGHT if predicted[i] == labels[i] else WRONG
        inner = tile[BORDER : BORDER + TILE, BORDER : BORDER + TILE].copy()
        tile[: TILE + 2 * BORDER] = colour
        tile[BORDER : BORDER + TILE, BORDER : BORDER + TILE] = inner
        length = round(probabilities[i, predicted[i]] * tile.shape[1])
        tile[TILE + 2 * BORDER :, :length] = CLASS_COLOURS[predicted[i]]
        return tile

    return grid(images, 3, frame)


def pick_examples(labels: np.ndarray, each: int) -> np.ndarray:
    """Indices of the first ``each`` images of each class, glasses first."""
    return np.concatenate([np.flatnonzero(labels == cls)[:each] for cls in (1, 0)])


def occlusion_map(
    evidence: Callable[[np.ndarray], np.ndarray], image: np.ndarray, patch: int, stride: int
) -> np.ndarray:
    """How much the model's evidence drops when a grey patch hides each part of the image.

    Every patch position is one image of a single batch; each pixel gets the
    mean drop over the patches that covered it (positive: the model needed it).
    """
    size = image.shape[0]
    starts = range(0, size - patch + 1, stride)
    positions = [(r, c) for r in starts for c in starts]
    batch = np.repeat(image[None], len(positions), axis=0)
    for k, (r, c) in enumerate(positions):
        batch[k, r : r + patch, c : c + patch] = 0.5
    drops = evidence(image[None])[0] - evidence(batch)
    total, covered = np.zeros((size, size)), np.zeros((size, size))
    for drop, (r, c) in zip(drops, positions, strict=True):
        total[r : r + patch, c : c + patch] += drop
        covered[r : r + patch, c : c + patch] += 1
    return (total / np.maximum(covered, 1)).astype(np.float32)


def where_it_looks(image: np.ndarray, sensitivity: np.ndarray) -> np.ndarray:
    """The image, and beside it the image tinted by the sensitivity (red: needed, blue: in the way)."""
    tint = to_rgb(sensitivity, "coolwarm", signed=True).astype(np.float32) / 255
    gap = np.full((image.shape[0], 2, 3), 0.08, np.float32)
    return np.concatenate([image, gap, 0.35 * image + 0.65 * tint], axis=1)
