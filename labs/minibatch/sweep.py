"""batch-sweep: the same model trained with batch sizes from 1 to the whole set.

Each batch size starts from the same weights and sees the same examples. The
loss plotted is the whole training set's objective after each epoch (not a
running average), measured outside the timed training, so curves compare
like with like and a full batch's monotone descent is visible.

The best batch size is the one that ends with the lowest such loss: see :func:`best`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from labs import events as ev
from labs.context import RunContext, RunError
from labs.minibatch import data, models, projection, train
from labs.minibatch.curves import Curves

COLUMNS = (
    "batch", "steps/epoch", "examples/s", "s/epoch", "final loss", "s to target", "test accuracy",
    "experiment", "band",
)  # fmt: skip


def parse_sizes(text: str) -> list[int | None]:
    """``1,8,full`` → [1, 8, None]; None stands for the whole training set."""
    sizes: list[int | None] = []
    for item in text.split(","):
        item = item.strip().lower()
        if item == "full":
            sizes.append(None)
        elif item.isdigit() and int(item) > 0:
            sizes.append(int(item))
        else:
            raise ValueError(f"batch_sizes: {item!r} is neither a positive whole number nor full")
    if not sizes:
        raise ValueError("batch_sizes: name at least one batch size")
    return sizes


def batch_sizes(p: Any) -> list[int]:
    """The distinct batch sizes to train with, ``full`` and anything larger made the whole set."""
    n = data.train_size(p.data, p.examples)
    return sorted({min(s or n, n) for s in parse_sizes(p.batch_sizes)})


@dataclass(frozen=True)
class Outcome:
    """Where one batch size ended: its label (``full`` for the whole set) and size."""

    label: str
    batch: int
    loss: float  # the whole training set's objective after the last epoch
    test_accuracy: float


def best(outcomes: list[Outcome]) -> Outcome:
    """The batch size that ended nearest the optimum.

    Judged by the final full-set objective: it is what every batch size minimises, from the
    same weights over the same epochs, measured the same way outside the timing. Test
    accuracy is not what is optimised, and on a few hundred test images a handful of them
    decides it; the last size trained (``full``, usually the furthest from the optimum
    after a fixed number of epochs) says nothing about the others.
    """
    return min(outcomes, key=lambda o: o.loss)


def best_metrics(outcome: Outcome) -> dict[str, float]:
    """The best so far as metrics: beside the current size's ``loss``, which ends as the last's."""
    return {
        "best_batch": outcome.batch,
        "best_loss": outcome.loss,
        "best_test_accuracy": outcome.test_accuracy,
    }


def run(p: Any, ctx: RunContext) -> Generator[ev.Event, None, dict[str, Any]]:
    examples = data.load(p.data, p.examples, ctx.seed)
    n = examples.size
    sizes = batch_sizes(p)
    yield ev.Log(f"{examples.name}: {n} to train on, {len(examples.y_test)} to test; model {p.model}")
    start = models.initial(p.model, p.l2, ctx.seed)
    curves = Curves("loss vs time", "training seconds", "loss")
    by_epoch = Curves("loss vs epoch", "epoch", "loss")
    rows: list[tuple[Any, ...]] = []
    outcomes: list[Outcome] = []
    epochs_done = 0
    for batch in sizes:
        label = "full" if batch == n else str(batch)
        trainer = train.Trainer(lambda: models.build(p.model, p.l2), p.learning_rate)
        trainer.set_weights(start)
        loss, _ = train.evaluate(trainer.model, examples.x_train, examples.y_train)
        series = f"b={label}"
        curves.add(series, 0.0, loss)
        by_epoch.add(series, 0, loss)
        iterator = train.batches(examples.x_train, examples.y_train, batch, seed=ctx.seed)
        steps_per_epoch = math.ceil(n / batch)
        seconds, reached = 0.0, None
        for epoch in range(1, p.epochs + 1):
            for _, _, _, took in train.timed_calls(trainer, iterator, steps_per_epoch, batch):
                seconds += took
                if ctx.cancelled:
                    return {}
            loss, accuracy = train.evaluate(trainer.model, examples.x_train, examples.y_train)
            if not math.isfinite(loss):
                raise RunError(f"batch {label}, epoch {epoch}: the loss is {loss}; lower learning_rate")
            if reached is None and loss <= p.target_loss:
                reached = seconds
            epochs_done += 1
            values = {
                "loss": loss,
                "accuracy": accuracy,
                "examples_per_s": n * epoch / seconds,
                "batch": batch,
            }
            yield ev.Metric(epochs_done, values)
            for chart in (curves.add(series, seconds, loss), by_epoch.add(series, epoch, loss)):
                if chart:
                    yield chart
        yield curves.chart()
        yield by_epoch.chart()
        _, test_accuracy = train.evaluate(trainer.model, examples.x_test, examples.y_test)
        rate = n * p.epochs / seconds
        experiment = p.experiment_examples * p.experiment_epochs / rate
        rows.append((
            label, steps_per_epoch, round(rate), round(seconds / p.epochs, 4), round(loss, 5),
            None if reached is None else round(reached, 3), round(test_accuracy, 4),
            projection.duration(experiment), projection.band(experiment),
        ))  # fmt: skip
        yield ev.Log(
            f"batch {label}: {rate:,.0f} examples/s, loss {loss:.4f}, test accuracy {test_accuracy:.3f}"
        )
        outcomes.append(Outcome(label, batch, loss, test_accuracy))
        yield ev.Metric(epochs_done, best_metrics(best(outcomes)))
        yield ev.Table("batch sizes", COLUMNS, tuple(rows))
    path = ctx.artifacts_dir / "batch-sizes.csv"
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([COLUMNS, *rows])
    yield ev.Artifact(str(path.relative_to(ctx.run_dir)), "the batch-size table")
    fastest = max(rows, key=lambda r: r[2])
    winner = best(outcomes)
    yield ev.Log(
        f"best: batch {winner.label}, loss {winner.loss:.4f}, test accuracy {winner.test_accuracy:.3f}"
    )
    return {
        "batch_sizes": len(rows),
        "best_batch": winner.label,
        "best_loss": winner.loss,
        "best_test_accuracy": winner.test_accuracy,
        "fastest_batch": fastest[0],
        "fastest_examples_per_s": fastest[2],
    }
