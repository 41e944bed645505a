"""The run screen's views besides heatmaps: a line chart and a results table."""

from __future__ import annotations

from itertools import cycle

from textual.widgets import DataTable
from textual_plotext import PlotextPlot

from labs import events as ev
from labs.numbers import cell

# One marker per series, so the lines stay apart without colour (NO_COLOR, a
# monochrome terminal) and the legend says which is which.
MARKERS = ("•", "x", "+", "o", "*", "#", "@", "%")
# Given with each series: plotext picks a default colour when a series is added, from
# the theme the plot last rendered with, so a chart filled before its first render
# would get other colours. These are textual-plotext's own first eight.
COLOURS = (
    (0, 130, 200),
    (60, 180, 75),
    (230, 25, 75),
    (255, 225, 25),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
)


class LineChart(PlotextPlot):
    """A :class:`~labs.events.Chart`: every series on one pair of axes."""

    def show(self, chart: ev.Chart) -> None:
        plt = self.plt
        plt.clear_data()
        for (name, points), marker, colour in zip(chart.series.items(), cycle(MARKERS), cycle(COLOURS)):
            if points:
                xs, ys = zip(*points, strict=True)
                plt.plot(list(xs), list(ys), label=name, marker=marker, color=colour)
        plt.xlabel(chart.x_label)
        plt.ylabel(chart.y_label)
        self.refresh()


class ResultTable(DataTable[str]):
    """A :class:`~labs.events.Table`, its numbers written as everywhere else."""

    # The panel's height, not the rows' (auto): laid out while another view showed,
    # an auto height stays at zero rows.
    DEFAULT_CSS = "ResultTable { height: 1fr; }"

    def __init__(self, **kwargs: str) -> None:
        # The first column names each row (a batch size, a run): it stays when the arrows scroll.
        super().__init__(zebra_stripes=True, cursor_type="none", fixed_columns=1, **kwargs)  # type: ignore[arg-type]

    def show(self, table: ev.Table) -> None:
        self.clear(columns=True)
        self.add_columns(*table.columns)
        self.add_rows([[cell(v) for v in row] for row in table.rows])
