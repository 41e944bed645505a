"""Cheap imports: the engine never pulls in a UI or TensorFlow, the CLI neither TensorFlow nor Textual."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import MEETUP_LAB, REPO, cli_env

ENGINE = [
    "labs.registry",
    "labs.runner",
    "labs.recording",
    "labs.pde.lab",
    "labs.child",
    "labs.supervisor",
    "labs.state",
    "labs.board",
    "labs.warm",
]


def loaded_after_import(modules: list[str]) -> set[str]:
    """Top-level package names in sys.modules after importing ``modules`` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_the_engine_imports_no_ui_and_no_tensorflow() -> None:
    loaded = loaded_after_import(ENGINE)
    assert {"labs", "numpy"} <= loaded  # the probe saw the imports happen
    assert not loaded & {"textual", "rich", "tui", "tensorflow", "keras"}


def test_the_supervisor_stays_light() -> None:
    """A run's supervisor lives as long as the run: it imports neither TensorFlow nor any lab."""
    loaded = loaded_after_import(["labs.supervisor"])
    assert not loaded & {"tensorflow", "keras", "textual", "rich", "tui", "psutil"}


def test_the_cli_module_imports_neither_tensorflow_nor_textual() -> None:
    loaded = loaded_after_import(["tui.cli"])
    assert {"tui", "typer", "labs"} <= loaded
    assert not loaded & {"tensorflow", "keras", "textual"}


def test_the_app_and_its_screens_import_no_tensorflow() -> None:
    # The menu is up before any run starts: TensorFlow is the run's business.
    loaded = loaded_after_import(["tui.app", "tui.headless"])
    assert {"textual", "tui"} <= loaded
    assert not loaded & {"tensorflow", "keras"}


def test_help_imports_no_tensorflow(tmp_path) -> None:
    """`meetup-lab --help` through the real entry point, with sys.modules read at exit."""
    dump = tmp_path / "modules.json"
    code = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: open({str(dump)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
        "sys.argv = ['meetup-lab', '--help']\n"
        "from tui.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for command in ("list", "params", "run", "runs", "show", "attach", "stop", "predict", "worker"):
        assert command in done.stdout
    loaded = {name.split(".")[0] for name in json.loads(dump.read_text())}
    assert "typer" in loaded
    assert not loaded & {"tensorflow", "keras", "textual"}


def test_help_runs_as_the_console_script() -> None:
    done = subprocess.run(
        [str(MEETUP_LAB), "--help"], cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
