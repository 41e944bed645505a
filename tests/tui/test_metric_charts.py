"""The run screen's charts: a sparkline per metric, every metric the lab names."""

from __future__ import annotations

from tui.widgets.metric_charts import BARS, log_scaled, sparkline


def test_a_constant_metric_is_a_flat_line_not_a_full_one() -> None:
    assert sparkline([3.0] * 50, 20) == BARS[0] * 20


def test_a_metric_over_decades_is_drawn_on_a_log_scale() -> None:
    energy = [10.0 ** -(k / 10) for k in range(60)]  # six decades down, as the damped wave's
    assert log_scaled(energy)
    line = sparkline(energy, 12)
    # Each decade its share of the height: on a linear scale all but the first cells are the floor.
    assert len(set(line)) >= 6 and line == "".join(sorted(line, reverse=True))
    assert not log_scaled([1.0, 2.0, 50.0]) and not log_scaled([-1.0, 1000.0])


def test_points_are_averaged_into_the_cells_there_are() -> None:
    assert sparkline([0.0, 0.0, 1.0, 1.0], 2) == BARS[0] + BARS[-1]
    assert sparkline([0.0, 1.0], 10) == BARS[0] + BARS[-1]  # fewer points than cells: one each
