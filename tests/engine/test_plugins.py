"""Labs as plugins: the example lab package (examples/lab-package), pip-installed into a
folder of its own, shows in ``list``, ``params``, the menu and the form, and runs like a
built-in lab; a broken lab package costs one line and leaves the other labs working."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from labs import registry
from tests.support import REPO, only_run_dir, run_cli
from tui.app import make_app
from tui.screens.form import FormScreen
from tui.widgets.lab_list import LabList

EXAMPLE = REPO / "examples" / "lab-package"
BUILT_IN = ["pde", "logreg", "glasses", "customop", "minibatch"]
BROKEN = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "meetup-broken"
        version = "0.1.0"

        [project.entry-points."meetup_lab.labs"]
        gone = "meetup_broken:MISSING"
        notalab = "meetup_broken:NOT_A_LAB"
        twin = "meetup_broken:TWIN"

        [tool.setuptools]
        py-modules = ["meetup_broken"]
    """,
    "meetup_broken.py": """
        import dataclasses
        from labs.pde.lab import LAB as PDE

        NOT_A_LAB = "a string"
        TWIN = dataclasses.replace(PDE, title="another pde")
    """,
}


def pip_install(source: Path, target: Path) -> Path:
    """``pip install`` a copy of a package into a folder of its own (not the test's
    environment): pip builds in the source folder, and two workers may install at once."""
    source = Path(shutil.copytree(source, target.with_name(target.name + "-source")))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return target


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pip_install(EXAMPLE, tmp_path_factory.mktemp("example-installed"))


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("broken-source")
    for name, text in BROKEN.items():
        (source / name).write_text(textwrap.dedent(text))
    return pip_install(source, tmp_path_factory.mktemp("broken-installed"))


@pytest.fixture
def installed_here(monkeypatch: pytest.MonkeyPatch, example: Path, broken: Path) -> Iterator[None]:
    """Both packages installed for this process too: on sys.path, the labs looked up anew."""
    monkeypatch.syspath_prepend(str(example))
    monkeypatch.syspath_prepend(str(broken))
    registry.installed.cache_clear()
    yield
    monkeypatch.undo()
    registry.installed.cache_clear()


def with_path(*folders: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([*map(str, folders), str(REPO)])}


@pytest.mark.slow
def test_an_installed_lab_package_is_listed_after_the_built_in_labs(example: Path) -> None:
    done = run_cli("list", **with_path(example))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    names = [line.split()[0] for line in done.stdout.splitlines()]
    assert names == [*BUILT_IN, "line"]
    # Without the package, no such lab.
    assert [line.split()[0] for line in run_cli("list").stdout.splitlines()] == BUILT_IN


@pytest.mark.slow
def test_an_installed_lab_has_params_and_runs_headless_like_a_built_in_one(
    example: Path, runs_dir: Path
) -> None:
    params = run_cli("params", "line", **with_path(example))
    assert params.returncode == 0, params.stderr
    assert params.stdout.split()[:3] == ["slope", "float", "default"]
    assert "learning_rate" in params.stdout
    bad = run_cli("run", "line", "--headless", "--set", "steps=0", **with_path(example))
    assert bad.returncode == 2 and "steps" in bad.stderr and "Traceback" not in bad.stderr

    done = run_cli("run", "line", "--headless", "--json", "--set", "steps=200", **with_path(example))
    assert done.returncode == 0, done.stderr
    run_dir = only_run_dir(runs_dir)
    assert run_dir is not None
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished"
    # Gradient descent found the line the points were drawn from (slope 2, intercept -1).
    result = summary["result"]
    assert abs(result["slope"] - 2.0) < 0.1 and abs(result["intercept"] + 1.0) < 0.1
    # The run's record names the lab as installed, so `show` finds it again.
    shown = run_cli("show", run_dir.name, "--headless", **with_path(example))
    assert shown.returncode == 0 and "slope" in shown.stdout
    # Not on a terminal, `show` without --headless says how, instead of waiting for keys.
    piped = run_cli("show", run_dir.name, **with_path(example))
    assert piped.returncode == 2 and "needs a terminal" in piped.stderr and "--headless" in piped.stderr


@pytest.mark.slow
async def test_an_installed_lab_is_in_the_menu_and_a_broken_one_is_named(
    tmp_path: Path, installed_here: None
) -> None:
    app = make_app(runs_dir=tmp_path / "runs", config_path=tmp_path / "config.json")
    async with app.run_test(size=(100, 32)) as pilot:
        lab_list = pilot.app.screen.query_one(LabList)
        ids = [lab_list.get_option_at_index(i).id for i in range(lab_list.option_count)]
        assert ids == [*BUILT_IN, "line"]
        # The broken package's three entry points: a notification each, naming it.
        shown = [n.message for n in pilot.app._notifications]
        assert len(shown) == 3 and all("meetup-broken" in message for message in shown), shown
        lab_list.highlighted = ids.index("line")
        await pilot.press("enter")
        await pilot.pause()
        form = pilot.app.screen
        assert isinstance(form, FormScreen) and form.lab.name == "line"
        assert form.query_one("#param-slope").display


@pytest.mark.slow
def test_a_broken_lab_package_is_one_warning_and_the_other_labs_still_work(
    example: Path, broken: Path
) -> None:
    done = run_cli("list", **with_path(example, broken))
    assert done.returncode == 0
    assert [line.split()[0] for line in done.stdout.splitlines()] == [*BUILT_IN, "line"]
    warnings = done.stderr.splitlines()
    assert len(warnings) == 3 and all(w.startswith("meetup-lab: warning: lab ") for w in warnings), warnings
    by_name = {w.split("'")[1]: w for w in warnings}
    assert "AttributeError" in by_name["gone"] and "meetup-broken" in by_name["gone"]
    assert "str is not a Lab" in by_name["notalab"]
    assert "the name 'pde' is taken" in by_name["twin"]
    assert "Traceback" not in done.stderr

    # Asked for by name, a broken lab is a one-line error.
    params = run_cli("params", "gone", **with_path(broken))
    assert params.returncode == 2 and params.stdout == ""
    assert params.stderr.splitlines() == [params.stderr.strip()]
    assert "cannot load lab 'gone'" in params.stderr and "AttributeError" in params.stderr
