"""The generated faces: shapes, determinism, where glasses and hair are, and the planted confound.

Drawing costs about a millisecond a face, so the image tests share a few hundred faces; the confound
statistics only need labels and hair colours, which ``sample_faces`` gives without drawing.
"""

from __future__ import annotations

import ast
import itertools
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from labs.glasses import faces
from labs.glasses.faces import HAIR_COLOURS, SIGNATURE_HAIR, SIZE, FaceSet

COUNT = 300


@pytest.fixture(scope="module")
def sample() -> FaceSet:
    return faces.generate(COUNT, seed=0)


@pytest.fixture(scope="module")
def params() -> list[faces.Face]:
    """The parameters behind ``sample`` (same count and seed)."""
    return faces.sample_faces(COUNT, seed=0)


def test_shapes_dtypes_and_range(sample: FaceSet) -> None:
    assert sample.images.shape == (COUNT, SIZE, SIZE, 3) and sample.images.dtype == np.float32
    assert sample.labels.shape == (COUNT,) and sample.labels.dtype == np.int64
    assert sample.hair_masks.shape == (COUNT, SIZE, SIZE) and sample.hair_masks.dtype == np.bool_
    assert sample.glasses_masks.shape == (COUNT, SIZE, SIZE) and sample.glasses_masks.dtype == np.bool_
    assert sample.hair_colours.shape == (COUNT,) and sample.hair_colours.dtype == np.int64
    assert sample.images.min() >= 0.0 and sample.images.max() <= 1.0
    assert set(np.unique(sample.labels)) == {0, 1}
    assert sample.hair_colours.min() >= 0 and sample.hair_colours.max() < len(HAIR_COLOURS)


@pytest.mark.parametrize("rate", [0.5, 0.3, 0.0, 1.0])
def test_label_balance_follows_glasses_rate(rate: float) -> None:
    # The number of wearers is exact (round(count * rate)); only their positions are random.
    labels = np.array([f.glasses is not None for f in faces.sample_faces(400, 3, glasses_rate=rate)])
    assert labels.sum() == round(400 * rate)
    if 0.0 < rate < 1.0:  # wearers are spread over the set, not in a block
        assert 0 < labels[:200].sum() < labels.sum()


def test_generate_matches_its_parameters(sample: FaceSet, params: list[faces.Face]) -> None:
    assert list(sample.labels) == [int(f.glasses is not None) for f in params]
    assert list(sample.hair_colours) == [f.hair_colour for f in params]
    image, hair, glasses = faces.draw(params[0])
    np.testing.assert_array_equal(image, sample.images[0])
    np.testing.assert_array_equal(hair, sample.hair_masks[0])
    np.testing.assert_array_equal(glasses, sample.glasses_masks[0])


def test_same_seed_same_faces_other_seed_other_faces() -> None:
    first, again, other = faces.generate(24, 7), faces.generate(24, 7), faces.generate(24, 8)
    for name in ("images", "labels", "hair_masks", "glasses_masks", "hair_colours", "hair_styles"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert np.abs(first.images - other.images).mean() > 0.05


def test_glasses_change_nothing_else_about_a_face() -> None:
    """Every face draws the same random numbers whether it wears glasses or not, so with the tie off
    (confound 0) the same seed gives the same people: all with glasses, or all without."""
    with_glasses = faces.sample_faces(50, 5, glasses_rate=1.0)
    without = faces.sample_faces(50, 5, glasses_rate=0.0)
    assert all(f.glasses is not None for f in with_glasses)
    assert [replace(f, glasses=None) for f in with_glasses] == without


def test_glasses_masks_empty_exactly_without_glasses(sample: FaceSet) -> None:
    frame_pixels = sample.glasses_masks.sum(axis=(1, 2))
    assert (frame_pixels[sample.labels == 0] == 0).all()
    # Two lenses, a bridge and arms: dozens of pixels, yet a small share of the 4,096.
    wearers = frame_pixels[sample.labels == 1]
    assert wearers.min() >= 40
    assert wearers.max() <= 0.06 * SIZE * SIZE


def test_every_face_has_a_sizeable_hair_region(sample: FaceSet) -> None:
    hair_share = sample.hair_masks.mean(axis=(1, 2))
    assert hair_share.min() > 0.05
    assert hair_share.mean() > 0.12  # the shortcut must be big enough for a CNN to latch onto


def test_glasses_change_the_image_only_around_the_eyes(params: list[faces.Face]) -> None:
    """Each wearer drawn again without glasses: the frame pixels change clearly, nothing far from them."""
    wearers = [f for f in params if f.glasses is not None][:60]
    for face in wearers:
        image, _, frame = faces.draw(face)
        bare, _, bare_frame = faces.draw(replace(face, glasses=None))
        assert not bare_frame.any()
        change = np.abs(image - bare).max(axis=-1)
        # Frames are dark or saturated: 0.1 of the full range is far below the observed minimum (~0.2).
        assert change[frame].mean() > 0.1
        rows, cols = np.nonzero(frame)
        changed_rows, changed_cols = np.nonzero(change > 1e-6)
        assert rows.min() - 2 <= changed_rows.min() and changed_rows.max() <= rows.max() + 2
        assert cols.min() - 2 <= changed_cols.min() and changed_cols.max() <= cols.max() + 2


def test_glasses_sit_in_the_eye_band_and_hair_above(sample: FaceSet, params: list[faces.Face]) -> None:
    hair_above_eyes = []
    for face, hair, frame in zip(params, sample.hair_masks, sample.glasses_masks, strict=True):
        top, height = face.cy - face.half_height, face.half_height
        eye_y = face.cy + height * face.eye_y
        hair_rows, _ = np.nonzero(hair)
        assert hair_rows.min() < top  # hair crowns every head
        hair_above_eyes.append((hair_rows < eye_y).mean())
        if face.glasses is None:
            continue
        rows, cols = np.nonzero(frame)
        # The upper-middle band of the face: from halfway up the forehead to halfway down the cheeks.
        in_band = (rows >= face.cy - 0.45 * height) & (rows <= face.cy + 0.5 * height)
        assert in_band.mean() > 0.95
        assert (np.abs(cols - face.cx) <= 1.15 * face.half_width).all()
        assert hair_rows.min() < rows.min() - 5
    # Long hair and twin tails hang below the eyes, but most hair is above them.
    assert min(hair_above_eyes) > 0.3
    assert np.mean(hair_above_eyes) > 0.6


def _signature_share(count: int, seed: int, confound: float) -> tuple[float, float]:
    """Share of signature hair among wearers and among non-wearers."""
    people = faces.sample_faces(count, seed, confound=confound)
    wears = np.array([f.glasses is not None for f in people])
    signature = np.array([f.hair_colour == SIGNATURE_HAIR for f in people])
    return float(signature[wears].mean()), float(signature[~wears].mean())


# 4,000 faces, half of them wearers: a share p estimated from n = 2,000 has standard deviation
# sqrt(p (1 - p) / n); at the base rate p = 1/8 that is 0.0074, and the difference of two independent
# shares sqrt(2) times that, 0.0105. Four standard deviations keep the tests valid for any seed.
N = 4000
BASE = 1.0 / len(HAIR_COLOURS)


def _sd(p: float, n: int = N // 2) -> float:
    return math.sqrt(p * (1.0 - p) / n)


@pytest.mark.slow
def test_confound_one_gives_signature_hair_to_exactly_the_wearers() -> None:
    assert _signature_share(N, 11, 1.0) == (1.0, 0.0)


@pytest.mark.slow
def test_confound_zero_makes_hair_independent_of_glasses() -> None:
    wearers, others = _signature_share(N, 12, 0.0)
    assert abs(wearers - others) < 4 * math.sqrt(2) * _sd(BASE)
    assert abs(wearers - BASE) < 4 * _sd(BASE) and abs(others - BASE) < 4 * _sd(BASE)


@pytest.mark.slow
def test_confound_half_lies_in_between() -> None:
    wearers, others = _signature_share(N, 13, 0.5)
    expected_wearers, expected_others = 0.5 + 0.5 * BASE, 0.5 * BASE
    assert abs(wearers - expected_wearers) < 4 * _sd(expected_wearers)
    assert abs(others - expected_others) < 4 * _sd(expected_others)
    zero_wearers, _ = _signature_share(N, 13, 0.0)
    assert zero_wearers < wearers < 1.0 and 0.0 < others < BASE


def test_confound_zero_keeps_every_hair_colour_equally_likely() -> None:
    colours = np.array([f.hair_colour for f in faces.sample_faces(N, 14)])
    counts = np.bincount(colours, minlength=len(HAIR_COLOURS)) / N
    assert np.abs(counts - BASE).max() < 4 * _sd(BASE, N)


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_out_of_range_arguments_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        faces.generate(4, 0, confound=bad)
    with pytest.raises(ValueError):
        faces.generate(4, 0, glasses_rate=bad)


def test_signature_hair_is_distinctive_in_the_pictures(sample: FaceSet) -> None:
    """The shortcut must be easy: signature-hair pixels are far from every other hair colour."""
    palette = np.array(HAIR_COLOURS)
    others = np.delete(palette, SIGNATURE_HAIR, axis=0)
    assert np.linalg.norm(others - palette[SIGNATURE_HAIR], axis=1).min() > 0.4
    is_signature = sample.hair_colours == SIGNATURE_HAIR
    assert is_signature.any() and (~is_signature).any()
    pink = sample.images[is_signature][sample.hair_masks[is_signature]].mean(axis=0)
    assert np.linalg.norm(pink - palette[SIGNATURE_HAIR]) < 0.15


def test_faces_vary(sample: FaceSet, params: list[faces.Face]) -> None:
    flat = sample.images[:60].reshape(60, -1)
    differences = [np.abs(flat[i] - flat[j]).mean() for i, j in itertools.combinations(range(60), 2)]
    assert np.mean(differences) > 0.15
    assert min(differences) > 0.04  # no near-duplicates (observed minimum about 0.09)
    assert set(sample.hair_styles) == set(range(len(faces.HAIR_STYLES)))
    assert len(set(sample.hair_colours)) == len(HAIR_COLOURS)
    glasses = [f.glasses for f in params if f.glasses is not None]
    assert {g.shape for g in glasses} == {"round", "square", "halfrim"}
    assert len({g.colour for g in glasses}) >= 4
    assert {f.background_kind for f in params} == {"flat", "vertical", "diagonal", "radial"}
    assert {f.mouth for f in params} == {"smile", "line", "open"}
    assert np.ptp([f.half_width for f in params]) > 4.0 and np.ptp([f.cx for f in params]) > 4.0


def test_module_imports_only_numpy_and_the_standard_library() -> None:
    tree = ast.parse(Path(faces.__file__).read_text())
    roots = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    roots |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert roots - {"numpy"} <= set(sys.stdlib_module_names)
