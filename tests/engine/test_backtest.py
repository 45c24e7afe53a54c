from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine.backtest import cutoff_dates, cutoff_positions, rolling_origin
from forecasting.engine.base import Forecast


def last_value_forecaster(series, horizon, quantiles, X=None, X_future=None):
    """Repeats the last observed value; quantiles at value - 1, value, value + 1."""
    results = []
    for values in series:
        last = float(values[~np.isnan(values)][-1])
        mean = np.full(horizon, last)
        results.append(Forecast(mean, (0.1, 0.5, 0.9), np.vstack([mean - 1, mean, mean + 1]), info={}))
    return results


def failing_forecaster(series, horizon, quantiles, X=None, X_future=None):
    return [
        Forecast(np.zeros(horizon), (0.1, 0.5, 0.9), np.zeros((3, horizon)), info={"fallback": "seasonal_naive"})
        for _ in series
    ]


def panel(days: int = 40) -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    return pd.concat(
        [
            pd.DataFrame({"unique_id": "a", "ds": dates, "y": np.arange(days, dtype=float)}),
            pd.DataFrame({"unique_id": "b", "ds": dates[10:], "y": np.full(days - 10, 5.0)}),
        ],
        ignore_index=True,
    )


def test_it_places_cutoffs_like_statsforecast_cross_validation():
    # 100 periods (0..99), h=7, 3 windows, step 5: the last window ends on 99, so its cutoff is 92; then 87, 82
    assert cutoff_positions(100, horizon=7, n_windows=3, step=5) == [82, 87, 92]
    dates = cutoff_dates(pd.Timestamp("2024-03-31"), horizon=28, n_windows=4, step=28, freq="D")
    assert [str(date.date()) for date in dates] == ["2023-12-10", "2024-01-07", "2024-02-04", "2024-03-03"]
    weekly = cutoff_dates(pd.Timestamp("2024-03-27"), horizon=2, n_windows=2, step=1, freq="W")
    assert [str(date.date()) for date in weekly] == ["2024-03-06", "2024-03-13"]


def test_it_refuses_windows_that_need_more_history_than_the_panel_has():
    with pytest.raises(ValueError, match="need more than"):
        cutoff_positions(10, horizon=7, n_windows=2, step=5)


def test_it_matches_statsforecast_cutoffs_on_the_same_panel():
    statsforecast = pytest.importorskip("statsforecast")
    from statsforecast.models import Naive

    data = panel()
    expected = (
        statsforecast.StatsForecast(models=[Naive()], freq="D")
        .cross_validation(df=data, h=5, n_windows=3, step_size=4)["cutoff"]
        .drop_duplicates()
        .sort_values()
        .tolist()
    )
    run = rolling_origin(data, {"last": last_value_forecaster}, horizon=5, n_windows=3, step=4)
    assert sorted(run.table["cutoff"].unique().tolist()) == expected


def test_it_emits_the_long_table_with_one_row_per_series_cutoff_day_and_model():
    run = rolling_origin(
        panel(),
        {"last": last_value_forecaster, "broken": failing_forecaster},
        horizon=5,
        n_windows=3,
        step=4,
        quantiles=(0.1, 0.5, 0.9),
    )
    table = run.table
    assert list(table.columns) == ["unique_id", "cutoff", "ds", "y", "model", "mean", "q0.1", "q0.5", "q0.9"]
    assert len(table) == 2 * 3 * 5 * 2
    assert run.forecasts == 6
    assert run.failures == {"last": 0, "broken": 6}
    last_window = table[(table["model"] == "last") & (table["unique_id"] == "a")]
    final_cutoff = last_window["cutoff"].max()
    rows = last_window[last_window["cutoff"] == final_cutoff]
    assert final_cutoff == pd.Timestamp("2024-02-04")
    assert rows["ds"].tolist() == list(pd.date_range("2024-02-05", periods=5))
    # series a is 0, 1, 2, ...: the value on the cutoff is 34 and the actuals run 35..39
    assert rows["mean"].tolist() == [34.0] * 5
    assert rows["y"].tolist() == [35.0, 36.0, 37.0, 38.0, 39.0]
    assert rows["q0.9"].tolist() == [35.0] * 5


def test_it_skips_series_without_history_before_a_cutoff():
    data = panel(40)
    data = data[(data["unique_id"] == "a") | (data["ds"] >= "2024-02-01")]
    run = rolling_origin(data, {"last": last_value_forecaster}, horizon=5, n_windows=3, step=4)
    windows_of_b = run.table[run.table["unique_id"] == "b"]["cutoff"].nunique()
    assert windows_of_b == 1


def test_it_passes_series_ids_and_the_refit_rule_to_forecasters_that_take_them():
    calls = []

    def recording(series, horizon, quantiles, X=None, X_future=None, *, ids, refit):
        calls.append((list(ids), refit))
        return last_value_forecaster(series, horizon, quantiles)

    recording.takes_refit = True
    plain = rolling_origin(panel(), {"last": last_value_forecaster}, horizon=5, n_windows=3, step=4, refit=False)
    run = rolling_origin(panel(), {"last": recording}, horizon=5, n_windows=3, step=4, refit=2)
    assert calls == [(["a", "b"], True), (["a", "b"], False), (["a", "b"], True)]
    # a forecaster that does not take the rule is called as before
    pd.testing.assert_frame_equal(plain.table, run.table)
