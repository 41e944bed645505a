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


class LineChart(PlotextPlot):
    """A :class:`~labs.events.Chart`: every series on one pair of axes."""

    def show(self, chart: ev.Chart) -> None:
        plt = self.plt
        plt.clear_data()
        for (name, points), marker in zip(chart.series.items(), cycle(MARKERS)):
            if points:
                xs, ys = zip(*points, strict=True)
                plt.plot(list(xs), list(ys), label=name, marker=marker)
        plt.xlabel(chart.x_label)
        plt.ylabel(chart.y_label)
        self.refresh()


class ResultTable(DataTable[str]):
    """A :class:`~labs.events.Table`, its numbers written as everywhere else."""

    # The panel's height, not the rows' (auto): laid out while another view showed,
    # an auto height stays at zero rows.
    DEFAULT_CSS = "ResultTable { height: 1fr; }"

    def __init__(self, **kwargs: str) -> None:
        super().__init__(zebra_stripes=True, cursor_type="none", **kwargs)  # type: ignore[arg-type]

    def show(self, table: ev.Table) -> None:
        self.clear(columns=True)
        self.add_columns(*table.columns)
        self.add_rows([[cell(v) for v in row] for row in table.rows])
