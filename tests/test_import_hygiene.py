"""Cheap imports: the engine never pulls in a UI or TensorFlow, the CLI neither TensorFlow nor Textual."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import MEETUP_LAB, REPO, cli_env

ENGINE = ["labs.registry", "labs.runner", "labs.recording", "labs.pde", "labs.child"]


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


def test_the_cli_module_imports_neither_tensorflow_nor_textual() -> None:
    loaded = loaded_after_import(["tui.cli"])
    assert {"tui", "typer", "labs"} <= loaded
    assert not loaded & {"tensorflow", "keras", "textual"}


def test_help_runs() -> None:
    done = subprocess.run(
        [str(MEETUP_LAB), "--help"], cwd=REPO, env=cli_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for command in ("list", "params", "run", "runs", "show"):
        assert command in done.stdout
    assert "Traceback" not in done.stderr
