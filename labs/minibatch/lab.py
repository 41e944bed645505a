"""The ``minibatch`` lab: batch sizes, device placement and tf.distribute, timed.

Each parameter says which experiment reads it; the others are ignored.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labs import events as ev
from labs.context import RunContext
from labs.minibatch import cluster as cluster_file
from labs.minibatch import data, mirrored, models, multiworker, placement, sweep
from labs.params import ParamError, build, param
from labs.registry import Lab

MODES = ("batch-sweep", "placement", "mirrored", "multiworker")
SWEEP, MIRRORED, MULTIWORKER = ("mode", ("batch-sweep",)), ("mode", ("mirrored",)), ("mode", ("multiworker",))
TIMED = ("mode", ("placement", "mirrored", "multiworker"))
PROJECTED = ("mode", ("batch-sweep", "mirrored", "multiworker"))
DISTRIBUTED = ("mode", ("mirrored", "multiworker"))


@dataclass(frozen=True)
class MinibatchParams:
    mode: str = param("batch-sweep", "the experiment", choices=MODES)
    model: str = param(
        "logreg", "logistic regression (convex), a small MLP or a small CNN", choices=models.MODELS
    )
    data: str = param(
        "digits", "scikit-learn's 8x8 digits, or generated 8x8 images", choices=("digits", "generated")
    )
    examples: int = param(
        10_000, "generated: number of images (a fifth are kept for testing)", min=20, max=2_000_000,
        when=("data", ("generated",)),
    )  # fmt: skip
    learning_rate: float = param(0.1, "SGD learning rate", min=1e-5, max=10.0)
    l2: float = param(1e-3, "L2 penalty on every kernel (>0 gives logreg one optimum)", min=0.0, max=10.0)
    # batch-sweep
    batch_sizes: str = param(
        "1,8,32,128,512,full", "batch-sweep: batch sizes (full: the whole set)", when=SWEEP
    )
    epochs: int = param(20, "batch-sweep: epochs per batch size", min=1, max=100_000, when=SWEEP)
    target_loss: float = param(
        0.5, "batch-sweep: the loss whose time to reach is reported", min=0.0, when=SWEEP
    )
    # placement, mirrored, multiworker
    global_batch: int = param(256, "examples per step, over all devices", min=1, max=1_000_000, when=TIMED)
    steps: int = param(200, "training steps timed", min=2, max=10_000_000, when=TIMED)
    devices: int = param(2, "mirrored: replicas (GPUs, or logical CPU devices)", min=1, max=64, when=MIRRORED)
    workers: int = param(
        2, "multiworker: worker processes started on 127.0.0.1", min=1, max=256, when=MULTIWORKER
    )
    cluster: str = param(
        "", "multiworker: a cluster file for workers on several hosts (empty: local)", when=MULTIWORKER
    )
    worker_timeout: float = param(
        60.0, "multiworker: seconds without word from a worker before the run fails", min=1.0, max=86_400.0,
        when=MULTIWORKER,
    )  # fmt: skip
    # the projection
    experiment_examples: float = param(
        1_281_167.0, "projection: examples per epoch of the experiment (ImageNet's)", min=1.0, when=PROJECTED
    )
    experiment_epochs: int = param(90, "projection: epochs of the experiment", min=1, when=PROJECTED)
    max_devices: int = param(
        64, "projection: the most devices to project to", min=1, max=1 << 20, when=DISTRIBUTED
    )
    price: float = param(2.5, "projection: price per device hour", min=0.0, when=PROJECTED)

    @classmethod
    def for_job(cls, job: dict[str, Any], mode: str, workers: int | None = None) -> MinibatchParams:
        """The parameters from a job's settings (a cluster file's, a probe's) for ``mode``;
        ``workers`` is how many a cluster file names, which the global batch must split over."""
        values = {**job, "mode": mode, "cluster": ""}
        if workers is not None:
            values["workers"] = workers
        return build(cls, values)

    def __post_init__(self) -> None:
        if self.mode == "batch-sweep":
            try:
                sweep.parse_sizes(self.batch_sizes)
            except ValueError as exc:
                raise ParamError(str(exc)) from None
        replicas = {"mirrored": self.devices, "multiworker": self.workers}.get(self.mode)
        if replicas and self.global_batch % replicas:
            raise ParamError(
                f"global_batch={self.global_batch} does not split evenly over {replicas} "
                f"{'devices' if self.mode == 'mirrored' else 'workers'}: use a multiple of {replicas}"
            )
        if self.mode == "multiworker" and self.cluster:
            try:
                spec = cluster_file.read(Path(self.cluster))
            except ValueError as exc:
                raise ParamError(str(exc)) from None
            try:
                self.for_job(spec.job, "multiworker", len(spec.workers))
            except ParamError as exc:
                raise ParamError(f"the cluster file {self.cluster}'s job: {exc}") from None
        train_size = data.train_size(self.data, self.examples)
        if self.mode != "batch-sweep" and self.global_batch > train_size:
            raise ParamError(
                f"global_batch={self.global_batch} is larger than the {train_size} training examples"
            )


def total_steps(p: MinibatchParams) -> int | None:
    if p.mode == "batch-sweep":
        return len(sweep.batch_sizes(p)) * p.epochs
    if p.mode == "mirrored":
        return p.steps * (3 if p.devices > 1 else 2)  # a replica's share alone, the whole batch, the replicas
    if p.mode == "multiworker":
        return 2 * p.steps  # the workers, then one process
    return None  # placement: as many configurations as there are GPUs, which only TensorFlow knows


def run(p: MinibatchParams, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    runs = {
        "batch-sweep": sweep.run,
        "mirrored": mirrored.run,
        "multiworker": multiworker.run,
        "placement": placement.run,
    }
    return (yield from runs[p.mode](p, ctx))


def before_tensorflow(p: MinibatchParams, device: str) -> None:
    if p.mode == "mirrored" and not mirrored.uses_gpus(device):
        mirrored.make_logical_cpus(p.devices)


LAB = Lab(
    name="minibatch",
    order=50,
    title="Mini-batches, placement and tf.distribute",
    summary="SGD vs mini-batch vs full batch, device placement, and tf.distribute over devices "
    "and worker processes, timed and projected",
    params_cls=MinibatchParams,
    run="labs.minibatch.lab:run",
    # batch-sweep: the best batch size's loss (its examples_per_s is only the last size's);
    # the timed experiments: their throughput.
    key_metric=("best_loss", "examples_per_s", "loss"),
    steps=total_steps,
    charts=("loss", "examples_per_s"),
    before_tensorflow=before_tensorflow,
)
