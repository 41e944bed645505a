"""The glasses lab's images: generated faces, or a user's own folder; and the
tf.data pipeline that enlarges the training set by augmentation.

Generated data follow the talk: 1,187 training and 118 test images, plus a
"new" set of other characters where any tie between glasses and hair colour
(the ``confound``) is broken. A user's folder holds ``glasses/`` and
``no_glasses/``, or ``train/`` and ``test/`` (and optionally ``new/``) that do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labs.glasses import faces

SIZE = faces.SIZE
CLASS_DIRS = ("no_glasses", "glasses")  # label 0, label 1
AUGMENTED_NOISE = 0.05  # standard deviation of the added Gaussian noise, in pixel units of [0, 1]


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # (n, 64, 64, 3) float32 in [0, 1]
    labels: np.ndarray  # (n,) int64
    hair_masks: np.ndarray | None = None  # generated data only: where hair and glasses are,
    glasses_masks: np.ndarray | None = None
    hair_colours: np.ndarray | None = None  # and each face's hair colour (faces.HAIR_COLOURS)


@dataclass(frozen=True)
class Data:
    train: Split
    test: Split
    new: Split | None  # other characters, where the confound does not hold
    description: str


def generated(
    train: int, test: int, new: int, confound: float, seed: int, difficulty: faces.Difficulty = faces.EASY
) -> Data:
    """The talk's three sets as generated faces, all as hard as ``difficulty`` (the new characters
    are pictured as the others were: only the confound is gone)."""

    def split(count: int, offset: int, tie: float) -> Split:
        s = faces.generate(count, seed * 3 + offset, confound=tie, difficulty=difficulty)
        return Split(s.images, s.labels, s.hair_masks, s.glasses_masks, s.hair_colours)

    named = next((name for name, d in faces.DIFFICULTIES.items() if d == difficulty), "custom")
    return Data(
        split(train, 0, confound),
        split(test, 1, confound),
        split(new, 2, 0.0) if new else None,
        f"generated faces, difficulty {named}, confound {confound:g}",
    )


@dataclass(frozen=True)
class Loaded:
    split: Split
    skipped: list[str]  # files that could not be decoded
    files: dict[str, int]  # files found under each class folder, decodable or not


def read_image(path: Path) -> np.ndarray | None:
    """The image in ``path`` as the models see it, or None where it does not decode.

    Any format TensorFlow decodes, as RGB, float32 in [0, 1], resized to SIZE x SIZE.
    Training (``load_folder``) and ``predict`` both read files through this, so a
    model is shown its images at prediction as it was shown them in training.
    """
    import tensorflow as tf

    try:
        decoded = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError, ValueError):
        return None
    return tf.image.resize(tf.image.convert_image_dtype(decoded, tf.float32), (SIZE, SIZE)).numpy()


def load_folder(folder: Path) -> Loaded:
    """Images under folder/glasses and folder/no_glasses, read by ``read_image``."""
    images, labels, skipped = [], [], []
    files: dict[str, int] = {}
    for label, name in enumerate(CLASS_DIRS):
        found = sorted(p for p in (folder / name).rglob("*") if p.is_file())
        files[name] = len(found)
        for path in found:
            image = read_image(path)
            if image is None:
                skipped.append(str(path.relative_to(folder)))
                continue
            images.append(image)
            labels.append(label)
    stack = np.stack(images) if images else np.zeros((0, SIZE, SIZE, 3), np.float32)
    loaded = Loaded(Split(stack.astype(np.float32), np.array(labels, np.int64)), skipped, files)
    for label, name in enumerate(CLASS_DIRS):
        if files[name] and not (loaded.split.labels == label).any():
            # Say why the class is empty: its files are there, none of them is an image.
            where = f"{folder.name}/{name}/" if folder.name in ("train", "test", "new") else f"{name}/"
            raise ValueError(f"{files[name]} of {files[name]} files in {where} could not be decoded")
    return loaded


def check_folder(path: str) -> str | None:
    """Why ``path`` cannot be a data folder, or None (checks the layout, not the files)."""
    root = Path(path).expanduser()
    if not root.is_dir():
        return f"data_dir={path}: no such folder"
    layouts = [root, root / "train"]
    if not any(all((base / name).is_dir() for name in CLASS_DIRS) for base in layouts):
        return f"data_dir={path}: needs glasses/ and no_glasses/ folders, or train/ and test/ that hold them"
    if (root / "train").is_dir() and not all((root / "test" / name).is_dir() for name in CLASS_DIRS):
        return f"data_dir={path}: train/ needs a test/ beside it with glasses/ and no_glasses/"
    bases = [root / "train", root / "test"] if (root / "train").is_dir() else [root]
    for base in bases:
        for name in CLASS_DIRS:
            if not any(p.is_file() for p in (base / name).rglob("*")):
                where = f"{base.name}/{name}/" if base != root else f"{name}/"
                return f"data_dir={path}: {where} holds no image files"
    return None


def training_files(path: str) -> int:
    """About how many training images a folder holds, counted without decoding (for progress):
    every file under train/, or nine tenths of those under the folder itself."""
    root = Path(path).expanduser()
    base = root / "train" if (root / "train").is_dir() else root
    count = sum(1 for name in CLASS_DIRS for p in (base / name).rglob("*") if p.is_file())
    return count if base != root else count - max(1, count // 10)


def from_folder(path: str, seed: int) -> tuple[Data, list[str]]:
    """A user's images, and the files skipped; without train/ and test/, 10 % are held out to test.

    ValueError says what is wrong with them, naming the folder.
    """
    try:
        return _from_folder(path, seed)
    except ValueError as exc:
        raise ValueError(f"data_dir={path}: {exc}") from None


def _from_folder(path: str, seed: int) -> tuple[Data, list[str]]:
    root = Path(path).expanduser()
    if (root / "train").is_dir():
        parts = {
            name: load_folder(root / name) for name in ("train", "test", "new") if (root / name).is_dir()
        }
        skipped = [f"{name}/{file}" for name, part in parts.items() for file in part.skipped]
        new = parts["new"].split if "new" in parts else None
        data = Data(parts["train"].split, parts["test"].split, new, f"images from {root}")
    else:
        whole = load_folder(root)
        order = np.random.default_rng(seed).permutation(len(whole.split.labels))
        cut = max(1, len(order) // 10)
        train, test = order[cut:], order[:cut]
        images, labels = whole.split.images, whole.split.labels
        data = Data(
            Split(images[train], labels[train]),
            Split(images[test], labels[test]),
            None,
            f"images from {root} (10 % held out to test)",
        )
        skipped = whole.skipped
    for name, split in (("train", data.train), ("test", data.test)):
        if len(np.unique(split.labels)) < 2:
            raise ValueError(f"the {name} images need both glasses and no_glasses examples")
    return data, skipped


def explained(split: Split, choice: int) -> int:
    """The glasses-wearer whose occlusion map is drawn: the ``choice``-th one, among those
    with the signature hair where the set has them (the only faces where a model that
    learned the hair, not the glasses, has something to show)."""
    wearers = np.flatnonzero(split.labels == 1)
    if split.glasses_masks is not None:  # a wrong label (the label noise) is not a wearer to explain
        seen = split.glasses_masks[wearers].any(axis=(1, 2))
        wearers = wearers[seen] if seen.any() else wearers
    if split.hair_colours is not None:
        signature = wearers[split.hair_colours[wearers] == faces.SIGNATURE_HAIR]
        wearers = signature if len(signature) else wearers
    return int(wearers[choice % len(wearers)])


def augmented(split: Split, expansion: int, batch_size: int, seed: int, augment: bool) -> Any:
    """Training batches: ``expansion`` randomly altered copies of each image per epoch.

    Gaussian noise (the talk's way to grow 1,187 images to about 30,000), flips,
    shifts of up to 4 pixels, brightness and contrast; every draw is a stateless
    op seeded from ``seed``, so runs repeat.
    """
    import tensorflow as tf

    def alter(image: Any, label: Any, draw: Any) -> tuple[Any, Any]:
        seeds = tf.random.experimental.stateless_split(tf.cast(draw, tf.int64), 5)
        image = tf.image.stateless_random_flip_left_right(image, seeds[0])
        padded = tf.pad(image, [[4, 4], [4, 4], [0, 0]], mode="REFLECT")
        image = tf.image.stateless_random_crop(padded, (SIZE, SIZE, 3), seeds[1])
        image = tf.image.stateless_random_brightness(image, 0.1, seeds[2])
        image = tf.image.stateless_random_contrast(image, 0.8, 1.2, seeds[3])
        image += tf.random.stateless_normal(tf.shape(image), seeds[4], stddev=AUGMENTED_NOISE)
        return tf.clip_by_value(image, 0.0, 1.0), label

    images = tf.data.Dataset.from_tensor_slices((split.images, split.labels)).repeat(expansion)
    images = images.shuffle(min(len(split.labels) * expansion, 10_000), seed=seed)
    if augment:
        draws = tf.data.Dataset.random(seed=seed).batch(2)
        images = tf.data.Dataset.zip(images, draws).map(
            lambda pair, draw: alter(pair[0], pair[1], draw), num_parallel_calls=tf.data.AUTOTUNE
        )
    return images.batch(batch_size).prefetch(tf.data.AUTOTUNE)
