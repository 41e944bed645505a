"""A comparison of runs (:mod:`labs.compare`) as text for a terminal, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import statistics

from labs.compare import Comparison
from labs.numbers import fmt


def render(table: Comparison, form: str) -> str:
    if form == "json":
        return json.dumps([row.to_dict() for row in table.rows], indent=2, allow_nan=False) + "\n"
    if form == "csv":
        out = io.StringIO()
        rows = [row.to_dict() for row in table.rows]
        columns = ["runs", "seeds", "status", *table.differing, "final", "final_std", "best", "best_std"]
        columns = [c for c in columns if c != "seed"]
        writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "runs": " ".join(row["runs"]), "seeds": " ".join(map(str, row["seeds"]))})
        return out.getvalue()
    return _text(table)


def cells(table: Comparison) -> tuple[list[str], list[list[str]]]:
    """The comparison's header and rows as text cells: the terminal table and the TUI's alike."""
    params = [name for name in table.differing if name != "seed"]
    seed_column = "seeds" if table.by_seed else ("seed" if "seed" in table.differing else None)
    head = ["RUN" if not table.by_seed else "RUNS", *params]
    head += [seed_column.upper()] if seed_column else []
    head += ["STATUS", "FINAL", "BEST"]
    rows = []
    for row in table.rows:
        first = row.runs[0] if len(row.runs) == 1 else f"{row.runs[0]} +{len(row.runs) - 1}"
        line = [first, *(fmt(row.params.get(name)) for name in params)]
        if seed_column:
            line.append(",".join(map(str, row.seeds)))
        line += [row.status, _spread(row.final), _spread(row.best)]
        rows.append(line)
    return head, rows


def caption(table: Comparison) -> str:
    """What is compared: ``metric: loss (lowest best)``, and whether any parameter differs."""
    goal = {"min": " (lowest best)", "max": " (highest best)"}.get(table.goal or "", "")
    metric = f"metric: {table.metric}{goal}" if table.metric else "no metric recorded by these runs"
    same = "" if [n for n in table.differing if n != "seed"] else "; no parameter differs"
    return metric + same


def _text(table: Comparison) -> str:
    head, rows = cells(table)
    lines = [head, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    text = "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
    return f"{caption(table)}\n{text}\n"


def _spread(values: list[float]) -> str:
    """A value, or mean ± std over seeds."""
    if not values:
        return "-"
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.fmean(values))} ± {fmt(statistics.stdev(values))}"
