"""The app's messages: navigation requests, from the screens to the app."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from labs.recording import RunRecord
from labs.runner import RunRequest


@dataclass
class OpenForm(Message):
    """Show the parameter form of a lab (from the menu or the command palette), filled with
    the values last used for it, or with a past run's (``like``: "run again with changes")."""

    lab_name: str
    like: RunRecord | None = None


@dataclass
class StartRun(Message):
    """Start a run and show it."""

    request: RunRequest


@dataclass
class StartSweep(Message):
    """Start the runs of a sweep (they queue for their device) and show the runs board."""

    requests: list[RunRequest]


@dataclass
class OpenRecord(Message):
    """Show a recorded run."""

    record: RunRecord
