"""Runs side by side: the parameters that differ between them, and each one's final and
best value of a metric (mean ± std over the seeds of a setting, where it has several).

The one place that builds the comparison: ``meetup-lab compare`` prints it as a
table, CSV or JSON.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs import events as ev
from labs.numbers import fmt
from labs.recording import RunRecord, find_run, list_runs

LOWER_IS_BETTER = ("loss", "error", "residual", "diff", "seconds")
HIGHER_IS_BETTER = ("accuracy", "per_s", "passed", "likelihood")


def goal(metric: str) -> str | None:
    """``min`` or ``max`` for a metric whose best is plain from its name, else None."""
    name = metric.lower()
    if any(word in name for word in LOWER_IS_BETTER):
        return "min"
    if any(word in name for word in HIGHER_IS_BETTER):
        return "max"
    return None


@dataclass
class Row:
    """One setting: a run, or the runs of one setting over several seeds."""

    runs: list[str]
    params: dict[str, Any]  # the parameters that differ between the compared runs
    seeds: list[int]
    statuses: list[str]
    final: list[float] = field(default_factory=list)
    best: list[float] = field(default_factory=list)

    @property
    def status(self) -> str:
        return ", ".join(sorted(set(self.statuses)))

    def value(self, column: str) -> Any:
        """What ``--sort COLUMN`` orders by."""
        if column in ("final", "best"):
            values = getattr(self, column)
            return statistics.fmean(values) if values else math.nan
        if column == "seed":
            return self.seeds[0]
        if column == "status":
            return self.status
        if column == "run":
            return self.runs[0]
        return self.params.get(column)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"runs": self.runs, "seeds": self.seeds, "status": self.status, **self.params}
        for name in ("final", "best"):
            values = getattr(self, name)
            out[name] = statistics.fmean(values) if values else None
            out[f"{name}_std"] = statistics.stdev(values) if len(values) > 1 else None
        return out


@dataclass
class Comparison:
    metric: str | None
    goal: str | None
    differing: list[str]  # parameter names, in the order of the first run's parameters
    rows: list[Row]
    by_seed: bool  # rows are settings over several seeds

    def sorted_by(self, column: str) -> Comparison:
        known = ["run", "status", "seed", "final", "best", *self.differing]
        if column not in known:
            raise ValueError(f"--sort {column}: sort by one of {', '.join(known)}")

        def key(row: Row) -> tuple[int, Any]:
            value = row.value(column)
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            return (1, "") if missing else (0, value if isinstance(value, int | float) else str(value))

        rows = sorted(self.rows, key=key)
        if column in ("final", "best") and self.goal == "max":
            filled = [r for r in rows if key(r)[0] == 0][::-1]
            rows = filled + [r for r in rows if key(r)[0] == 1]
        return Comparison(self.metric, self.goal, self.differing, rows, self.by_seed)


def compare(records: list[RunRecord], metric: str | None = None) -> Comparison:
    """The comparison of ``records`` (oldest first) on ``metric``, by default the key metric
    of the first run that has one."""
    metas = [r.meta for r in records]
    metric = metric or next((m for meta in metas for m in _key_names(meta, records)), None)
    names: list[str] = []
    for meta in metas:
        names += [n for n in meta.get("params", {}) if n not in names]
    differing = [n for n in names if len({_text(m.get("params", {}).get(n)) for m in metas}) > 1]
    if len({m.get("device") for m in metas}) > 1:
        differing.append("device")
    settings: dict[tuple[str, ...], Row] = {}
    for record, meta in zip(records, metas, strict=True):
        params = {n: meta.get("params", {}).get(n) for n in differing if n != "device"}
        if "device" in differing:
            params["device"] = meta.get("device")
        key = tuple(_text(v) for v in params.values())
        row = settings.setdefault(key, Row([], params, [], []))
        row.runs.append(record.run_id)
        row.seeds.append(int(meta.get("seed", 0)))
        row.statuses.append(record.status())
        if metric is not None:
            final, best = _final_and_best(record, metric)
            if final is not None:
                row.final.append(final)
            if best is not None:
                row.best.append(best)
    rows = list(settings.values())
    by_seed = any(len(row.runs) > 1 for row in rows)
    if not by_seed and len({s for row in rows for s in row.seeds}) > 1:
        differing.append("seed")  # shown per run, as a parameter that differs
    return Comparison(metric, goal(metric) if metric else None, differing, rows, by_seed)


def curves(table: Comparison, records: list[RunRecord]) -> ev.Chart:
    """The compared metric against the step, one line per run, each named by what differs."""
    by_id = {record.run_id: record for record in records}
    series: dict[str, tuple[tuple[float, float], ...]] = {}
    for row in table.rows:
        for run_id, seed in zip(row.runs, row.seeds, strict=True):
            words = [f"{name}={fmt(value)}" for name, value in row.params.items()]
            if table.by_seed or "seed" in table.differing:
                words.append(f"seed={seed}")
            label = " ".join(words) or run_id
            if label in series:
                label = f"{label} ({run_id})"
            points = [] if table.metric is None else _history(by_id[run_id], table.metric)
            series[label] = tuple(points)
    return ev.Chart(table.metric or "no metric", "step", table.metric or "", series)


def _history(record: RunRecord, metric: str) -> list[tuple[float, float]]:
    return [
        (float(e.step), float(e.values[metric]))
        for e in record.events()
        if isinstance(e, ev.Metric)
        and isinstance(e.values.get(metric), int | float)
        and math.isfinite(e.values[metric])
    ]


def _final_and_best(record: RunRecord, metric: str) -> tuple[float | None, float | None]:
    values = [value for _, value in _history(record, metric)]
    final = values[-1] if values else None
    direction = goal(metric)
    best = (min(values) if direction == "min" else max(values)) if values and direction else None
    return final, best


def _key_names(meta: dict[str, Any], records: list[RunRecord]) -> list[str]:
    """The lab's key metric: the first of its candidates that a compared run recorded."""
    wanted = meta.get("key_metric") or []
    candidates = [wanted] if isinstance(wanted, str) else list(wanted)
    recorded = {name for r in records for name in (r.summary or {}).get("metrics", {})}
    return [name for name in candidates if name in recorded]


def _text(value: Any) -> str:
    return repr(value)


def select(
    runs_dir: Path, refs: list[str], sweep: str | None = None, last: int | None = None, lab: str | None = None
) -> list[RunRecord]:
    """The runs named, those of a sweep, or the last ``last`` (of ``lab``), oldest first.

    Raises LookupError, saying what matched nothing.
    """
    if refs:
        records = [find_run(runs_dir, ref) for ref in refs]
    else:
        infos = list_runs(runs_dir, None if sweep is not None else (last or 10), lab, sweep)
        records = [RunRecord(i.path) for i in reversed(infos) if i.status != "damaged"]
        if sweep is not None and not records:
            raise LookupError(f"no runs of sweep {sweep!r} in {runs_dir}")
    if not records:
        raise LookupError(f"no runs to compare in {runs_dir}" + (f" of lab {lab}" if lab else ""))
    return records
