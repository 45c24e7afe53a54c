from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine.prep import (
    aggregate_panel,
    handle_outliers,
    long_to_panel,
    mask_stockouts,
    mean_scale,
    panel_to_long,
    unscale,
    winsorise,
)


def sales_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": ["A", "A", "A", "B", "B", "A"],
            "ds": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-03", "2024-01-04", "2024-01-07", "2024-01-08"]),
            "y": [2.0, 1.0, 4.0, 3.0, 6.0, 1.0],
            "price": [10.0, 9.0, 11.0, 5.0, 5.0, 10.0],
        }
    )


def test_it_builds_a_daily_panel_summing_rows_and_filling_gaps_with_zero():
    panel = long_to_panel(sales_table(), covariates=["price"])

    assert panel.ids == ["A", "B"]
    assert panel.dates[0] == pd.Timestamp("2024-01-01")
    assert panel.dates[-1] == pd.Timestamp("2024-01-08")
    np.testing.assert_array_equal(panel.values[0], [2, 0, 5, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(panel.values[1], [np.nan, np.nan, np.nan, 3, 0, 0, 6, 0])
    np.testing.assert_array_equal(panel.covariates["price"][0], [10, 10, 10, 10, 10, 10, 10, 10])
    np.testing.assert_array_equal(panel.series()[1], [3, 0, 0, 6, 0])


def test_it_leaves_gaps_missing_when_asked():
    panel = long_to_panel(sales_table(), fill="nan")

    np.testing.assert_array_equal(panel.values[0], [2, np.nan, 5, np.nan, np.nan, np.nan, np.nan, 1])


def test_it_round_trips_a_panel_through_the_long_table():
    panel = long_to_panel(sales_table(), covariates=["price"])

    again = long_to_panel(panel_to_long(panel), covariates=["price"])

    assert again.ids == panel.ids
    np.testing.assert_array_equal(again.values, panel.values)
    np.testing.assert_array_equal(again.covariates["price"], panel.covariates["price"])
    assert list(panel_to_long(panel).columns) == ["unique_id", "ds", "y", "price"]
    assert len(panel_to_long(panel)) == 8 + 5


def test_it_aggregates_a_daily_panel_into_monday_weeks():
    weekly = aggregate_panel(long_to_panel(sales_table()), "W")

    assert list(weekly.dates) == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-08")]
    np.testing.assert_array_equal(weekly.values, [[7.0, 1.0], [9.0, 0.0]])


def test_it_aggregates_the_long_table_by_week_directly():
    weekly = long_to_panel(sales_table(), freq="W")

    np.testing.assert_array_equal(weekly.values, [[7.0, 1.0], [9.0, 0.0]])


def test_it_masks_stockout_days_as_missing():
    values = np.array([[3.0, 0.0, 0.0, 4.0]])

    masked = mask_stockouts(values, np.array([[False, True, True, False]]))

    np.testing.assert_array_equal(masked, [[3.0, np.nan, np.nan, 4.0]])
    np.testing.assert_array_equal(values, [[3.0, 0.0, 0.0, 4.0]])


def test_it_caps_an_iqr_outlier_and_reports_it():
    values = np.array([[0, 4, 0, 5, 6, 0, 5, 4, 60_000, 6, 5]], dtype=float)

    cleaned, report = handle_outliers(values, rule="iqr", action="cap")

    nonzero = values[values > 0]
    q1, q3 = np.quantile(nonzero, [0.25, 0.75])
    upper = q3 + 1.5 * (q3 - q1)
    assert report.upper[0] == pytest.approx(upper)
    assert cleaned[0, 8] == pytest.approx(upper)
    assert report.changes == [[(8, 60_000.0, pytest.approx(upper))]]
    np.testing.assert_array_equal(np.delete(cleaned, 8), np.delete(values, 8))


def test_it_replaces_zscore_outliers_by_the_median_or_marks_them_missing():
    values = np.array([[10.0] * 20 + [12.0] * 20 + [500.0]])

    by_median, report = handle_outliers(values, rule="zscore", threshold=3.0, action="median")
    masked, _ = handle_outliers(values, rule="zscore", threshold=3.0, action="nan")

    assert by_median[0, -1] == 12.0
    assert np.isnan(masked[0, -1])
    assert report.changed_counts.tolist() == [1]


def test_it_treats_low_values_only_when_both_sides_are_asked():
    values = np.array([[50.0] * 30 + [1.0]])

    upper_only, upper_report = handle_outliers(values, rule="robust", side="upper")
    both, both_report = handle_outliers(values, rule="robust", threshold=3.5, side="both", action="nan")

    assert upper_report.changed_counts.tolist() == [0]
    assert both_report.changed_counts.tolist() == [1]
    assert np.isnan(both[0, -1])
    np.testing.assert_array_equal(upper_only, values)


def test_it_winsorises_each_series_at_its_own_quantiles():
    values = np.array([[0.0, *range(1, 101)], [0.0] * 50 + [5.0] * 51])

    cleaned, report = winsorise(values, upper_quantile=0.9)

    assert cleaned[0].max() == pytest.approx(np.quantile(np.arange(1, 101), 0.9))
    assert cleaned[0, 0] == 0.0
    assert report.changed_counts.tolist() == [10, 0]
    np.testing.assert_array_equal(cleaned[1], values[1])


def test_it_scales_by_the_mean_and_inverts():
    values = np.array([[2.0, 4.0, np.nan, 6.0], [0.0, 0.0, 0.0, 0.0]])

    scaled, scale = mean_scale(values)

    np.testing.assert_allclose(scale, [4.0, 1.0])
    np.testing.assert_allclose(scaled[0], [0.5, 1.0, np.nan, 1.5])
    np.testing.assert_allclose(unscale(scaled, scale), values)
    np.testing.assert_allclose(unscale(np.ones((2, 3, 2)), scale)[:, 0, 0], [4.0, 1.0])
