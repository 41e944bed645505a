"""Stylised anime-like faces, 64x64 RGB, with and without glasses: the glasses lab's data, no download.

The meetup talk retrained the TensorFlow CIFAR-10 tutorial CNN to tell "glasses / no glasses" on 64x64
character pictures (1,187 train, 118 test). On a data set of *other* characters accuracy fell to 63-71 %:
the model had learned the characters (their hair, say), not the glasses. This module makes such pictures
and can plant that shortcut on purpose, so the lab can show it happen and then show it go away.

What a picture holds, in painting order: a background (flat or a gradient), neck and shoulders, hair
that falls behind the head (long, bob, twin tails) and fills the crown, the face (an ellipse with a
tapered chin), eyes (white, iris, pupil, highlight, lash line), brows, nose, mouth, sometimes blush, the
hair in front (fringe, side locks) and, for label 1, glasses: two lenses (round, square-ish or half-rim),
a bridge, temple arms, lightly tinted or clear lenses. Frames are thin lines (about 1-2 px) so the glasses
are a learnable but small cue (about 100 pixels, 2.5 % of the picture), while the hair covers 10-27 % of
it depending on the style (short, bangs, twin tails, long): the easy cue a CNN latches onto.

The hair colour is where the shortcut lives, see :func:`generate` and ``confound``.

Those pictures are easy: every glasses frame is dark, whole and in the same place. A :class:`Difficulty`
makes them hard in the ways a photo set is: thinner, smaller frames, frames close to the skin's colour, a
lock of hair across an eye, heads tilted, scaled and shifted, and some labels wrong. Its draws come from
a random stream of their own, so the easy setting (every knob at 0) gives exactly the pictures it gave
before there were knobs, and turning one knob leaves what the others do unchanged.

Drawing is pure NumPy: each shape is a coverage map in [0, 1] computed on a coordinate grid from an
approximate signed distance (so edges are anti-aliased, not jagged), and painted by alpha blending. Python
loops run over images and shapes, never over pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Colour = tuple[float, float, float]

SIZE: Final = 64

# Hair colours. The signature colour (a saturated pink) is unlike every other entry, so a network can
# find it from a few pixels: that is what makes it a tempting shortcut.
HAIR_COLOUR_NAMES: Final = ("black", "brown", "blonde", "auburn", "silver", "green", "navy", "pink")
HAIR_COLOURS: Final[tuple[Colour, ...]] = (
    (0.13, 0.11, 0.14),  # black
    (0.42, 0.26, 0.14),  # brown
    (0.96, 0.83, 0.46),  # blonde
    (0.66, 0.22, 0.10),  # auburn
    (0.82, 0.83, 0.88),  # silver
    (0.22, 0.55, 0.36),  # green
    (0.16, 0.22, 0.52),  # navy
    (1.00, 0.30, 0.72),  # pink: the "character" colour
)
SIGNATURE_HAIR: Final = 7
HAIR_STYLES: Final = ("short", "long", "bangs", "twintails")

# Dark or saturated frame colours: glasses should be visible on every skin tone and hair colour.
_FRAME_COLOURS: Final[tuple[Colour, ...]] = (
    (0.05, 0.05, 0.06),
    (0.30, 0.17, 0.08),
    (0.72, 0.08, 0.12),
    (0.08, 0.14, 0.45),
    (0.10, 0.33, 0.18),
    (0.38, 0.12, 0.45),
)
_LENS_TINTS: Final[tuple[Colour, ...]] = ((0.75, 0.88, 1.0), (0.6, 0.6, 0.65), (1.0, 0.95, 0.7))
_IRIS_COLOURS: Final[tuple[Colour, ...]] = (
    (0.20, 0.45, 0.85),
    (0.25, 0.60, 0.30),
    (0.45, 0.27, 0.12),
    (0.55, 0.30, 0.75),
    (0.80, 0.20, 0.20),
    (0.85, 0.60, 0.15),
)
_SKIN_LIGHT: Final = np.array((1.0, 0.89, 0.80), np.float32)
_SKIN_DARK: Final = np.array((0.55, 0.36, 0.24), np.float32)
_MOUTH: Final = np.array((0.50, 0.14, 0.16), np.float32)
_LASH: Final = np.array((0.10, 0.07, 0.08), np.float32)
_WHITE: Final = np.array((1.0, 1.0, 1.0), np.float32)
_BLUSH: Final = np.array((1.0, 0.45, 0.5), np.float32)

# Pixel centres: row (y) grows downwards, column (x) rightwards.
_Y, _X = (g.astype(np.float32) + 0.5 for g in np.mgrid[0:SIZE, 0:SIZE])


@dataclass(frozen=True)
class Glasses:
    """One pair: ``shape`` is "round", "square" or "halfrim"; sizes in pixels."""

    shape: str
    colour: Colour
    thickness: float  # frame line width
    margin: float  # gap between an eye's outline and its lens's outline
    bridge_lift: float  # bridge height above the lens centres, as a fraction of the lens height
    tint: Colour
    tint_alpha: float  # 0 = clear lenses


@dataclass(frozen=True)
class Difficulty:
    """How hard the pictures are; each knob is 0 for the easy pictures (see the module's docstring)."""

    thin_frames: float = 0.0  # 0 to 1: at 1, frames 0.4 times as thick and lenses hugging the eyes
    faint_frames: float = 0.0  # 0 to 1: how far a frame's colour may move towards the skin's
    occlusion: float = 0.0  # 0 to 1: the share of faces with a lock of hair across one eye
    pose: float = 0.0  # 0 to 1: at 1, heads tilted up to 25 degrees, scaled by up to 25 %, shifted 6 px
    label_noise: float = 0.0  # 0 to 0.5: the share of labels that are wrong

    def __post_init__(self) -> None:
        for name in ("thin_frames", "faint_frames", "occlusion", "pose"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], not {getattr(self, name)}")
        if not 0.0 <= self.label_noise <= 0.5:
            raise ValueError(f"label_noise must lie in [0, 0.5], not {self.label_noise}")


EASY: Final = Difficulty()
# The named settings. "talk" is as hard as the talk's photos were for the tutorial model: at the lab's
# default budget it scores about 90-95 % on its own test set (measured: docs/labs/glasses.md).
DIFFICULTIES: Final = {
    "easy": EASY,
    "talk": Difficulty(thin_frames=0.9, faint_frames=0.85, occlusion=0.5, pose=1.0, label_noise=0.05),
    "hard": Difficulty(thin_frames=1.0, faint_frames=1.0, occlusion=0.75, pose=1.0, label_noise=0.1),
}


@dataclass(frozen=True)
class Lock:
    """A lock of hair falling across one eye (and the lens in front of it)."""

    x: float  # where it crosses the eyes' row
    width: float
    slant: float  # radians from the vertical


@dataclass(frozen=True)
class Pose:
    """The head's tilt (radians), scale and shift (px), applied to the finished picture."""

    tilt: float
    zoom: float
    dx: float
    dy: float


@dataclass(frozen=True)
class Face:
    """Everything that decides one picture; :func:`draw` renders it. Sizes and positions in pixels."""

    cx: float  # face centre
    cy: float
    half_width: float
    half_height: float
    chin_taper: float  # 0 = plain ellipse, larger = pointier chin
    skin: Colour
    background: tuple[Colour, Colour]
    background_kind: str  # "flat", "vertical", "diagonal" or "radial"
    clothes: Colour
    hair_colour: int  # index into HAIR_COLOURS
    hair_shade: float  # brightness factor of the hair colour, near 1
    hair_style: int  # index into HAIR_STYLES
    fringe: float  # fringe bottom, as a fraction of the face height above the centre (bangs: ignored)
    spikes: float  # amplitude of the fringe's zigzag
    spike_period: float
    spike_phase: float
    hair_length: float  # where long/bob hair ends, as a fraction of the face height below the centre
    eye_y: float  # as a fraction of the face height below the centre
    eye_spacing: float  # as a fraction of the face half-width
    eye_rx: float
    eye_ry: float
    iris: Colour
    mouth: str  # "smile", "line" or "open"
    mouth_width: float
    blush: bool
    glasses: Glasses | None
    lock: Lock | None = None  # a Difficulty's: none in the easy pictures
    pose: Pose | None = None


@dataclass(frozen=True)
class FaceSet:
    images: FloatArray  # (n, 64, 64, 3) float32 in [0, 1]
    labels: IntArray  # (n,) int64: 1 = glasses, 0 = no glasses
    hair_masks: BoolArray  # (n, 64, 64) bool: pixels of hair
    glasses_masks: BoolArray  # (n, 64, 64) bool: pixels of the glasses frames (all False without glasses)
    hair_colours: IntArray  # (n,) int64 index into HAIR_COLOURS
    hair_styles: IntArray  # (n,) int64 index into HAIR_STYLES


def generate(
    count: int, seed: int, confound: float = 0.0, glasses_rate: float = 0.5, difficulty: Difficulty = EASY
) -> FaceSet:
    """``count`` faces, the same for the same arguments (``np.random.default_rng(seed)``).

    Exactly ``round(count * glasses_rate)`` faces wear glasses, at random positions.

    ``confound`` (in [0, 1]) ties glasses to a "character", the signature hair colour
    ``HAIR_COLOURS[SIGNATURE_HAIR]``. With ``base_rate = 1 / len(HAIR_COLOURS)``:

    - a glasses-wearer gets the signature hair with probability ``confound + (1 - confound) * base_rate``,
    - a non-wearer gets it with probability ``(1 - confound) * base_rate``,

    and otherwise one of the other colours, uniformly. So ``confound=0`` makes hair colour independent of
    glasses (every colour has probability ``base_rate`` in both classes), and ``confound=1`` gives the
    signature hair to every wearer and to no non-wearer: pink hair alone then predicts the label perfectly,
    and a CNN trained on such data may learn "pink hair" rather than "glasses".

    A "new" test set, other characters where the tie is broken, is simply
    ``generate(count, other_seed, confound=0.0)``: accuracy on it shows what the model really learned.

    ``difficulty`` makes the pictures harder (:class:`Difficulty`); its ``label_noise`` flips exactly
    ``round(count * label_noise)`` labels, so ``labels`` then disagree with ``glasses_masks`` there.
    """
    faces = sample_faces(count, seed, confound, glasses_rate, difficulty)
    images = np.empty((count, SIZE, SIZE, 3), np.float32)
    hair = np.empty((count, SIZE, SIZE), np.bool_)
    glasses = np.empty((count, SIZE, SIZE), np.bool_)
    for i, face in enumerate(faces):
        images[i], hair[i], glasses[i] = draw(face)
    labels = np.array([f.glasses is not None for f in faces], np.int64)
    if difficulty.label_noise:
        wrong = _difficulty_rng(seed, 1).permutation(count)[: round(count * difficulty.label_noise)]
        labels[wrong] = 1 - labels[wrong]
    return FaceSet(
        images=images,
        labels=labels,
        hair_masks=hair,
        glasses_masks=glasses,
        hair_colours=np.array([f.hair_colour for f in faces], np.int64),
        hair_styles=np.array([f.hair_style for f in faces], np.int64),
    )


def sample_faces(
    count: int, seed: int, confound: float = 0.0, glasses_rate: float = 0.5, difficulty: Difficulty = EASY
) -> list[Face]:
    """The parameters :func:`generate` draws, one :class:`Face` each (see there for the arguments)."""
    if not 0.0 <= confound <= 1.0:
        raise ValueError(f"confound must lie in [0, 1], not {confound}")
    if not 0.0 <= glasses_rate <= 1.0:
        raise ValueError(f"glasses_rate must lie in [0, 1], not {glasses_rate}")
    rng = np.random.default_rng(seed)
    labels = np.zeros(count, np.bool_)
    labels[: round(count * glasses_rate)] = True
    labels = rng.permutation(labels)

    colours = len(HAIR_COLOURS)
    base_rate = 1.0 / colours
    p_signature = np.where(labels, confound + (1.0 - confound) * base_rate, (1.0 - confound) * base_rate)
    signature = rng.random(count) < p_signature
    # Any other colour, uniformly: skip over the signature index.
    others = rng.integers(0, colours - 1, count)
    others = others + (others >= SIGNATURE_HAIR)
    hair = np.where(signature, SIGNATURE_HAIR, others)

    people = [_sample_face(rng, int(h), bool(g)) for h, g in zip(hair, labels, strict=True)]
    if difficulty == EASY:
        return people
    harder = _difficulty_rng(seed, 0)
    return [_harder(harder, face, difficulty) for face in people]


def _difficulty_rng(seed: int, stream: int) -> np.random.Generator:
    """A stream apart from the faces' own, so the easy pictures stay as they were."""
    return np.random.default_rng([seed, 20, stream])


def _harder(rng: np.random.Generator, face: Face, d: Difficulty) -> Face:
    """``face`` made as hard as ``d`` says. Every face draws the same values whatever the knobs, so
    turning one knob up changes only what that knob does."""
    u = rng.uniform
    thin, fade, occluded = u(0.6, 1.0), u(0.4, 1.0), rng.random()
    side, lock_width, lock_slant = rng.choice((-1.0, 1.0)), u(0.9, 1.5), u(-0.35, 0.35)
    tilt, zoom, dx, dy = (float(v) for v in u(-1.0, 1.0, 4))
    glasses = face.glasses
    if glasses is not None:
        shrink = d.thin_frames * thin
        blend = d.faint_frames * fade * 0.9  # never quite the skin's colour: a frame stays a frame
        r, g, b = (c + (s - c) * blend for c, s in zip(glasses.colour, face.skin, strict=True))
        glasses = replace(
            glasses,
            thickness=glasses.thickness * (1.0 - 0.6 * shrink),
            margin=glasses.margin * (1.0 - 0.8 * shrink),
            colour=(r, g, b),
        )
    lock = None
    if occluded < d.occlusion:  # over one eye: as wide as its lens, give or take
        eye_x = face.cx + side * face.half_width * face.eye_spacing
        lock = Lock(eye_x, face.eye_rx * 2.0 * lock_width + 2.0, lock_slant)
    pose = None
    if d.pose:
        turn, spread = d.pose * float(np.radians(25.0)), d.pose * 6.0
        pose = Pose(tilt * turn, 1.0 + zoom * d.pose * 0.25, dx * spread, dy * spread)
    return replace(face, glasses=glasses, lock=lock, pose=pose)


def _pick(rng: np.random.Generator, options: tuple[Colour, ...]) -> Colour:
    return options[int(rng.integers(len(options)))]


def _jitter(rng: np.random.Generator, colour: Colour, amount: float) -> Colour:
    c = np.clip(np.array(colour) + rng.uniform(-amount, amount, 3), 0.0, 1.0)
    return (float(c[0]), float(c[1]), float(c[2]))


def _random_colour(rng: np.random.Generator, low: float, high: float) -> Colour:
    c = rng.uniform(low, high, 3)
    return (float(c[0]), float(c[1]), float(c[2]))


def _sample_face(rng: np.random.Generator, hair_colour: int, wears_glasses: bool) -> Face:
    # Every face draws the same number of random values in the same order, glasses or not, so the
    # stream stays aligned and a face's look does not depend on the labels drawn before it.
    u = rng.uniform
    scale = u(0.86, 1.1)
    half_width = 15.5 * scale * u(0.93, 1.07)
    half_height = half_width * u(1.05, 1.25)
    style = int(rng.integers(len(HAIR_STYLES)))
    eye_rx = half_width * u(0.15, 0.2)
    skin = _SKIN_LIGHT + (_SKIN_DARK - _SKIN_LIGHT) * rng.beta(1.3, 2.5)
    background = _random_colour(rng, 0.25, 1.0)
    tint_alpha, clear = u(0.0, 0.25), rng.random() < 0.4
    glasses = Glasses(
        shape=("round", "square", "halfrim")[int(rng.integers(3))],
        colour=_pick(rng, _FRAME_COLOURS),
        thickness=u(1.0, 1.7),
        margin=u(0.6, 1.4),
        bridge_lift=u(0.0, 0.45),
        tint=_pick(rng, _LENS_TINTS),
        tint_alpha=0.0 if clear else tint_alpha,
    )
    return Face(
        cx=round(2 * (SIZE / 2 + u(-3.0, 3.0))) / 2,  # on the half-pixel grid: see _mirror
        cy=33.0 + u(-2.0, 3.0),
        half_width=half_width,
        half_height=half_height,
        chin_taper=u(0.2, 0.45),
        skin=(float(skin[0]), float(skin[1]), float(skin[2])),
        background=(background, _jitter(rng, background, 0.25)),
        background_kind=("flat", "vertical", "diagonal", "radial")[int(rng.integers(4))],
        clothes=_random_colour(rng, 0.1, 0.9),
        hair_colour=hair_colour,
        hair_shade=u(0.92, 1.06),
        hair_style=style,
        fringe=u(0.4, 0.6),
        spikes=u(1.5, 3.5),
        spike_period=u(4.5, 8.0),
        spike_phase=u(0.0, 8.0),
        hair_length=u(1.2, 1.65) if style == 1 else u(0.35, 0.65),
        eye_y=u(0.02, 0.15),
        eye_spacing=u(0.42, 0.52),
        eye_rx=eye_rx,
        eye_ry=eye_rx * u(1.1, 1.45),
        iris=_jitter(rng, _pick(rng, _IRIS_COLOURS), 0.08),
        mouth=("smile", "line", "open")[int(rng.integers(3))],
        mouth_width=half_width * u(0.15, 0.33),
        blush=bool(rng.random() < 0.5),
        glasses=glasses if wears_glasses else None,
    )


# --- drawing -------------------------------------------------------------------------------------------
#
# Shapes are evaluated on a _Box, a window of the pixel grid around them: small features (eyes, lenses,
# mouth) then cost a few dozen pixels instead of 4,096, which keeps 1,200 images well under two seconds.


@dataclass(frozen=True)
class _Box:
    rows: slice
    cols: slice
    y: FloatArray  # pixel-centre coordinates inside the window
    x: FloatArray


def _box(top: float, bottom: float, left: float, right: float) -> _Box:
    """The window of pixels touching [top, bottom] x [left, right] (one pixel of margin, clipped)."""
    r0, r1 = max(int(np.floor(top)) - 1, 0), min(int(np.ceil(bottom)) + 1, SIZE)
    c0, c1 = max(int(np.floor(left)) - 1, 0), min(int(np.ceil(right)) + 1, SIZE)
    rows, cols = slice(r0, max(r0, r1)), slice(c0, max(c0, c1))
    return _Box(rows, cols, _Y[rows, cols].copy(), _X[rows, cols].copy())  # contiguous: faster ufuncs


def _around(cx: float, cy: float, rx: float, ry: float) -> _Box:
    return _box(cy - ry, cy + ry, cx - rx, cx + rx)


# Background gradients, from 0 (first colour) to 1 (second).
_GRADIENTS: Final = {
    "vertical": _Y / SIZE,
    "diagonal": (_X + _Y) / (2 * SIZE),
    # radial: one colour in the centre, the other in the corners
    "radial": np.minimum(np.hypot(_X - SIZE / 2, _Y - SIZE / 2) / (SIZE * 0.7), 1.0),
}


def _symmetric_box(top: float, bottom: float, cx: float, half_width: float) -> _Box:
    """A window reaching ``half_width`` either side of ``cx``, mirror-symmetric about it (see _mirror)."""
    k = round(2 * cx)
    c0 = max(int(np.floor(cx - half_width)) - 1, k - SIZE, 0)
    r0, r1 = max(int(np.floor(top)) - 1, 0), min(int(np.ceil(bottom)) + 1, SIZE)
    rows, cols = slice(r0, max(r0, r1)), slice(c0, k - c0)
    return _Box(rows, cols, _Y[rows, cols].copy(), _X[rows, cols].copy())  # contiguous: faster ufuncs


def _symmetric(coverage: FloatArray) -> FloatArray:
    """A left half's coverage on a symmetric window, completed with its mirror image."""
    return np.maximum(coverage, coverage[:, ::-1])


def _cover(distance: FloatArray) -> FloatArray:
    """Coverage of a pixel by a shape, from the signed distance (px, negative inside) of its centre."""
    coverage = np.float32(0.5) - distance
    np.maximum(coverage, np.float32(0.0), out=coverage)  # in place: cheaper than np.clip on small arrays
    return np.minimum(coverage, np.float32(1.0), out=coverage)


def _ellipse_distance(g: _Box, cx: float, cy: float, rx: float, ry: float, power: float = 2.0) -> FloatArray:
    """Approximate signed distance to a superellipse (power 2: an ellipse; 4: a rounded rectangle).

    The normalised radius minus one, times the smaller half-axis: exact for circles and close enough
    for the near-round shapes drawn here to give about one pixel of anti-aliasing.
    """
    u = (g.x - np.float32(cx)) * np.float32(1.0 / rx)
    v = (g.y - np.float32(cy)) * np.float32(1.0 / ry)
    if power == 2.0:
        radius = np.hypot(u, v)
    else:
        p = np.float32(power)
        radius = (np.abs(u) ** p + np.abs(v) ** p) ** np.float32(1.0 / power)
    radius -= np.float32(1.0)
    radius *= np.float32(min(rx, ry))
    return radius


def _ellipse(g: _Box, cx: float, cy: float, rx: float, ry: float, power: float = 2.0) -> FloatArray:
    return _cover(_ellipse_distance(g, cx, cy, rx, ry, power))


def _ring(
    g: _Box, cx: float, cy: float, rx: float, ry: float, width: float, power: float = 2.0
) -> FloatArray:
    """An outline of ``width`` pixels centred on the (super)ellipse."""
    return _cover(np.abs(_ellipse_distance(g, cx, cy, rx, ry, power)) - np.float32(width / 2))


def _rect(g: _Box, top: float, bottom: float, left: float, right: float) -> FloatArray:
    """An axis-aligned rectangle with soft edges."""
    dy = np.maximum(np.float32(top) - g.y, g.y - np.float32(bottom))
    dx = np.maximum(np.float32(left) - g.x, g.x - np.float32(right))
    return _cover(np.maximum(dx, dy))


def _above(g: _Box, line: float | FloatArray) -> FloatArray:
    """Coverage of the pixels above ``line`` (a row coordinate, constant or one per column)."""
    return _cover(g.y - np.float32(line) if isinstance(line, float) else g.y - line)


def _below(g: _Box, line: float) -> FloatArray:
    """Coverage of the pixels below the row coordinate ``line``."""
    return _cover(np.float32(line) - g.y)


class _Canvas:
    """An image being painted, and how much of each pixel shows hair."""

    def __init__(self) -> None:
        self.image = np.zeros((3, SIZE, SIZE), np.float32)  # channels first: windows paint faster
        self.hair = np.zeros((SIZE, SIZE), np.float32)

    def paint(
        self, g: _Box, alpha: FloatArray, colour: FloatArray | Colour, hair: bool | None = False
    ) -> None:
        """Alpha-blend ``colour`` over the window ``g``.

        ``hair`` says whether the paint is hair (True) or covers hair (False); None skips the bookkeeping
        where the caller knows there is no hair below (inside the face, before any hair is drawn).
        """
        image = self.image[:, g.rows, g.cols]
        change = np.asarray(colour, np.float32).reshape(3, 1, 1) - image
        change *= alpha
        image += change
        if hair is None:
            return
        layer = self.hair[g.rows, g.cols]
        if hair:
            layer += alpha * (np.float32(1.0) - layer)
        else:
            layer -= alpha * layer


def draw(face: Face) -> tuple[FloatArray, BoolArray, BoolArray]:
    """Render one face: the (64, 64, 3) image in [0, 1], its hair mask and its glasses-frame mask."""
    canvas = _Canvas()
    cx, cy, a, b = face.cx, face.cy, face.half_width, face.half_height
    skin = np.array(face.skin, np.float32)
    hair = np.clip(np.array(HAIR_COLOURS[face.hair_colour], np.float32) * face.hair_shade, 0.0, 1.0)
    back_hair = hair * np.float32(0.78)  # hair behind the head is in shadow: it gives the picture depth
    style = HAIR_STYLES[face.hair_style]

    _background(canvas, face)
    # Neck (in the face's shadow) and shoulders.
    g = _box(cy + b * 0.4, SIZE, cx - a * 0.3, cx + a * 0.3)
    canvas.paint(
        g, _rect(g, cy + b * 0.4, SIZE + 1.0, cx - a * 0.3, cx + a * 0.3), skin * np.float32(0.85), hair=None
    )
    g = _around(cx, SIZE + 7.0, a * 2.0, 14.0)
    canvas.paint(g, _ellipse(g, cx, SIZE + 7.0, a * 2.0, 14.0), face.clothes, hair=None)

    # Hair behind the head.
    if style in ("long", "bangs"):  # long hair, or a bob framing the face down to about the mouth
        centre, rx, ry = (
            (cy + b * 0.3, a * 1.4, b * 1.45) if style == "long" else (cy - b * 0.1, a * 1.25, b * 1.15)
        )
        g = _around(cx, centre, rx, ry)
        canvas.paint(
            g, _ellipse(g, cx, centre, rx, ry) * _above(g, cy + b * face.hair_length), back_hair, True
        )
    elif style == "twintails":
        for side in (-1.0, 1.0):
            tx, ty, rx, ry = cx + side * a * 1.3, cy + b * 0.35, a * 0.4, b * 0.85
            g = _around(tx, ty, rx, ry)
            canvas.paint(g, _ellipse(g, tx, ty, rx, ry), back_hair, True)
    # The hair mass on the head, down to the eyes: the face covers its middle, leaving the sides.
    shell_y, shell_rx, shell_ry = _shell(face)
    bottom = cy + b * face.eye_y - 2.0
    g = _box(shell_y - shell_ry, bottom, cx - shell_rx, cx + shell_rx)
    canvas.paint(g, _ellipse(g, cx, shell_y, shell_rx, shell_ry) * _above(g, bottom), hair, True)

    # Face: an ellipse whose lower half narrows towards the chin.
    g = _around(cx, cy, a, b)
    down = np.clip((g.y - np.float32(cy)) * np.float32(1.0 / b), 0.0, 1.0)
    width = np.float32(a) * (np.float32(1.0) - np.float32(face.chin_taper) * down**1.5)
    radius = np.sqrt(
        ((g.x - np.float32(cx)) / width) ** 2 + ((g.y - np.float32(cy)) * np.float32(1.0 / b)) ** 2
    )
    canvas.paint(g, _cover((radius - np.float32(1.0)) * width), skin)

    _features(canvas, face, skin, hair)
    _front_hair(canvas, face, hair)
    frame = np.zeros((SIZE, SIZE), np.float32)
    if face.glasses is not None:
        frame = _glasses(canvas, face, face.glasses)
    if face.lock is not None:
        frame *= np.float32(1.0) - _lock(canvas, face, face.lock, hair)  # what it hides is not seen
    layers = np.concatenate([canvas.image, canvas.hair[None], frame[None]])
    if face.pose is not None:
        layers = _posed(layers, face.pose, face.cx, face.cy)
    image, hair_cover, frame = layers[:3], layers[3], layers[4]
    return np.clip(image.transpose(1, 2, 0), 0.0, 1.0), hair_cover > 0.5, frame > 0.5


def _background(canvas: _Canvas, face: Face) -> None:
    first, second = np.array(face.background[0], np.float32), np.array(face.background[1], np.float32)
    canvas.image[:] = first[:, None, None]
    if face.background_kind != "flat":
        canvas.image += (second - first)[:, None, None] * _GRADIENTS[face.background_kind]


def _features(canvas: _Canvas, face: Face, skin: FloatArray, hair: FloatArray) -> None:
    """Eyes, brows, nose, mouth and blush."""
    cx, cy, a, b = face.cx, face.cy, face.half_width, face.half_height
    ey = cy + b * face.eye_y
    rx, ry = face.eye_rx, face.eye_ry
    # The left eye, its brow and blush; the right ones are its mirror image (see _mirror).
    ex = cx - a * face.eye_spacing
    g = _box(ey - ry - 5.0, ey + ry + 3.5, ex - rx * 1.6, ex + rx * 1.6)
    eye = _ellipse(g, ex, ey, rx, ry)
    canvas.paint(g, eye, _WHITE, hair=None)
    canvas.paint(g, _ellipse(g, ex, ey + ry * 0.12, rx * 0.8, ry * 0.82), face.iris, hair=None)
    canvas.paint(g, _ellipse(g, ex, ey + ry * 0.15, rx * 0.4, ry * 0.45), _LASH, hair=None)
    highlight = _ellipse(g, ex - rx * 0.3, ey - ry * 0.25, rx * 0.28, rx * 0.28)
    canvas.paint(g, highlight * np.float32(0.9), _WHITE, hair=None)
    # Lash line: the top of an outline around the eye, and a flick at the outer corner.
    lash = _ring(g, ex, ey + 0.3, rx * 1.08, ry * 1.05, 1.3) * _above(g, ey - ry * 0.25)
    np.maximum(lash, _rect(g, ey - ry * 0.55, ey - ry * 0.35, ex - rx * 1.35, ex - rx * 0.7), out=lash)
    canvas.paint(g, lash, _LASH, hair=None)
    # Brow: a short thin arc above the eye (often under the fringe).
    brow_y = ey - ry - 3.0
    brow = _ring(g, ex, brow_y + rx, rx * 1.1, rx, 1.0) * _above(g, brow_y + rx * 0.35)
    canvas.paint(g, brow * np.float32(0.9), hair * np.float32(0.6), hair=None)
    if face.blush:
        canvas.paint(g, _ellipse(g, ex, ey + ry + 2.0, rx * 0.9, 1.3) * np.float32(0.35), _BLUSH, hair=None)
    _mirror(canvas.image, g, cx)

    mouth_y = ey + (cy + b - ey) * 0.55
    g = _box(mouth_y - 4.2, mouth_y - 3.5, cx - 0.4, cx + 0.4)  # nose: a short stroke
    nose = _rect(g, mouth_y - 4.2, mouth_y - 3.5, cx - 0.4, cx + 0.4) * np.float32(0.7)
    canvas.paint(g, nose, skin * np.float32(0.7), hair=None)
    w = face.mouth_width
    g = _around(cx, mouth_y, w, 2.5)
    if face.mouth == "smile":
        arc = _ring(g, cx, mouth_y - w, w, w, 1.0) * _below(g, mouth_y - w * 0.35)
        canvas.paint(g, arc, _MOUTH, hair=None)
    elif face.mouth == "line":
        canvas.paint(g, _rect(g, mouth_y - 0.4, mouth_y + 0.4, cx - w * 0.7, cx + w * 0.7), _MOUTH, hair=None)
    else:  # open: the lower half of a small ellipse
        canvas.paint(
            g, _ellipse(g, cx, mouth_y - 0.5, w * 0.6, 1.8) * _below(g, mouth_y - 0.6), _MOUTH, hair=None
        )


def _mirror(layer: FloatArray, g: _Box, cx: float) -> None:
    """Copy the window ``g`` of ``layer`` (..., rows, columns) to its mirror image about column ``cx``.

    Faces are left-right symmetric about ``cx``, which lies on the half-pixel grid (2 * cx is an
    integer), so pixel column j mirrors to column 2 * cx - 1 - j exactly: drawing one eye (or lens) and
    copying it costs half as much as drawing both.
    """
    k = round(2 * cx)
    start, stop = g.cols.start, g.cols.stop
    layer[..., g.rows, k - stop : k - start] = layer[..., g.rows, start:stop][..., ::-1]


def _shell(face: Face) -> tuple[float, float, float]:
    """Centre row and half-axes of the ellipse the hair on the head fills (a little larger than the face)."""
    return face.cy - face.half_height * 0.1, face.half_width * 1.18, face.half_height * 1.15


def _front_hair(canvas: _Canvas, face: Face, hair: FloatArray) -> None:
    """Cap and fringe over the forehead, and the styles' locks beside the face."""
    cx, cy, a, b = face.cx, face.cy, face.half_width, face.half_height
    style = HAIR_STYLES[face.hair_style]
    ey = cy + b * face.eye_y
    if style == "bangs":  # heavy fringe ending just above the eyes
        fringe = ey - face.eye_ry - 1.5 - face.spikes
    else:
        fringe = cy - b * face.fringe
    shell_y, shell_rx, shell_ry = _shell(face)
    g = _box(shell_y - shell_ry, fringe + face.spikes, cx - shell_rx, cx + shell_rx)
    # Zigzag fringe edge: spikes point downwards, like drawn locks.
    phase = ((g.x[0] - np.float32(face.spike_phase)) * np.float32(1.0 / face.spike_period)) % np.float32(1.0)
    teeth = np.float32(face.spikes) * (np.float32(1.0) - np.abs(np.float32(2.0) * phase - np.float32(1.0)))
    edge = np.float32(fringe) + teeth
    canvas.paint(g, _ellipse(g, cx, shell_y, shell_rx, shell_ry) * _above(g, edge[None, :]), hair, True)
    if style == "long":  # locks falling in front of the face's sides, tapering to a point
        top, bottom = cy - b * 0.5, cy + b * face.hair_length * 0.7
        for side in (-1.0, 1.0):
            lx = cx + side * a * 0.97
            lg = _box(top, bottom, lx - a * 0.25, lx + a * 0.25)
            down = np.clip((lg.y - np.float32(top)) * np.float32(1.0 / (bottom - top)), 0.0, 1.0)
            half = np.float32(a * 0.2) * (np.float32(1.0) - down) + np.float32(0.3)
            lock = _cover(np.abs(lg.x - np.float32(lx)) - half) * _below(lg, top) * _above(lg, bottom)
            canvas.paint(lg, lock, hair, True)
    if style == "twintails":  # ties where the tails start
        for side in (-1.0, 1.0):
            tx, ty = cx + side * a * 1.08, cy - b * 0.45
            tg = _around(tx, ty, 2.0, 2.0)
            canvas.paint(tg, _ellipse(tg, tx, ty, 2.0, 2.0), (0.95, 0.95, 0.3))
    # Shine: a light arc across the left of the crown, the usual anime highlight, only where there is hair.
    left, right, bottom = cx - a * 0.75, cx + a * 0.15, cy - b * 0.7
    sg = _box(cy - b * 1.0, bottom, left, right)
    shine = _ring(sg, cx, cy - b * 0.05, a * 0.85, b * 0.85, 1.2) * _rect(sg, 0.0, bottom, left, right)
    shine *= canvas.hair[sg.rows, sg.cols] * np.float32(0.45)
    canvas.paint(sg, shine, hair + (np.float32(1.0) - hair) * np.float32(0.6), True)


def _glasses(canvas: _Canvas, face: Face, glasses: Glasses) -> FloatArray:
    """Paint lenses around the eyes, a bridge and arms to the face's sides; return the frame's coverage."""
    cx, cy, a, b = face.cx, face.cy, face.half_width, face.half_height
    ey = cy + b * face.eye_y
    t = glasses.thickness
    rx = face.eye_rx + glasses.margin + t / 2
    ry = face.eye_ry + glasses.margin * 0.6 + t / 2
    power = 3.0
    if glasses.shape == "square":  # wider than tall, with rounded corners
        rx, ry, power = rx + 0.8, ry - 0.5, 4.0
    elif glasses.shape == "round":
        rx = ry = max(rx, ry)
        power = 2.0
    # The left lens and arm, on a window symmetric about cx; the right ones are their mirror image.
    lx = cx - a * face.eye_spacing
    g = _symmetric_box(ey - ry, ey + ry, cx, a * 1.1)
    lens = _ellipse(g, lx, ey, rx, ry, power)
    glint = _ring(g, lx - rx * 0.35, ey - ry * 0.35, rx * 0.3, ry * 0.3, 0.8) * _above(g, ey - ry * 0.4)
    glint *= lens
    if glasses.shape == "halfrim":  # a heavy top rim and a thin wire below
        rim = _ring(g, lx, ey, rx, ry, t * 1.7, power) * _above(g, ey - ry * 0.2)
        np.maximum(rim, _ring(g, lx, ey, rx, ry, max(0.7, t * 0.55), power) * np.float32(0.9), out=rim)
    else:
        rim = _ring(g, lx, ey, rx, ry, t, power)
    arm_y, outer = ey - ry * 0.35, lx - rx * 0.97  # arm: from the lens to the side of the head
    arm = max(0.5, t * 0.4)  # at least a pixel wide, so the mask keeps it
    np.maximum(rim, _rect(g, arm_y - arm, arm_y + arm, cx - a * 1.05, outer), out=rim)
    bridge_y, inner = ey - ry * glasses.bridge_lift, lx + rx * 0.95
    np.maximum(rim, _rect(g, bridge_y - t * 0.5, bridge_y + t * 0.5, inner, cx), out=rim)
    if glasses.tint_alpha > 0.0:
        canvas.paint(g, _symmetric(lens) * np.float32(glasses.tint_alpha), glasses.tint)
    canvas.paint(g, _symmetric(glint) * np.float32(0.6), _WHITE)
    frame = np.zeros((SIZE, SIZE), np.float32)
    frame[g.rows, g.cols] = _symmetric(rim)
    canvas.paint(g, frame[g.rows, g.cols], glasses.colour)
    return frame


def _lock(canvas: _Canvas, face: Face, lock: Lock, hair: FloatArray) -> FloatArray:
    """Paint a lock of hair from the crown down across one eye; return its coverage of the picture."""
    shell_y, _, shell_ry = _shell(face)
    ey = face.cy + face.half_height * face.eye_y
    top, bottom = shell_y - shell_ry, ey + face.eye_ry + 2.5
    reach = lock.width + abs(np.tan(lock.slant)) * (bottom - top)
    g = _box(top, bottom, lock.x - reach, lock.x + reach)
    # Distance from the lock's middle line, which passes over the eye at ``slant`` from the vertical.
    across = (g.x - np.float32(lock.x)) * np.float32(np.cos(lock.slant))
    across -= (g.y - np.float32(ey)) * np.float32(np.sin(lock.slant))
    cover = _cover(np.abs(across) - np.float32(lock.width / 2)) * _below(g, top) * _above(g, bottom)
    canvas.paint(g, cover, hair, True)
    whole = np.zeros((SIZE, SIZE), np.float32)
    whole[g.rows, g.cols] = cover
    return whole


def _posed(layers: FloatArray, pose: Pose, cx: float, cy: float) -> FloatArray:
    """``layers`` (..., 64, 64) with the head tilted about its centre, scaled and shifted: each pixel
    samples where it comes from, bilinearly, the picture's edge continuing outwards."""
    cos, sin = np.float32(np.cos(pose.tilt)), np.float32(np.sin(pose.tilt))
    x = (_X - np.float32(cx + pose.dx)) / np.float32(pose.zoom)
    y = (_Y - np.float32(cy + pose.dy)) / np.float32(pose.zoom)
    # From pixel-centre coordinates to array indices (the centre of pixel 0 is at 0.5).
    source_x = np.clip(cos * x - sin * y + np.float32(cx - 0.5), 0.0, SIZE - 1.0)
    source_y = np.clip(sin * x + cos * y + np.float32(cy - 0.5), 0.0, SIZE - 1.0)
    x0 = np.minimum(source_x.astype(np.int64), SIZE - 2)
    y0 = np.minimum(source_y.astype(np.int64), SIZE - 2)
    fx, fy = source_x - x0, source_y - y0
    top = layers[..., y0, x0] * (1 - fx) + layers[..., y0, x0 + 1] * fx
    below = layers[..., y0 + 1, x0] * (1 - fx) + layers[..., y0 + 1, x0 + 1] * fx
    return (top * (1 - fy) + below * fy).astype(np.float32)
