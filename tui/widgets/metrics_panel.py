"""The latest value of each metric (a run may report some metrics per batch, others per epoch)."""

from __future__ import annotations

from textual.content import Content

from labs.numbers import fmt
from tui.widgets.lines import Lines


class MetricsPanel(Lines):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.values: dict[str, float] = {}

    def show(self, step: int, values: dict[str, float], charted: frozenset[str] = frozenset()) -> None:
        """The step and the latest value of each metric, but for those ``charted`` (their chart
        shows the latest value beside it)."""
        self.values = {**self.values, **values}
        rows = [("step", str(step))] + [
            (name, fmt(value)) for name, value in self.values.items() if name not in charted
        ]
        names = max(len(name) for name, _ in rows)
        numbers = max(len(number) for _, number in rows)
        # Content, not markup: a metric's name is shown as it is, brackets and all.
        self.show_lines(
            Content("\n").join(
                Content.assemble((name.ljust(names), "bold"), " ", number.rjust(numbers))
                for name, number in rows
            )
        )
