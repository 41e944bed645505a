"""Commands a lab adds to the command line, beside `run`, `params` and the rest.

A lab declares each as plain data (its arguments, their help) in a module that imports
little, registers it under the ``meetup_lab.commands`` entry-point group of its package
(pyproject.toml), and names the function that does the work by reference, imported only
when the command runs. The CLI makes a command of each declaration; listing them for
``--help`` imports only the declarations, not the labs (start-up stays fast).

The function takes the arguments by name, prints what it has to say, and returns the
exit code, or raises :class:`CommandError` for a one-line error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labs import paths

EXIT_FAILED, EXIT_USAGE = 1, 2
COMMANDS_GROUP = "meetup_lab.commands"  # the entry-point group


@dataclass(frozen=True)
class Arg:
    """One argument: positional when required and without a ``flag``, else an option
    (``flag``, or ``--name``), required or with its default."""

    name: str
    help: str
    type: type = str  # str, int, float or Path
    required: bool = True
    default: Any = None
    flag: str | None = None  # the option's name (--runs-dir): makes a required argument an option


@dataclass(frozen=True)
class LabCommand:
    name: str
    help: str  # its first line is the command's line in `meetup-lab --help`
    run: str  # "module:function", imported only when the command runs
    args: tuple[Arg, ...] = ()


class CommandError(Exception):
    """What went wrong, in one line, and the exit code (2: the input was wrong)."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


RUNS_DIR = Arg(
    "runs_dir",
    f"Where runs are recorded (default: ${paths.RUNS_DIR_ENV}, else the XDG data folder).",
    type=Path,
    required=False,
    flag="--runs-dir",
)
