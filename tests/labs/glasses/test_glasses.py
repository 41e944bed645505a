"""The glasses lab end to end: training on generated faces, the shortcut trap,
checkpoints and resume, a user's own folder, and `meetup-lab predict`.

Real TensorFlow and Keras on small configurations (few filters, few images)
so the whole file runs in a few minutes on 2 cores; the full-size run is
benchmarks/bench_glasses.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from labs import events as ev
from labs.context import RunContext
from labs.glasses import faces, pictures
from labs.glasses.lab import DEFAULT_DIFFICULTY, GlassesParams
from labs.params import ParamError
from labs.registry import get_lab
from tests.support import drain, kill_group, only_run_dir, run_cli, run_pid, start_cli, wait_until

# Small enough for CI, big enough to learn: 8 filters, 600 images, 4 augmented copies a pass, of
# the easy pictures (the default difficulty is for a full run).
TINY = {
    "difficulty": "easy",
    "filters": "8",
    "train_images": "600",
    "test_images": "200",
    "new_images": "200",
    "expansion": "4",
    "epochs": "3",
    "batch_size": "32",
}


def train(tmp_path: Path, **values: Any) -> tuple[list[ev.Event], dict[str, Any]]:
    keras.utils.set_random_seed(0)  # as the run's process does before a lab starts
    params = get_lab("glasses").build_params({**TINY, **values})
    return drain(get_lab("glasses").load_run()(params, RunContext(tmp_path, 0, "cpu")))


@pytest.mark.slow
def test_tutorial_model_learns_glasses_on_generated_faces(tmp_path: Path) -> None:
    events, summary = train(tmp_path)
    assert summary["val_accuracy"] >= 0.95
    assert summary["new_accuracy"] >= 0.9  # no confound: new characters are no harder
    frames = {e.name for e in events if isinstance(e, ev.Frame)}
    assert frames == {"augmented samples", "predictions", "where it looks"}
    grid = next(e for e in events if isinstance(e, ev.Frame) and e.name == "predictions")
    assert grid.data.ndim == 3 and grid.data.shape[2] == 3  # an RGB picture
    batch_metrics = [e for e in events if isinstance(e, ev.Metric) and "images_per_s" in e.values]
    assert batch_metrics and all(m.values["images_per_s"] > 0 for m in batch_metrics)
    epochs = [e.values["epoch"] for e in events if isinstance(e, ev.Metric) and "epoch" in e.values]
    assert epochs == [1, 2, 3]
    assert (tmp_path / "artifacts" / "model.keras").is_file()
    confusion = np.load(tmp_path / "artifacts" / "confusion_test.npy")
    assert confusion.sum() == 200 and np.trace(confusion) / 200 == pytest.approx(
        summary["val_accuracy"], abs=0.01
    )
    assert json.loads((tmp_path / "checkpoint.json").read_text()) == {
        "epoch": 3,
        "model": "checkpoint-3.keras",
    }
    # One whole checkpoint is kept, and nothing half-written.
    assert sorted(p.name for p in tmp_path.glob("*checkpoint*")) == ["checkpoint-3.keras", "checkpoint.json"]


@pytest.mark.slow
def test_the_default_difficulty_is_clearly_harder_than_easy_and_still_learned(tmp_path: Path) -> None:
    """On one small budget (twice TINY's augmented copies, an epoch more: TINY's leaves the
    default difficulty near chance), the talk's difficulty scores well below the easy pictures and
    well above chance (0.5). Scored on the test and new sets together (400 images), so one seed's
    luck moves it less: for seeds 0 to 3, 0.83 to 0.87 against 1.0 (docs/labs/glasses.md)."""
    budget = {"expansion": "8", "epochs": "4"}
    _, easy = train(tmp_path / "easy", **budget)
    _, talk = train(tmp_path / "talk", difficulty=DEFAULT_DIFFICULTY, **budget)

    def score(summary: dict[str, Any]) -> float:
        return (summary["val_accuracy"] + summary["new_accuracy"]) / 2

    assert score(easy) >= 0.97
    assert 0.7 <= score(talk) <= score(easy) - 0.08


@pytest.mark.slow
def test_a_confound_is_learned_instead_of_the_glasses(tmp_path: Path) -> None:
    _, tied = train(tmp_path / "tied", confound="1.0")
    _, free = train(tmp_path / "free", confound="0.0")
    # Glasses always come with the signature hair in train and test: the model
    # scores there, and fails on new characters where the tie is broken.
    assert tied["val_accuracy"] >= 0.95
    assert tied["new_accuracy"] < tied["val_accuracy"] - 0.2
    assert free["new_accuracy"] > free["val_accuracy"] - 0.08
    # Where the models look, over glasses-wearers of the new set: hiding the
    # hair hurts the tied model more than hiding the glasses.
    new = faces.generate(200, 0 * 3 + 2, confound=0.0)
    for folder, hair_first in (("tied", True), ("free", False)):
        model = keras.models.load_model(tmp_path / folder / "artifacts" / "model.keras")
        hair, glasses = look_shares(model, new)
        assert (hair > glasses) == hair_first, (folder, hair, glasses)


def region_share(sensitivity: np.ndarray, mask: np.ndarray) -> float:
    """Mean positive sensitivity inside ``mask``: how much hiding that region hurts, per pixel."""
    return float(np.clip(sensitivity, 0, None)[mask].mean())


def look_shares(model: Any, new: faces.FaceSet) -> tuple[float, float]:
    from labs.glasses.stream import OCCLUSION_PATCH, OCCLUSION_STRIDE, evidence

    hair, glasses = [], []
    # Wearers with the signature hair: where a model that learned the hair has something to show.
    for i in np.flatnonzero((new.labels == 1) & (new.hair_colours == faces.SIGNATURE_HAIR))[:5]:
        sensitivity = pictures.occlusion_map(
            lambda x: evidence(model, x, 1), new.images[i], OCCLUSION_PATCH, OCCLUSION_STRIDE
        )
        hair.append(region_share(sensitivity, new.hair_masks[i]))
        glasses.append(region_share(sensitivity, new.glasses_masks[i]))
    return float(np.mean(hair)), float(np.mean(glasses))


@pytest.mark.slow
def test_compare_trains_both_models_side_by_side(tmp_path: Path) -> None:
    events, summary = train(tmp_path, model="compare", epochs="1", expansion="1", new_images="0")
    for kind in ("tutorial", "local"):
        assert summary[f"{kind}_parameters"] > 0 and summary[f"{kind}_mflops"] > 0
        assert 0 <= summary[f"{kind}_val_accuracy"] <= 1
        assert (tmp_path / "artifacts" / f"{kind}_model.keras").is_file()
    names = set().union(*(e.values for e in events if isinstance(e, ev.Metric)))
    assert {"tutorial_images_per_s", "local_images_per_s", "tutorial_loss", "local_loss"} <= names
    # The loss is the cross-entropy plus the weight decay, which only the tutorial's dense layers carry.
    assert summary["tutorial_weight_decay"] > 0.1 and summary["local_weight_decay"] == 0.0
    for kind in ("tutorial", "local"):
        with_decay = summary[f"{kind}_val_xent"] + summary[f"{kind}_weight_decay"]
        assert summary[f"{kind}_val_loss"] == pytest.approx(with_decay, abs=1e-3)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"data_dir": "/no/such/folder"}, "no such folder"),
        ({"model": "compare", "resume": "last"}, "cannot resume a comparison"),
    ],
)
def test_bad_settings_are_refused_before_the_run(values: dict[str, str], message: str) -> None:
    with pytest.raises(ParamError, match=message):
        GlassesParams(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("resume", "message"),
    [
        ("nonexistent", "resume=nonexistent: no run 'nonexistent' in {runs}"),
        ("last", "resume=last: no earlier run has a checkpoint"),
    ],
)
@pytest.mark.slow
def test_a_run_to_resume_that_is_not_there_is_refused_before_the_run(
    runs_dir: Path, resume: str, message: str
) -> None:
    done = run_cli("run", "glasses", "--headless", "--set", f"resume={resume}")
    assert done.returncode == 2
    assert done.stderr.startswith("meetup-lab: error: " + message.format(runs=runs_dir))
    assert not runs_dir.exists() or not list(runs_dir.iterdir())  # no run was started


def test_an_empty_class_folder_is_refused_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "mine" / "glasses").mkdir(parents=True)
    (tmp_path / "mine" / "no_glasses").mkdir()
    (tmp_path / "mine" / "no_glasses" / "a.png").write_bytes(b"x")
    with pytest.raises(ParamError, match=r"glasses/ holds no image files"):
        GlassesParams(data_dir=str(tmp_path / "mine"))


@pytest.mark.slow
def test_files_that_do_not_decode_are_counted_and_named_not_a_missing_class(tmp_path: Path) -> None:
    data = tmp_path / "mine"
    write_folder(data, 40, seed=2)
    for image in (data / "glasses").iterdir():
        image.write_bytes(b"not an image")
    count = len(list((data / "glasses").iterdir()))
    sets = [arg for k, v in TINY.items() for arg in ("--set", f"{k}={v}")]
    done = run_cli("run", "glasses", "--headless", "--device", "cpu", *sets, "--set", f"data_dir={data}")
    assert done.returncode == 1
    reason = f"data_dir={data}: {count} of {count} files in glasses/ could not be decoded"
    assert "status: failed after" in done.stdout and reason in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.slow
def test_resume_takes_the_newest_checkpoint_that_is_whole(tmp_path: Path) -> None:
    """As a kill can leave a run folder: a model half-written under its temporary name, the json
    naming an epoch whose model never landed, and (damaged by hand) a newer model that does not load."""
    runs = tmp_path / "runs"
    first = runs / "20260101-000000-glasses-aaaa"
    first.mkdir(parents=True)
    train(first, epochs="1", new_images="0")
    (first / ".checkpoint-2.tmp.keras").write_bytes(b"")  # killed while writing epoch 2
    (first / "checkpoint.json").write_text('{"epoch": 2, "model": "checkpoint-2.keras"}')
    shutil.copy(first / "checkpoint-1.keras", first / "checkpoint-0.keras")  # an older whole one
    (first / "checkpoint-1.keras").write_bytes(b"PK\x03\x04 cut short")  # the newest, damaged
    (first / "params.json").write_text(json.dumps({"lab": "glasses"}))  # a run folder, for find_run
    (runs / "second").mkdir()
    events, _ = train(runs / "second", epochs="1", new_images="0", resume=first.name)
    logs = [e.message for e in events if isinstance(e, ev.Log)]
    assert f"resumed tutorial from {first.name}, after epoch 0 (checkpoint-0.keras)" in logs


def write_folder(root: Path, count: int, seed: int) -> dict[str, np.ndarray]:
    """Generated faces saved as PNG and JPEG files under glasses/ and no_glasses/; the 8-bit
    pixels written, by file (relative to ``root``)."""
    made = faces.generate(count, seed)
    written = {}
    for i, (image, label) in enumerate(zip(made.images, made.labels, strict=True)):
        folder = root / ("glasses" if label else "no_glasses")
        folder.mkdir(parents=True, exist_ok=True)
        pixels = tf.image.convert_image_dtype(image, tf.uint8)
        encoded = tf.io.encode_png(pixels) if i % 2 else tf.io.encode_jpeg(pixels, quality=95)
        path = folder / f"face{i}.{'png' if i % 2 else 'jpg'}"
        path.write_bytes(encoded.numpy())
        written[str(path.relative_to(root))] = pixels.numpy()
    return written


def test_training_and_predict_read_a_file_to_the_same_array(tmp_path: Path) -> None:
    """A model must be shown an image at prediction as it was shown it in training."""
    from labs.glasses import data, predict

    folder = tmp_path / "mine"
    written = write_folder(folder, 6, seed=4)  # PNG and JPEG files at 64x64
    for name in data.CLASS_DIRS:
        (folder / name).mkdir(exist_ok=True)
    big = tf.image.resize(faces.generate(1, 7).images, (90, 120))[0]  # not 64x64: resized on reading
    pixels = tf.image.convert_image_dtype(big, tf.uint8)
    (folder / "glasses" / "big.png").write_bytes(tf.io.encode_png(pixels).numpy())
    (folder / "no_glasses" / "big.jpg").write_bytes(tf.io.encode_jpeg(pixels).numpy())
    (folder / "no_glasses" / "broken.jpg").write_bytes(b"not an image")
    loaded = data.load_folder(folder)
    read = dict(predict.images(folder))
    names = [
        str(p.relative_to(folder))
        for name in data.CLASS_DIRS
        for p in sorted((folder / name).iterdir())
        if p.name != "broken.jpg"
    ]
    assert read.pop("no_glasses/broken.jpg") is None and loaded.skipped == ["no_glasses/broken.jpg"]
    assert sorted(read) == sorted(names) and len(names) == len(loaded.split.images) == 8
    for name, trained_on in zip(names, loaded.split.images, strict=True):
        shown = read[name]
        assert shown is not None and shown.shape == (data.SIZE, data.SIZE, 3) and shown.dtype == np.float32
        np.testing.assert_array_equal(shown, trained_on, err_msg=name)
    # Against what was written: a PNG's pixels exactly (in [0, 1]), a JPEG's up to its loss, and the
    # larger picture resized back to about the face it was made from.
    for name, pixels in written.items():
        shown = read[name]
        assert shown is not None
        if name.endswith(".png"):
            np.testing.assert_allclose(shown, pixels / 255.0, atol=1e-6, err_msg=name)
        else:
            assert np.abs(shown - pixels / 255.0).mean() < 0.04, name  # 4:2:0 chroma at 64 px
    face = faces.generate(1, 7).images[0]
    for name in ("glasses/big.png", "no_glasses/big.jpg"):
        shown = read[name]
        assert shown is not None and np.abs(shown - face).mean() < 0.03, name


@pytest.mark.slow
def test_a_users_folder_trains_and_skips_what_cannot_be_read(tmp_path: Path) -> None:
    data = tmp_path / "mine"
    write_folder(data, 120, seed=5)
    (data / "glasses" / "broken.png").write_bytes(b"not an image")
    (data / "no_glasses" / "notes.txt").write_text("hello")
    events, summary = train(tmp_path / "run", data_dir=str(data), epochs="1")
    # Progress counts files, not decoded images: 122 files, a tenth held out, 4 copies, batches of 32.
    params = get_lab("glasses").build_params({**TINY, "data_dir": str(data), "epochs": "1"})
    assert get_lab("glasses").total_steps(params) == -(-110 * 4 // 32)
    warnings = [e.message for e in events if isinstance(e, ev.Log) and e.level == "warning"]
    assert warnings == ["skipped 2 files that could not be decoded: no_glasses/notes.txt, glasses/broken.png"]
    logs = [e.message for e in events if isinstance(e, ev.Log)]
    assert any("108 train, 12 test images" in m for m in logs)  # 10 % held out
    assert "new_accuracy" not in summary


@pytest.mark.slow
def test_checkpoint_kill_and_resume_continue_from_the_saved_epoch(tmp_path: Path, runs_dir: Path) -> None:
    sets = [arg for k, v in TINY.items() if k != "epochs" for arg in ("--set", f"{k}={v}")]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    proc = start_cli(
        "run", "glasses", "--headless", "--json", "--device", "cpu", *sets, "--set", "epochs=30", **quiet
    )
    try:
        run_dir = wait_until(lambda: only_run_dir(runs_dir), "the run folder")
        wait_until(lambda: (run_dir / "checkpoint.json").is_file(), "the first checkpoint", timeout=300)
        pid = wait_until(lambda: run_pid(run_dir), "the run's pid")
        kill_group(pid)  # as a crash or `kill -9` would: no goodbye
        proc.wait(timeout=60)
    finally:
        proc.kill()
    saved = json.loads((run_dir / "checkpoint.json").read_text())["epoch"]
    assert saved >= 1
    resume = ["--set", f"epochs={saved + 1}", "--set", f"resume={run_dir.name}"]
    done = run_cli("run", "glasses", "--headless", "--json", "--device", "cpu", *sets, *resume, timeout=600)
    assert done.returncode == 0, done.stderr
    events = [ev.from_json(line) for line in done.stdout.splitlines()]
    logs = [e.message for e in events if isinstance(e, ev.Log)]
    assert f"resumed tutorial from {run_dir.name}, after epoch {saved} (checkpoint-{saved}.keras)" in logs
    epochs = [e.values["epoch"] for e in events if isinstance(e, ev.Metric) and "epoch" in e.values]
    assert epochs == [saved + 1]  # only the epoch that was left


@pytest.mark.slow
def test_predict_labels_a_folder_with_a_trained_run(tmp_path: Path, runs_dir: Path) -> None:
    sets = [arg for k, v in TINY.items() for arg in ("--set", f"{k}={v}")]
    done = run_cli("run", "glasses", "--headless", "--device", "cpu", *sets, timeout=600)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "to_label"
    write_folder(folder, 20, seed=9)
    (folder / "glasses" / "broken.png").write_bytes(b"\x89PNG nope")
    labelled = run_cli("predict", "last", str(folder))
    assert labelled.returncode == 0, labelled.stderr
    rows = [line.split("\t") for line in labelled.stdout.splitlines()]
    assert len(rows) == 20
    right = sum(path.split("/")[0] == label for path, label, _ in rows)
    assert right >= 18
    assert all(0.5 <= float(confidence) <= 1 for *_, confidence in rows)
    assert "glasses/broken.png\tunreadable" in labelled.stderr
    assert "20 images labelled, 1 skipped" in labelled.stderr
    missing = run_cli("predict", "last", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stderr.startswith("meetup-lab: error:")
    assert "Traceback" not in missing.stderr
