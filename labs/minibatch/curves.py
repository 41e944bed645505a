"""Lines that grow as a run goes, sent as one chart: the run screen shows the latest."""

from __future__ import annotations

from labs import events as ev


class Curves:
    def __init__(self, name: str, x_label: str, y_label: str) -> None:
        self.name, self.x_label, self.y_label = name, x_label, y_label
        self.series: dict[str, list[tuple[float, float]]] = {}

    def add(self, series: str, x: float, y: float) -> ev.Chart:
        """Add a point to ``series``; the chart with every line so far."""
        self.series.setdefault(series, []).append((x, y))
        lines = {name: tuple(points) for name, points in self.series.items()}
        return ev.Chart(self.name, self.x_label, self.y_label, lines)
