"""Messages the run worker posts to the run screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from labs.events import Event


@dataclass
class RunEvent(Message):
    """One event of the run being watched, posted from the worker thread."""

    event: Event


@dataclass
class ReplayEnded(Message):
    """A recorded run's events ran out without a result (killed, or still running elsewhere)."""

    status: str
