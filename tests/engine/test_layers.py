"""The layers, as import-linter's contracts in pyproject.toml state them: the real tool on
this tree, and on a copy with a bad import planted in each layer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.support import REPO, cli_env

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PACKAGES = ("labs", "tui", "themes")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the packages under ``root``, with its pyproject.toml's contracts."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=cli_env(PYTHONPATH=str(root)),  # the packages under root, before the installed ones
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_layers() -> None:
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout
    assert "2 kept, 0 broken" in done.stdout and "ignored" not in done.stdout


def test_a_planted_bad_import_breaks_its_contract(tmp_path: Path) -> None:
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    with (tmp_path / "labs" / "state.py").open("a") as engine:
        engine.write("\nimport rich  # planted: the engine drawing\n")
    with (tmp_path / "tui" / "clock.py").open("a") as front:
        front.write("\nfrom labs.pde import heat  # planted: a lab's insides in the front end\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "0 kept, 2 broken" in done.stdout
    assert "labs.state -> rich" in done.stdout
    assert "tui.clock -> labs.pde.heat" in done.stdout
