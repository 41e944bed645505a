"""The pictures' difficulty: the easy setting is the pictures as they were, and each knob makes them
harder in its own way, which a pixel statistic shows.

Each knob is compared with the easy pictures of the same seed: a face draws the same values whatever
the knobs, so the only change between the two sets is the knob's.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from labs.glasses import faces
from labs.glasses.faces import Difficulty, FaceSet
from labs.params import ParamError
from labs.registry import get_lab

COUNT = 200
SEED = 4


def digest(made: FaceSet) -> str:
    """The pictures (to 8 bits), labels and masks, hashed."""
    h = hashlib.sha256()
    h.update(np.round(made.images * 255).astype(np.uint8).tobytes())
    for array in (made.labels, made.glasses_masks, made.hair_masks):
        h.update(array.tobytes())
    return h.hexdigest()


@pytest.mark.parametrize(
    ("seed", "confound", "expected"),
    [
        # Hashed from the pictures as they were made before there were knobs (commit 2ccf03d).
        (5, 0.0, "e6d8240c64638f4fb9adc80b932f482739c2f5b4ff967f9dd9aad5ffc0d06ec1"),
        (7, 1.0, "010ad9f5473f554ae14ab80a71619142c1f4f725996e22e4f4d91f3b36d7f04a"),
    ],
)
def test_the_easy_setting_makes_the_pictures_it_made_before_there_were_knobs(
    seed: int, confound: float, expected: str
) -> None:
    assert faces.DIFFICULTIES["easy"] == faces.EASY
    assert digest(faces.generate(24, seed, confound=confound, difficulty=faces.EASY)) == expected


@pytest.fixture(scope="module")
def easy() -> FaceSet:
    return faces.generate(COUNT, SEED)


def harder(**knob: float) -> FaceSet:
    return faces.generate(COUNT, SEED, difficulty=Difficulty(**knob))


def wearers(made: FaceSet) -> np.ndarray:
    return made.labels == 1


def test_thin_frames_leave_fewer_frame_pixels(easy: FaceSet) -> None:
    thin = harder(thin_frames=1.0)
    before = easy.glasses_masks[wearers(easy)].sum(axis=(1, 2))
    after = thin.glasses_masks[wearers(thin)].sum(axis=(1, 2))
    assert (after < before).all()
    assert after.mean() < 0.7 * before.mean()


def test_faint_frames_come_closer_to_the_skin(easy: FaceSet) -> None:
    faint = harder(faint_frames=1.0)
    skin = np.array([face.skin for face in faces.sample_faces(COUNT, SEED)], np.float32)

    def distance(made: FaceSet) -> float:
        gaps = [
            np.linalg.norm(made.images[i][made.glasses_masks[i]] - skin[i], axis=1).mean()
            for i in np.flatnonzero(wearers(made))
        ]
        return float(np.mean(gaps))

    np.testing.assert_array_equal(faint.glasses_masks, easy.glasses_masks)  # the same frames, paler
    assert distance(faint) < 0.5 * distance(easy)


def test_occlusion_hides_one_eye_of_that_share_of_faces_under_hair(easy: FaceSet) -> None:
    share = 0.5
    occluded = harder(occlusion=share)
    locks = np.array(
        [
            face.lock is not None
            for face in faces.sample_faces(COUNT, SEED, difficulty=Difficulty(occlusion=share))
        ]
    )
    assert abs(locks.mean() - share) < 0.1
    hair_gained = occluded.hair_masks.sum(axis=(1, 2)) - easy.hair_masks.sum(axis=(1, 2))
    assert (hair_gained[locks] > 20).all() and (hair_gained[~locks] == 0).all()
    # Behind the lock a frame is not seen: the visible frame shrinks for the wearers under one.
    hidden = locks & wearers(easy)
    visible = occluded.glasses_masks.sum(axis=(1, 2)), easy.glasses_masks.sum(axis=(1, 2))
    assert (visible[0][hidden] < visible[1][hidden]).all()
    assert (visible[0][~locks] == visible[1][~locks]).all()


def test_pose_spreads_where_the_glasses_are(easy: FaceSet) -> None:
    posed = harder(pose=1.0)

    def spread(made: FaceSet) -> float:
        rows = np.arange(faces.SIZE)[None, :, None]
        masks = made.glasses_masks[wearers(made)]
        centres = (masks * rows).sum(axis=(1, 2)) / masks.sum(axis=(1, 2))
        return float(centres.std())

    assert spread(posed) > 1.5 * spread(easy)
    # Tilted: the two lenses no longer sit level, so the frames are not mirror images any more.
    mirrored = posed.glasses_masks[wearers(posed)]
    assert (mirrored != mirrored[:, :, ::-1]).mean() > (
        easy.glasses_masks[wearers(easy)] != easy.glasses_masks[wearers(easy)][:, :, ::-1]
    ).mean()


@pytest.mark.parametrize("noise", [0.05, 0.2])
def test_label_noise_mislabels_exactly_that_share(easy: FaceSet, noise: float) -> None:
    noisy = harder(label_noise=noise)
    np.testing.assert_array_equal(noisy.images, easy.images)  # the pictures are the same
    worn = noisy.glasses_masks.any(axis=(1, 2)).astype(np.int64)
    assert (noisy.labels != worn).sum() == round(COUNT * noise)
    assert (easy.labels == worn).all()


@pytest.mark.parametrize(("knob", "value"), [("thin_frames", 1.5), ("occlusion", -0.1), ("label_noise", 0.6)])
def test_a_knob_out_of_range_is_refused(knob: str, value: float) -> None:
    with pytest.raises(ValueError, match=knob):
        Difficulty(**{knob: value})
    with pytest.raises(ParamError, match=knob):
        get_lab("glasses").build_params({knob: str(value)})


def test_the_named_difficulty_sets_the_knobs_and_a_knob_set_by_hand_stays() -> None:
    lab = get_lab("glasses")
    assert lab.build_params({}).pictures == faces.DIFFICULTIES["talk"]
    assert lab.build_params({"difficulty": "easy"}).pictures == faces.EASY
    assert lab.build_params({"difficulty": "hard"}).pictures == faces.DIFFICULTIES["hard"]
    mine = lab.build_params({"difficulty": "easy", "pose": "0.3"}).pictures
    assert mine == Difficulty(pose=0.3)
