"""Damaged run folders: every reader tolerates any content, says what is wrong, and lists the rest.

Real recorded run folders are mutated in many ways (wrong types, missing keys,
torn and undecodable lines, random bytes), one at a time beside an intact run,
and read through the real CLI (in process) and the real app.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable
from typer.testing import CliRunner

from labs.recording import list_runs
from tests.recorded import RUN_ID, SWEEP_ID, make_recorded_run, make_recorded_sweep
from tui.app import make_app
from tui.cli import app
from tui.screens.run import RunScreen
from tui.screens.runs import RunsScreen

WRONG = [None, "abc", [1, 2], {}, {"a": "b"}, 1e308, -1, True, ""]
Mutation = Callable[[Path], None]


def _set(file: str, key: str, value: object) -> Mutation:
    def mutate(folder: Path) -> None:
        obj = json.loads((folder / file).read_text())
        obj[key] = value
        (folder / file).write_text(json.dumps(obj))

    mutate.__name__ = f"{file}[{key}]={value!r}"
    return mutate


def _drop(file: str, key: str) -> Mutation:
    def mutate(folder: Path) -> None:
        obj = json.loads((folder / file).read_text())
        del obj[key]
        (folder / file).write_text(json.dumps(obj))

    mutate.__name__ = f"{file} without {key}"
    return mutate


def _content(file: str, data: bytes) -> Mutation:
    def mutate(folder: Path) -> None:
        (folder / file).write_bytes(data)

    mutate.__name__ = f"{file} = {data[:20]!r}"
    return mutate


def _events(change: Callable[[list[bytes]], list[bytes]], name: str) -> Mutation:
    def mutate(folder: Path) -> None:
        lines = (folder / "events.jsonl").read_bytes().split(b"\n")
        (folder / "events.jsonl").write_bytes(b"\n".join(change(lines)))

    mutate.__name__ = f"events: {name}"
    return mutate


def _flip_bytes(seed: int) -> Mutation:
    def mutate(folder: Path) -> None:
        rng = random.Random(seed)
        for file in ("events.jsonl", "summary.json", "params.json"):
            data = bytearray((folder / file).read_bytes())
            for _ in range(3):
                data[rng.randrange(len(data))] = rng.randrange(256)
            (folder / file).write_bytes(bytes(data))

    mutate.__name__ = f"random bytes (seed {seed})"
    return mutate


BAD_LINES = [
    b'{"type":"metric","step":"x","values":{"loss":1}}',
    b'{"type":"metric","step":3,"values":[1,2]}',
    b'{"type":"metric","step":3,"values":{"loss":"high"}}',
    b'{"type":"table","name":"t","columns":["a"],"rows":[[1,2]]}',
    b'{"type":"table","name":"t","columns":"ab","rows":"cd"}',
    b'{"type":"chart","name":"c","x_label":"x","y_label":"y","series":[1]}',
    b'{"type":"frame","name":"u","step":1,"shape":[2,2],"data":"@@@"}',
    b'{"type":"frame","name":"u","step":1,"shape":[0],"data":""}',
    b'{"type":"started","lab":5}',
    b'{"type":"nope"}',
    b"[1, 2, 3]",
    b'"just a string"',
    b"\xff\xfe\xfd",
    b'{"type":"finished","summary":"done"}',
]


def mutations() -> Iterator[Mutation]:
    for key in ("lab", "lab_ref", "device", "seed", "params", "started_at", "started_unix", "key_metric"):
        yield _drop("params.json", key)
        for value in WRONG:
            yield _set("params.json", key, value)
    for key in ("status", "duration", "metrics", "key_metric", "result", "reason"):
        if key != "reason":  # a finished run's summary has none to drop
            yield _drop("summary.json", key)
        for value in WRONG:
            yield _set("summary.json", key, value)
    for file in ("params.json", "summary.json", "events.jsonl"):
        for data in (b"", b"{not json", b"[1, 2]", b"\xff\xfe", b"null"):
            yield _content(file, data)
    for bad in BAD_LINES:
        yield _events(lambda lines, b=bad: [*lines[:3], b, *lines[3:]], f"a bad line {bad[:40]!r}")
    yield _events(lambda lines: [line[: len(line) // 2] for line in lines], "every line torn")
    yield _events(lambda lines: lines[: len(lines) // 2], "cut in half")
    for seed in range(12):
        yield _flip_bytes(seed)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs = tmp_path_factory.mktemp("pristine")
    make_recorded_run(runs)
    make_recorded_sweep(runs)
    return runs


def _no_crash(result: object) -> None:
    exception = getattr(result, "exception", None)
    assert exception is None or isinstance(exception, SystemExit), repr(exception)


@pytest.mark.parametrize("mutate", list(mutations()), ids=lambda m: m.__name__)
@pytest.mark.slow
def test_every_reader_tolerates_a_damaged_run_and_lists_the_others(
    mutate: Mutation, pristine: Path, runs_dir: Path
) -> None:
    shutil.copytree(pristine, runs_dir)
    mutate(runs_dir / RUN_ID)
    cli = CliRunner()
    listing = cli.invoke(app, ["runs"])
    _no_crash(listing)
    assert listing.exit_code == 0
    rows = {line.split()[0]: line.split() for line in listing.output.splitlines()[1:] if line.strip()}
    assert rows[SWEEP_ID][2] == "finished"  # the intact run, as usual
    assert RUN_ID in rows  # the damaged one is listed, never silently dropped
    status = rows[RUN_ID][2]
    [info] = [i for i in list_runs(runs_dir) if i.run_id == RUN_ID]
    assert status == info.status
    if status == "damaged":
        assert info.reason and str(runs_dir / RUN_ID) in listing.output
    for command in (["show", "--headless", RUN_ID], ["attach", RUN_ID], ["attach", "--json", RUN_ID]):
        result = cli.invoke(app, command)
        _no_crash(result)
        assert "Traceback" not in result.output
        assert f"run folder: {runs_dir / RUN_ID}" in result.output or command[1] == "--json"
    # Strict JSON lines, whatever was read.
    for line in cli.invoke(app, ["attach", "--json", RUN_ID]).output.splitlines():
        json.loads(line)


@pytest.mark.slow
async def test_the_app_lists_and_opens_damaged_runs(pristine: Path, runs_dir: Path, tmp_path: Path) -> None:
    damaged = [m for m in mutations() if "summary.json" in m.__name__ or "events" in m.__name__][:40]
    for i, mutate in enumerate(damaged):
        folder = runs_dir / f"20250101-0000{i:02d}-pde-d{i:03d}"
        shutil.copytree(pristine / RUN_ID, folder)
        mutate(folder)
    shutil.copytree(pristine / SWEEP_ID, runs_dir / SWEEP_ID)
    the_app = make_app(runs_dir, config_path=tmp_path / "config.json")
    async with the_app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        board = pilot.app.screen
        assert isinstance(board, RunsScreen)
        table = board.query_one(DataTable)
        assert table.row_count == len(damaged) + 1
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [SWEEP_ID, "minibatch", "finished"] in [row[:3] for row in rows]
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await pilot.press("enter")
            screen = pilot.app.screen
            assert isinstance(screen, RunScreen)
            for _ in range(100):
                if screen.ended:
                    break
                await pilot.pause(0.05)
            assert screen.ended, f"row {row} never ended"
            await pilot.press("escape")
            assert pilot.app.screen is board
