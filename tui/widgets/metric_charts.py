"""A chart per charted metric: its name, latest value and a sparkline over the steps.

Two lines each, or one on a short screen, so that every metric a lab charts fits in the side
panel at 80x24 (a log scale is marked "~" there). The widget
draws its own lines (no child widgets): a new point repaints it without a new layout,
however fast points come.
"""

from __future__ import annotations

import math

from rich.segment import Segment
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from labs.events import MAX_POINTS
from labs.numbers import fmt

PREFERRED = ("loss", "val_loss", "accuracy", "val_accuracy")
BARS = "▁▂▃▄▅▆▇█"
# A positive metric whose largest value is this many times its smallest (a wave's energy)
# is drawn on a log scale, where its late decades would otherwise be one flat bar.
LOG_SPAN = 100.0
COMPACT_NAME = 12  # a name's width at most, one line a chart: a longer name is cut


def log_scaled(points: list[float]) -> bool:
    low, high = min(points), max(points)
    return low > 0 and high / low >= LOG_SPAN


def sparkline(points: list[float], width: int) -> str:
    """``points`` in ``width`` cells, each the mean of its share of them, as bar heights from
    the smallest to the largest. A constant series is the lowest bar throughout: flat, not full."""
    if width <= 0 or not points:
        return ""
    values = [math.log10(p) for p in points] if log_scaled(points) else points
    cells = min(width, len(values))
    means = []
    for i in range(cells):
        share = values[i * len(values) // cells : (i + 1) * len(values) // cells]
        means.append(sum(share) / len(share))
    low, high = min(means), max(means)
    if not high > low:  # constant, or not a number: nothing to scale
        return BARS[0] * cells
    top = len(BARS) - 1
    return "".join(BARS[round((m - low) / (high - low) * top)] for m in means)


class MetricCharts(Widget):
    """Charts the lab's chosen metrics, then the preferred ones, as the run reports them."""

    COMPONENT_CLASSES = {"metric-charts--name", "metric-charts--bars"}
    DEFAULT_CSS = """
    MetricCharts { height: auto; }
    MetricCharts > .metric-charts--name { text-style: bold; }
    MetricCharts > .metric-charts--bars { color: $accent; }
    """

    def __init__(self, preferred: tuple[str, ...] = (), *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.preferred = tuple(dict.fromkeys(preferred + PREFERRED))  # a lab's choice may repeat ours
        self.series: dict[str, list[float]] = {}

    def add(self, batch: list[dict[str, float]]) -> None:
        """Append each metric event's values (in order) to the charts of the metrics charted."""
        before = len(self.series)
        if not self.series and batch and not any(n in batch[0] for n in self.preferred):
            self.preferred += tuple(batch[0])[:2]  # a lab that names no charts: its first metrics
        for values in batch:
            for name in self.preferred:
                if name in values and math.isfinite(values[name]):
                    points = self.series.setdefault(name, [])
                    points.append(values[name])
                    del points[:-MAX_POINTS]  # older points are dropped
        if self.series:
            # Charted metrics in the lab's order, whichever came first.
            self.series = {n: self.series[n] for n in self.preferred if n in self.series}
        self.refresh(layout=len(self.series) != before)

    @property
    def compact(self) -> bool:
        """One line a chart on a short screen (80x24), else two: its name and value, then its bars."""
        return self.screen.has_class("-short")

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.series) * (1 if self.compact else 2)

    def render_line(self, y: int) -> Strip:
        width, base = self.size.width, self.rich_style
        lines = 1 if self.compact else 2
        names = list(self.series)
        if y >= len(names) * lines:
            return Strip.blank(width, base)
        name_style = base + self.get_component_rich_style("metric-charts--name", partial=True)
        bars_style = base + self.get_component_rich_style("metric-charts--bars", partial=True)
        name = names[y // lines]
        points = self.series[name]
        scale = " (log scale)" if log_scaled(points) else ""
        if not self.compact:
            if y % 2 == 0:
                segments = [Segment(name, name_style), Segment(f"  {fmt(points[-1])}{scale}", base)]
            else:
                segments = [Segment(sparkline(points, width), bars_style)]
            return Strip(segments).crop_extend(0, width, base)
        # One line: names, bars and values in columns (values to 3 digits, a log scale as ~).
        shown = {n: f"{p[-1]:.3g}" + (" ~" if log_scaled(p) else "") for n, p in self.series.items()}
        name_width = min(COMPACT_NAME, max(map(len, self.series)))
        value = " " + shown[name].rjust(max(map(len, shown.values())))
        bars = sparkline(points, width - name_width - 1 - len(value))
        segments = [
            Segment(name[:name_width].ljust(name_width + 1), name_style),
            Segment(bars, bars_style),
            Segment(value, base),
        ]
        return Strip(segments).crop_extend(0, width, base)
