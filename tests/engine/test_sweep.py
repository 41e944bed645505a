"""Sweeps and compare: the syntax, a real sweep of pde runs compared by the CLI, and a
sweep with one bad setting refused whole."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from labs.params import ParamError
from labs.recording import RunRecord, list_runs
from labs.registry import get_lab
from labs.sweep import Axis, grid, parse_axis
from tests.support import run_cli


def test_sweep_values_and_lists_inside_them() -> None:
    assert parse_axis("dt=0.1,0.2") == Axis("dt", ("0.1", "0.2"))
    # A parameter whose value is a list takes it in brackets: two values here, not three.
    batch = parse_axis("batch_sizes=[8,16],[32]")
    assert batch == Axis("batch_sizes", ("8,16", "32"))
    minibatch = get_lab("minibatch")
    assert [minibatch.build_params({"batch_sizes": v}).batch_sizes for v in batch.values] == ["8,16", "32"]
    assert grid([parse_axis("a=1,2"), parse_axis("b=x,y")], 2, 10) == [
        ({"a": "1", "b": "x"}, 10), ({"a": "1", "b": "x"}, 11), ({"a": "1", "b": "y"}, 10),
        ({"a": "1", "b": "y"}, 11), ({"a": "2", "b": "x"}, 10), ({"a": "2", "b": "x"}, 11),
        ({"a": "2", "b": "y"}, 10), ({"a": "2", "b": "y"}, 11),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dt", "expected NAME=V1,V2"),
        ("dt=0.1,,0.2", "an empty value"),
        ("hidden=[8,4", "a \\[ with no \\]"),
        ("hidden=8]", "a \\] with no \\["),
        ("dt=0.1,0.1", "a value twice"),
    ],
)
def test_bad_sweep_syntax_is_named(text: str, message: str) -> None:
    with pytest.raises(ParamError, match=message):
        parse_axis(text)


def test_a_sweep_with_one_bad_setting_starts_no_run(runs_dir: Path) -> None:
    done = run_cli("run", "pde", "--sweep", "dt=0.1,5", "--set", "grid=16")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "meetup-lab: error: the sweep's run dt=5: dt=5 is unstable for D=1: the largest stable dt is "
        "dx²/(4D) = 0.25; no run was started"
    ]
    assert list_runs(runs_dir) == []


@pytest.mark.slow
def test_a_two_value_sweep_over_two_seeds_runs_four_and_compare_lists_them(runs_dir: Path) -> None:
    done = run_cli(
        "run", "pde", "--headless", "--sweep", "dt=0.1,0.2", "--seeds", "2",
        "--set", "grid=16", "--set", "steps=40", "--set", "frame_every=20",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sweep_id, *run_ids = done.stdout.splitlines()[:5]
    assert len(run_ids) == 4
    records = [RunRecord(runs_dir / run_id) for run_id in run_ids]
    assert {r.status() for r in records} == {"finished"}
    assert {r.meta["sweep"] for r in records} == {sweep_id}
    assert sorted((r.meta["params"]["dt"], r.meta["seed"]) for r in records) == [
        (0.1, 0), (0.1, 1), (0.2, 0), (0.2, 1),
    ]  # fmt: skip
    assert "metric: mass" in done.stdout  # the comparison follows the runs

    table = run_cli("compare", "--sweep", sweep_id)
    assert table.returncode == 0, table.stderr
    head, *rows = table.stdout.splitlines()[1:]
    assert head.split() == ["RUNS", "dt", "SEEDS", "STATUS", "FINAL", "BEST"]
    assert [row.split()[2] for row in rows] == ["0.1", "0.2"]  # the differing column, one row a setting

    settings = json.loads(run_cli("compare", "--sweep", sweep_id, "--json", "--sort", "dt").stdout)
    assert [(s["dt"], s["seeds"], len(s["runs"])) for s in settings] == [(0.1, [0, 1], 2), (0.2, [0, 1], 2)]
    # Heat in a fixed box loses mass through its edges: the longer step loses more by step 40.
    assert settings[0]["final"] > settings[1]["final"]
    assert settings[0]["final_std"] == 0.0  # pde's start does not depend on the seed

    by_csv = list(csv.DictReader(io.StringIO(run_cli("compare", "--sweep", sweep_id, "--csv").stdout)))
    assert [row["dt"] for row in by_csv] == ["0.1", "0.2"]

    # Named runs of one setting and two seeds: one row, mean ± std.
    one_setting = [r.run_id for r in records if r.meta["params"]["dt"] == 0.1]
    named = run_cli("compare", *one_setting)
    assert "no parameter differs" in named.stdout and "± 0" in named.stdout

    refused = run_cli("compare", "--sweep", sweep_id, "--sort", "nope")
    assert refused.returncode == 2
    assert refused.stderr.startswith("meetup-lab: error: --sort nope: sort by one of run, status, seed,")
