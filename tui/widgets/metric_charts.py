"""Charts over steps for the metrics that matter most (loss and accuracy first)."""

from __future__ import annotations

from textual.containers import Vertical
from textual.widgets import Label, Sparkline

PREFERRED = ("loss", "val_loss", "accuracy", "val_accuracy")
MAX_POINTS = 400  # a panel is never wider; older points are dropped


class MetricCharts(Vertical):
    """One labelled sparkline per charted metric; which ones is fixed by the first metric."""

    DEFAULT_CSS = """
    MetricCharts { height: auto; }
    MetricCharts Sparkline { height: 2; }
    MetricCharts .chart-label { width: 1fr; }
    """

    def __init__(self, preferred: tuple[str, ...] = (), max_charts: int = 2) -> None:
        super().__init__()
        self.preferred = tuple(dict.fromkeys(preferred + PREFERRED))  # a lab's choice may repeat ours
        self.max_charts = max_charts
        self.series: dict[str, tuple[list[float], Label, Sparkline]] = {}

    def add(self, values: dict[str, float]) -> None:
        if not self.series:
            first = [n for n in self.preferred if n in values]
            names = first + [n for n in values if n not in first]
            for name in names[: self.max_charts]:
                label, chart = Label(name, classes="chart-label"), Sparkline([])
                self.series[name] = ([], label, chart)
                self.mount(label, chart)
        for name, (points, label, chart) in self.series.items():
            if name in values:
                points.append(values[name])
                del points[:-MAX_POINTS]
                label.update(f"{name}  {min(points):.4g} … {max(points):.4g}")
                chart.data = list(points)
