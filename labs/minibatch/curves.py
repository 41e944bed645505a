"""Lines that grow as a run goes, sent as one chart that the run screen redraws.

A chart event carries every line so far, so it is sent at most a few times a
second, and a long line is thinned to events.MAX_POINTS (a panel is never wider):
what is sent and recorded stays bounded however long the run.
"""

from __future__ import annotations

import math
import time

from labs import events as ev

INTERVAL_S = 0.25


class Curves:
    def __init__(self, name: str, x_label: str, y_label: str) -> None:
        self.name, self.x_label, self.y_label = name, x_label, y_label
        self.series: dict[str, list[tuple[float, float]]] = {}
        self._sent = -math.inf

    def add(self, series: str, x: float, y: float) -> ev.Chart | None:
        """Add a point to ``series``; the chart, when it is time to send it again."""
        self.series.setdefault(series, []).append((x, y))
        return self.chart() if time.monotonic() - self._sent >= INTERVAL_S else None

    def chart(self) -> ev.Chart:
        """The chart with every line so far (send it at the end of each line too)."""
        self._sent = time.monotonic()
        return ev.Chart(self.name, self.x_label, self.y_label, {k: _thin(v) for k, v in self.series.items()})


def _thin(points: list[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    stride = math.ceil(len(points) / ev.MAX_POINTS)
    kept = points[::stride]
    if kept[-1] != points[-1]:
        kept.append(points[-1])
    return tuple(kept)
