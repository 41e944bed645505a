"""The minibatch lab's command: ``meetup-lab worker`` (registered in pyproject.toml's
``meetup_lab.commands`` entry points; :mod:`labs.commands`)."""

from __future__ import annotations

from pathlib import Path

from labs.commands import Arg, LabCommand

WORKER = LabCommand(
    "worker",
    "Start one worker of a minibatch multiworker run; start one on each host of the cluster file.",
    "labs.minibatch.worker:command",
    (
        Arg(
            "cluster", "The cluster file: workers' host:port, the job, the seed.", type=Path, flag="--cluster"
        ),
        Arg("index", "This worker's place in the file's worker list, from 0.", int, flag="--index"),
    ),
)
