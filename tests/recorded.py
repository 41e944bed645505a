"""Recorded runs built from fixed events, so replays and snapshots are deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from labs import events as ev
from labs.pde.heat import analytic_gaussian
from labs.recording import PARAMS, RunRecord

RUN_ID = "20260101-120000-pde-abcd"
PARAMS_USED = {
    "equation": "heat",
    "grid": 32,
    "diffusivity": 1.0,
    "dt": 0.2,
    "steps": 400,
    "frame_every": 100,
    "boundary": "fixed",
    "initial": "gaussian",
}


PLAYGROUND_ID = "20260101-130000-logreg-beef"
PLAYGROUND_PARAMS = {"mode": "playground", "dataset": "gauss", "points": 60, "epochs": 3}


def _new_record(runs_dir: Path, run_id: str, lab: str, params: dict[str, object], key: str) -> RunRecord:
    path = runs_dir / run_id
    path.mkdir(parents=True)
    meta = {
        "run_id": run_id,
        "lab": lab,
        "lab_ref": lab,
        "params": params,
        "device": "cpu",
        "seed": 0,
        "key_metric": key,
        "started_at": "2026-01-01T12:00:00",
        "started_unix": 1767268800.0,
    }
    (path / PARAMS).write_text(json.dumps(meta))
    return RunRecord(path)


def _write(record: RunRecord, stream: list[ev.Event], metrics: dict[str, float]) -> RunRecord:
    for event in stream:
        record.append(event)
    finished = stream[-1]
    assert isinstance(finished, ev.Finished)
    record.write_summary(finished, metrics, finished.summary)
    return record


def make_recorded_playground(runs_dir: Path) -> RunRecord:
    """A logreg playground run: an output surface with points and its 0.5 contour, and a second view."""
    record = _new_record(runs_dir, PLAYGROUND_ID, "logreg", PLAYGROUND_PARAMS, "test_accuracy")
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(2, 1, (30, 2)), rng.normal(-2, 1, (30, 2))]
    points = np.column_stack([(x[:, 0] + 6) / 12, (6 - x[:, 1]) / 12, np.r_[np.ones(30), np.zeros(30)]])
    ticks = np.linspace(-6, 6, 64)
    gx, gy = np.meshgrid(ticks, ticks[::-1])
    stream: list[ev.Event] = [
        ev.Started("logreg", PLAYGROUND_ID, PLAYGROUND_PARAMS, "cpu", 0, total_steps=3, time=0.0),
        ev.Log("gauss: 30 train and 30 test points; network 2 → 4 → 2 → 1, tanh", time=2.0),
    ]
    for epoch in (1, 2, 3):
        surface = 1 / (1 + np.exp(-epoch * (gx + gy) / 2))
        loss = {"train_loss": 0.6 / epoch, "test_loss": 0.7 / epoch, "test_accuracy": 0.8 + 0.05 * epoch}
        stream.append(ev.Metric(epoch, {**loss, "learning_rate": 0.03}, time=2.0 + epoch))
        stream.append(ev.Frame("output", epoch, surface, points=points, contour=0.5, time=2.0 + epoch))
        stream.append(
            ev.Frame("weights", epoch, np.outer(ticks, ticks) * epoch, signed=True, time=2.0 + epoch)
        )
    return _write(record, [*stream, ev.Finished({"test_accuracy": 0.95}, time=5.5)], {"test_accuracy": 0.95})


def make_recorded_run(runs_dir: Path, run_id: str = RUN_ID) -> RunRecord:
    record = _new_record(runs_dir, run_id, "pde", PARAMS_USED, "mass")
    gpu = ev.GpuSample(0, "Test GPU", 42.0, 1024.0, 8192.0)
    stream: list[ev.Event] = [
        ev.Started("pde", run_id, PARAMS_USED, "cpu", 0, total_steps=400, time=0.0),
        ev.Log("heat equation on a 32x32 grid", time=2.5),
        ev.DeviceSample(95.0, 700.0, 60.0, 12.5, (gpu,), time=3.0),
    ]
    for i, step in enumerate(range(100, 500, 100)):
        t = step * 0.2
        field = analytic_gaussian(32, 1.0, t).astype(np.float32)
        values = {"t": t, "mass": 100.0 - i, "max": float(field.max()), "min": float(field.min())}
        stream.append(ev.Metric(step, values, time=3.0 + i))
        stream.append(ev.Frame("u", step, field, time=3.0 + i))
    stream.append(ev.Artifact("artifacts/u.npy", "final field u", time=7.0))
    return _write(record, [*stream, ev.Finished({"steps": 400, "mass": 97.0}, time=7.5)], {"mass": 97.0})


def make_recorded_log(runs_dir: Path, lines: list[str]) -> RunRecord:
    """A pde run that logged ``lines`` and drew nothing: a log to read."""
    record = _new_record(runs_dir, "20260101-123000-pde-1234", "pde", PARAMS_USED, "mass")
    stream: list[ev.Event] = [
        ev.Started("pde", record.run_id, PARAMS_USED, "cpu", 0, total_steps=400, time=0.0)
    ]
    stream += [ev.Log(line, time=1.0 + i) for i, line in enumerate(lines)]
    return _write(record, [*stream, ev.Finished({"steps": 400}, time=9.0)], {})


SWEEP_ID = "20260101-140000-minibatch-cafe"
SWEEP_PARAMS = {"mode": "batch-sweep", "batch_sizes": "1,32,full", "epochs": 3}
SWEEP_COLUMNS = ("batch", "examples/s", "final loss", "s to target", "test accuracy")


def make_recorded_sweep(runs_dir: Path) -> RunRecord:
    """A minibatch batch sweep: loss-against-time lines for three batch sizes, then their table."""
    record = _new_record(runs_dir, SWEEP_ID, "minibatch", SWEEP_PARAMS, "examples_per_s")
    stream: list[ev.Event] = [ev.Started("minibatch", SWEEP_ID, SWEEP_PARAMS, "cpu", 0, total_steps=9)]
    curves: dict[str, tuple[tuple[float, float], ...]] = {}
    rows: list[tuple[str | float | int | None, ...]] = []
    for k, (batch, rate, seconds_per_epoch) in enumerate(
        (("1", 9000, 0.16), ("32", 170000, 0.01), ("full", 600000, 0.003))
    ):
        losses = [2.3 / (1 + epoch * (3 - k)) + 0.35 for epoch in range(4)]
        curves[f"b={batch}"] = tuple((epoch * seconds_per_epoch, loss) for epoch, loss in enumerate(losses))
        for epoch in (1, 2, 3):
            values = {"loss": losses[epoch], "examples_per_s": float(rate), "batch": float(k)}
            stream.append(ev.Metric(3 * k + epoch, values, time=1.0 + k))
            stream.append(ev.Chart("loss vs time", "training seconds", "loss", dict(curves), time=1.0 + k))
        reached = 2 * seconds_per_epoch if losses[2] <= 0.8 else None
        rows.append((batch, rate, round(losses[3], 4), reached, 0.95 - 0.1 * k))
        stream.append(ev.Table("batch sizes", SWEEP_COLUMNS, tuple(rows), time=1.0 + k))
    finished = ev.Finished({"batch_sizes": 3, "fastest_batch": "full"}, time=4.0)
    return _write(record, [*stream, finished], {"examples_per_s": 600000.0})


PLACEMENT_ID = "20260101-150000-minibatch-f00d"
PLACEMENT_PARAMS = {"mode": "placement", "steps": 50}


def make_recorded_placement(runs_dir: Path) -> RunRecord:
    """A minibatch placement run on a machine without a GPU: its one view is a table."""
    record = _new_record(runs_dir, PLACEMENT_ID, "minibatch", PLACEMENT_PARAMS, "loss")
    columns = ("intra-op threads", "inter-op threads", "ms/step")
    rows: list[tuple[str | float | int | None, ...]] = []
    stream: list[ev.Event] = [ev.Started("minibatch", PLACEMENT_ID, PLACEMENT_PARAMS, "cpu", 0)]
    for k, setting in enumerate(((1, 1), (2, 1), ("auto", "auto"))):
        rows.append((*setting, 0.7 - 0.1 * k))
        stream.append(ev.Metric(k + 1, {"loss": 1.6, "ms_per_step": 0.7 - 0.1 * k}, time=1.0 + k))
        stream.append(ev.Table("CPU threads", columns, tuple(rows), time=1.0 + k))
    finished = ev.Finished({"cores": 2}, time=4.0)
    return _write(record, [*stream, finished], {"loss": 1.6})


COMPARED = (
    ("20260101-120000-pde-c0de", 0.1, 0),
    ("20260101-120100-pde-c1de", 0.1, 1),
    ("20260101-120200-pde-c2de", 0.2, 0),
)


def make_recorded_comparison(runs_dir: Path) -> list[RunRecord]:
    """Three heat runs to compare: dt 0.1 over two seeds, and dt 0.2."""
    records = []
    for n, (run_id, dt, seed) in enumerate(COMPARED):
        params = {**PARAMS_USED, "dt": dt}
        record = _new_record(runs_dir, run_id, "pde", params, "mass")
        meta = {**record.meta, "seed": seed, "started_unix": 1767268800.0 + 60 * n, "changed": ["dt"]}
        (record.path / PARAMS).write_text(json.dumps(meta))
        stream: list[ev.Event] = [ev.Started("pde", run_id, params, "cpu", seed, total_steps=400)]
        for i, step in enumerate(range(100, 500, 100)):
            mass = 100.0 - (i + 1) * 40 * dt - seed * 0.5
            stream.append(ev.Metric(step, {"mass": mass, "t": step * dt}, time=1.0 + i))
        finished = ev.Finished({"mass": mass}, time=5.0)
        records.append(_write(record, [*stream, finished], {"mass": mass, "t": 400 * dt}))
    return records
