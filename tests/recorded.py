"""A recorded pde run built from fixed events, so replays and snapshots are deterministic."""

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


def make_recorded_run(runs_dir: Path, run_id: str = RUN_ID) -> RunRecord:
    path = runs_dir / run_id
    path.mkdir(parents=True)
    meta = {
        "run_id": run_id,
        "lab": "pde",
        "lab_ref": "pde",
        "params": PARAMS_USED,
        "device": "cpu",
        "seed": 0,
        "key_metric": "mass",
        "started_at": "2026-01-01T12:00:00",
        "started_unix": 1767268800.0,
    }
    (path / PARAMS).write_text(json.dumps(meta))
    record = RunRecord(path)
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
    finished = ev.Finished({"steps": 400, "mass": 97.0}, time=7.5)
    stream.append(finished)
    for event in stream:
        record.append(event)
    record.write_summary(finished, {"mass": 97.0}, finished.summary)
    return record
