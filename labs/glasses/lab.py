"""The ``glasses`` lab: the CIFAR-10 tutorial CNN, retrained to tell glasses
from no glasses at 64x64, beside its true locally-connected exercise.

Keras ``fit`` runs on a thread of the run's process; a callback turns its
batch and epoch ends into events on a small queue, which this generator
yields. A paused run stops taking events, the queue fills, and the callback
waits: pausing the run pauses training.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labs import events as ev
from labs.context import RunContext, RunError
from labs.glasses import checkpoint, faces
from labs.params import ParamError, param
from labs.registry import Lab

MODELS = ("tutorial", "local", "compare")
DEFAULT_DIFFICULTY = "talk"


def _knob(name: str, help: str, most: float = 1.0) -> Any:  # noqa: A002 - as param's
    """A parameter of the pictures' difficulty, whose default follows the ``difficulty`` chosen."""
    levels = {level: getattr(setting, name) for level, setting in faces.DIFFICULTIES.items()}
    default = levels.pop(DEFAULT_DIFFICULTY)
    return param(default, help, min=0.0, max=most, default_by=("difficulty", levels))


@dataclass(frozen=True)
class GlassesParams:
    model: str = param(
        "tutorial", "tutorial (dense local3/local4), local (unshared 3x3), or compare both", choices=MODELS
    )
    epochs: int = param(3, "passes over the (enlarged) training set", min=1, max=10_000)
    expansion: int = param(
        25, "augmented copies of each training image per epoch (talk: 1,187 → ~30,000)", min=1, max=1000
    )
    augment: bool = param(True, "noise, flips, shifts, brightness and contrast on the fly")
    batch_size: int = param(64, "images per gradient step", min=1, max=1024)
    learning_rate: float = param(0.01, "SGD's learning rate (momentum 0.9)", min=1e-6, max=1.0)
    filters: int = param(
        64, "convolution filters (the tutorial's 64; fewer for a quick look)", min=4, max=256
    )
    train_images: int = param(1187, "generated training images (the talk's 1,187)", min=10, max=200_000)
    test_images: int = param(118, "generated test images (the talk's 118)", min=10, max=100_000)
    new_images: int = param(
        118, "generated images of new characters, where the confound does not hold", min=0, max=100_000
    )
    confound: float = param(
        0.0, "how strongly glasses go with one hair colour in train and test (0 to 1)", min=0.0, max=1.0
    )
    difficulty: str = param(
        DEFAULT_DIFFICULTY,
        "how hard the generated pictures are: easy (bold whole frames, heads upright), talk (the tutorial "
        "model scores about 90-95 %, as on the talk's photos), hard; it sets the five knobs below",
        choices=tuple(faces.DIFFICULTIES),
    )
    thin_frames: float = _knob("thin_frames", "thinner frames and lenses closer to the eyes")
    faint_frames: float = _knob("faint_frames", "frames whose colour comes closer to the skin's")
    occlusion: float = _knob("occlusion", "the share of faces with a lock of hair across one eye")
    pose: float = _knob("pose", "heads tilted (up to 25 degrees at 1), scaled and shifted")
    label_noise: float = _knob("label_noise", "the share of generated images labelled wrongly", 0.5)
    data_dir: str = param(
        "", "your own images instead: glasses/ and no_glasses/, or train/ and test/ holding them"
    )
    explain: int = param(
        0, "which glasses-wearer of the new (else test) set the occlusion map explains", min=0, max=100_000
    )
    early_stop: int = param(
        0, "stop after this many epochs without a better test loss (0: never)", min=0, max=1000
    )
    resume: str = param("", "continue a run from its last checkpoint: its id, a unique prefix, or last")

    def __post_init__(self) -> None:
        if self.data_dir:
            from labs.glasses.data import check_folder

            if (why := check_folder(self.data_dir)) is not None:
                raise ParamError(why)
        if self.resume and self.model == "compare":
            raise ParamError("resume continues one model's run: it cannot resume a comparison")

    @property
    def pictures(self) -> faces.Difficulty:
        """The generated pictures' difficulty, from the five knobs."""
        knobs = (self.thin_frames, self.faint_frames, self.occlusion, self.pose, self.label_noise)
        return faces.Difficulty(*knobs)


def total_steps(p: GlassesParams) -> int:
    if p.data_dir:
        from labs.glasses.data import training_files

        images = training_files(p.data_dir)
    else:
        images = p.train_images
    batches = -(-images * p.expansion // p.batch_size)
    return batches * p.epochs * (2 if p.model == "compare" else 1)


def run(p: GlassesParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    from labs.glasses import data as glasses_data

    if p.data_dir:
        try:
            images, skipped = glasses_data.from_folder(p.data_dir, ctx.seed)
        except ValueError as exc:
            raise RunError(str(exc)) from None
        if skipped:
            shown = ", ".join(skipped[:3]) + (", …" if len(skipped) > 3 else "")
            yield ev.Log(f"skipped {len(skipped)} files that could not be decoded: {shown}", level="warning")
    else:
        images = glasses_data.generated(
            p.train_images, p.test_images, p.new_images, p.confound, ctx.seed, p.pictures
        )
    sizes = f"{len(images.train.labels)} train, {len(images.test.labels)} test"
    if images.new is not None:
        sizes += f", {len(images.new.labels)} new"
    yield ev.Log(f"{images.description}: {sizes} images; {p.expansion}x augmented a pass")
    yield from _show_samples(p, images, ctx)
    if p.model != "compare":
        return (yield from _train(p, p.model, images, ctx, "", 0))
    results: dict[str, Any] = {}
    steps = total_steps(p) // 2
    for i, kind in enumerate(("tutorial", "local")):
        results.update((yield from _train(p, kind, images, ctx, f"{kind}_", i * steps)))
        if ctx.cancelled:
            break
    return results


def _show_samples(p: GlassesParams, images: Any, ctx: RunContext) -> Generator[ev.Event, None, None]:
    from labs.glasses import data as glasses_data
    from labs.glasses import pictures

    batch = next(iter(glasses_data.augmented(images.train, 1, 6, ctx.seed, p.augment)))
    yield ctx.frame("augmented samples", 0, pictures.grid(batch[0].numpy(), 3))


def _train(
    p: GlassesParams, kind: str, images: Any, ctx: RunContext, prefix: str, first_step: int
) -> Generator[ev.Event, None, dict[str, Any]]:
    """Train one model, streaming its metrics; metric names start with ``prefix``."""
    import keras

    from labs.glasses import data as glasses_data
    from labs.glasses import models
    from labs.glasses.stream import Stream

    initial_epoch = 0
    if p.resume:
        record_path = _checkpointed_run(p.resume, ctx.run_dir)
        model, initial_epoch, used = _load_newest(record_path)
        yield ev.Log(
            f"resumed {model.name} from {record_path.name}, after epoch {initial_epoch} ({used.name})"
        )
    else:
        model = models.compiled(kind, p.filters, p.learning_rate)
    flops = models.forward_flops(model)
    yield ev.Log(
        f"{model.name}: {model.count_params():,} parameters, {flops / 1e6:,.1f} MFLOPs an image forward"
    )
    batches = glasses_data.augmented(images.train, p.expansion, p.batch_size, ctx.seed, p.augment)
    batches_per_epoch = -(-len(images.train.labels) * p.expansion // p.batch_size)
    first = first_step + initial_epoch * batches_per_epoch
    stream = Stream(ctx, images, prefix, first, p.batch_size, p.explain)
    callbacks: list[Any] = [stream]  # it saves the checkpoint at each epoch's end
    if p.early_stop:
        callbacks.append(
            keras.callbacks.EarlyStopping("val_loss", patience=p.early_stop, restore_best_weights=True)
        )
    test = (images.test.images, images.test.labels)

    def fit() -> None:
        try:
            model.fit(batches, epochs=p.epochs, initial_epoch=initial_epoch, validation_data=test,
                      callbacks=callbacks, verbose=0)  # fmt: skip
            stream.put(None)
        except BaseException as exc:  # re-raised below, in the run's own thread
            stream.put(exc)

    threading.Thread(target=fit, name=f"fit {kind}", daemon=True).start()
    while (item := stream.events.get()) is not None:
        if isinstance(item, BaseException):
            raise item
        yield item
    yield from _results(model, images, ctx, prefix)
    return {
        **stream.last,
        f"{prefix}parameters": model.count_params(),
        f"{prefix}mflops": round(flops / 1e6, 1),
    }


def preflight(p: GlassesParams, runs_dir: Path) -> None:
    """A run to resume must exist and hold a checkpoint: say so now, not 20 s into the run."""
    if p.resume:
        try:
            _checkpointed_run(p.resume, runs_dir / "(the new run)")
        except (LookupError, ValueError) as exc:
            raise ParamError(str(exc)) from None


def _checkpointed_run(ref: str, this_run: Path) -> Path:
    """The run folder to resume, which holds a whole checkpoint."""
    from labs.recording import find_run, list_runs

    runs_dir = this_run.parent
    if ref == "last":
        earlier = [r.path for r in list_runs(runs_dir) if r.path != this_run and checkpoint.has_one(r.path)]
        if not earlier:
            raise ValueError("resume=last: no earlier run has a checkpoint")
        path = earlier[0]
    else:
        try:
            path = find_run(runs_dir, ref).path
        except LookupError as exc:
            raise ValueError(f"resume={ref}: {exc}") from None
    if not checkpoint.has_one(path):
        raise ValueError(f"resume={ref}: run {path.name} has no checkpoint (it ended before its first epoch)")
    return path


def _load_newest(run_dir: Path) -> tuple[Any, int, Path]:
    """The newest checkpoint that loads, its epoch and its file."""
    import keras

    problems = []
    for epoch, path in checkpoint.complete(run_dir):
        try:
            return keras.models.load_model(path), epoch, path
        except Exception as exc:  # damaged by something else: an older one may still do
            problems.append(f"{path.name}: {exc}")
    raise RunError(f"no checkpoint of run {run_dir.name} loads: {'; '.join(problems)}")


def _results(model: Any, images: Any, ctx: RunContext, prefix: str) -> Generator[ev.Event, None, None]:
    """Each set's confusion matrix, and the saved model."""
    from labs.glasses.stream import predict

    for name, split in (("test", images.test), ("new", images.new)):
        if split is None:
            continue
        predicted = predict(model, split.images).argmax(axis=1)
        counts = np.zeros((2, 2), np.int64)
        np.add.at(counts, (split.labels, predicted), 1)
        yield ev.Log(
            f"{prefix}{name} set: accuracy {np.trace(counts) / counts.sum():.3f}, "
            f"confusion [[no→no, no→glasses], [glasses→no, glasses→glasses]] = {counts.tolist()}"
        )
        yield ctx.save_array(f"{prefix}confusion_{name}", counts, f"{name} set confusion[true, predicted]")
    path = ctx.artifacts_dir / f"{prefix}model.keras"
    model.save(path)
    yield ev.Artifact(str(path.relative_to(ctx.run_dir)), "the trained model (meetup-lab predict uses it)")


LAB = Lab(
    name="glasses",
    order=30,
    title="Glasses or not: the CIFAR-10 tutorial CNN",
    summary="The CIFAR-10 tutorial CNN retrained on 64x64 glasses / no-glasses faces, "
    "with true locally-connected layers and the shortcut-learning trap",
    params_cls=GlassesParams,
    run="labs.glasses.lab:run",
    key_metric=("val_accuracy", "new_accuracy"),
    steps=total_steps,
    charts=("loss", "accuracy", "val_accuracy", "new_accuracy", "images_per_s"),
    preflight=preflight,
)
