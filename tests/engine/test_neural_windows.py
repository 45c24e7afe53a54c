from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.neural.windows import (
    CALENDAR_FEATURES,
    MIN_SCALE,
    YEAR_DAYS,
    CovariateScaler,
    PanelWindows,
    calendar_features,
)

NO_COVARIATES = CovariateScaler.fit(None)


def panel(series, X=None, *, context=4, horizon=2, scaler=NO_COVARIATES, end=None, X_future=None, season=7):
    return PanelWindows(
        [np.asarray(values, dtype=float) for values in series],
        X,
        context=context,
        horizon=horizon,
        scaler=scaler,
        end=end,
        freq="D",
        season_length=season,
        X_future=X_future,
    )


def phase(features: np.ndarray, column: int = 0) -> np.ndarray:
    """The phase in [0, 1) encoded by a sine/cosine pair of calendar features."""
    return np.mod(np.arctan2(features[:, column], features[:, column + 1]) / (2 * np.pi), 1.0)


def test_it_gives_monday_weekday_phase_zero_from_real_dates():
    # 2024-01-07 is a Sunday: offsets -6..0 are Monday..Sunday, offset 1 is the next Monday.
    features = calendar_features(np.arange(-6, 2), end=np.datetime64("2024-01-07"), freq="D", season_length=7)

    np.testing.assert_allclose(phase(features)[:7], np.arange(7) / 7.0, atol=1e-6)
    assert phase(features)[7] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_allclose(features[0, :2], [0.0, 1.0], atol=1e-6)


def test_it_advances_the_year_phase_by_one_day_per_daily_period():
    end = np.datetime64("2023-06-30")
    features = calendar_features(np.arange(0, 4), end=end, freq="D", season_length=7)

    days = (end + np.arange(4)).astype(np.int64)
    np.testing.assert_allclose(phase(features, 2), np.mod(days / YEAR_DAYS, 1.0), atol=1e-5)
    np.testing.assert_allclose(np.diff(phase(features, 2)), 1.0 / YEAR_DAYS, atol=1e-5)


def test_it_counts_the_season_phase_back_from_the_end_without_a_date():
    features = calendar_features(np.arange(-7, 8), end=None, freq="D", season_length=7)

    assert features.shape == (15, CALENDAR_FEATURES)
    assert features.dtype == np.float32
    np.testing.assert_allclose(phase(features), np.mod(np.arange(-7, 8), 7) / 7.0, atol=1e-6)
    np.testing.assert_allclose(features[7, :2], [0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(features[0, :2], features[7, :2], atol=1e-6)
    np.testing.assert_allclose(phase(features, 2), np.mod(np.arange(-7, 8), 364) / 364.0, atol=1e-6)
    np.testing.assert_allclose(features[:, 0] ** 2 + features[:, 1] ** 2, 1.0, atol=1e-6)


def test_it_steps_weekly_periods_by_seven_days():
    end = np.datetime64("2024-03-03")
    features = calendar_features(np.arange(0, 3), end=end, freq="W", season_length=52)

    days = (end + 7 * np.arange(3)).astype(np.int64)
    np.testing.assert_allclose(phase(features, 2), np.mod(days / YEAR_DAYS, 1.0), atol=1e-5)


def test_it_scales_a_window_by_the_mean_of_its_observed_context():
    windows = panel([[1.0, 2.0, 3.0, np.nan, 5.0]]).prediction()

    assert windows.scale[0] == pytest.approx(10.0 / 3.0)
    np.testing.assert_allclose(windows.past_values[0], np.array([2.0, 3.0, 0.0, 5.0]) * 3.0 / 10.0, rtol=1e-6)
    np.testing.assert_array_equal(windows.past_observed[0], [1.0, 1.0, 0.0, 1.0])
    assert windows.future_values is None
    assert windows.future_observed is None


def test_it_scales_an_all_zero_or_unobserved_context_by_one_and_floors_tiny_means():
    windows = panel([np.zeros(6), [np.nan] * 6, [0.0, 0.0, 0.0, 0.0, 0.0, 0.004], []]).prediction()

    np.testing.assert_allclose(windows.scale, [1.0, 1.0, MIN_SCALE, 1.0])
    assert np.isfinite(windows.past_values).all()
    np.testing.assert_array_equal(windows.past_observed[1], 0.0)
    np.testing.assert_array_equal(windows.past_observed[3], 0.0)


def test_it_treats_infinities_as_missing_and_clips_returns_to_zero():
    windows = panel([[4.0, np.inf, -3.0, 8.0]]).prediction()

    np.testing.assert_array_equal(windows.past_observed[0], [1.0, 0.0, 1.0, 1.0])
    assert windows.scale[0] == pytest.approx(4.0)
    np.testing.assert_allclose(windows.past_values[0], [1.0, 0.0, 0.0, 2.0])


def test_it_right_aligns_series_of_different_lengths_with_unobserved_leading_periods():
    windows = panel([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [7.0, 8.0], [np.nan, np.nan, 9.0, 9.0]]).prediction()

    np.testing.assert_array_equal(windows.past_observed, [[1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]])
    np.testing.assert_allclose(windows.past_values * windows.scale[:, None], [[3, 4, 5, 6], [0, 0, 7, 8], [0, 0, 9, 9]])
    # all rows share one calendar: the same period has the same features whatever the series' length
    np.testing.assert_array_equal(windows.past_features[0], windows.past_features[1])


def test_it_never_lets_a_training_target_touch_the_last_holdout_periods():
    length, holdout, horizon = 40, 5, 3
    series = [np.arange(1.0, length + 1.0), np.concatenate([[np.nan] * 10, np.arange(11.0, length + 1.0)])]
    grid = panel(series, context=6, horizon=horizon)

    windows = grid.sample_training(np.random.default_rng(0), 4000, holdout=holdout)

    targets = windows.future_values * windows.scale[:, None]
    assert np.all(windows.future_observed == 1.0)
    assert targets.max() == pytest.approx(length - holdout)
    assert targets.min() >= 2.0 - 1e-4
    assert np.all(windows.past_observed.sum(axis=1) >= 1.0)
    # every allowed origin is drawn: first targets run from day 2 to the last day that leaves room for the horizon
    first_targets = np.round(targets[:, 0]).astype(int)
    assert set(first_targets) == set(range(2, length - holdout - horizon + 2))
    assert np.all(np.diff(targets, axis=1) == pytest.approx(1.0, abs=1e-3))


def test_it_samples_training_windows_uniformly_over_series_and_origins():
    # the rows differ by level only, so a window's scale tells which row it came from
    grid = panel([np.ones(30), np.full(12, 2.0)], context=4, horizon=2)
    low, high = grid.training_pairs(holdout=2)

    windows = grid.sample_training(np.random.default_rng(1), 20000, holdout=2)

    np.testing.assert_array_equal(high - low, [26, 8])
    assert len(windows) == 20000
    assert set(np.unique(windows.scale)) == {1.0, 2.0}
    assert np.mean(windows.scale == 2.0) == pytest.approx(8 / 34, abs=0.015)


def test_it_returns_no_training_windows_when_no_target_fits_before_the_holdout():
    grid = panel([[1.0, 2.0, 3.0], [np.nan, np.nan, np.nan]], context=4, horizon=2)

    assert grid.sample_training(np.random.default_rng(0), 8, holdout=2) is None
    assert grid.sample_training(np.random.default_rng(0), 8, holdout=0) is not None


def test_it_validates_on_the_last_horizon_of_every_series_observed_before_it():
    grid = panel([np.arange(1.0, 11.0), [np.nan] * 8 + [5.0, 6.0], [3.0, 4.0, 5.0]], context=4, horizon=2)

    validation = grid.validation()

    assert len(validation) == 2
    np.testing.assert_allclose(validation.future_values * validation.scale[:, None], [[9.0, 10.0], [4.0, 5.0]])
    np.testing.assert_allclose(validation.past_values[0] * validation.scale[0], [5.0, 6.0, 7.0, 8.0])
    np.testing.assert_array_equal(validation.past_observed[1], [0.0, 0.0, 0.0, 1.0])


def test_it_returns_no_validation_when_no_series_is_observed_before_its_last_horizon():
    assert panel([[1.0, 2.0], [np.nan, 3.0]], horizon=2).validation() is None


def test_it_standardises_covariates_with_the_panel_statistics_and_leaves_constant_columns_unscaled():
    X = [np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[5.0, 5.0], [np.nan, 5.0], [7.0, 5.0]])]

    scaler = CovariateScaler.fit(X)

    stacked = np.array([1.0, 3.0, 5.0, 7.0])
    assert scaler.width == 2
    assert scaler.mean == pytest.approx((stacked.mean(), 5.0))
    assert scaler.std == pytest.approx((stacked.std(), 1.0))
    transformed = np.vstack([scaler.transform(block) for block in X])
    assert transformed.dtype == np.float32
    np.testing.assert_allclose(transformed[[0, 1, 2, 4], 0], (stacked - stacked.mean()) / stacked.std(), rtol=1e-6)
    np.testing.assert_array_equal(transformed[:, 1], 0.0)
    assert transformed[3, 0] == 0.0


def test_it_fits_a_covariate_scaler_on_one_dimensional_and_empty_blocks():
    scaler = CovariateScaler.fit([np.array([2.0, 4.0]), np.zeros((0, 1)), np.zeros(0)])

    assert scaler.mean == pytest.approx((3.0,))
    assert scaler.std == pytest.approx((1.0,))
    assert CovariateScaler.fit(None).width == 0
    assert CovariateScaler.fit([]).width == 0


def test_it_places_covariates_on_their_periods_and_x_future_in_the_future_columns():
    X = [np.array([[1.0], [2.0], [3.0], [4.0], [5.0]]), np.array([[2.0], [4.0]])]
    X_future = [np.array([[10.0], [20.0], [30.0]]), np.array([[40.0]])]
    scaler = CovariateScaler.fit(X)
    grid = panel([np.ones(5), np.ones(2)], X, scaler=scaler, X_future=X_future, context=4, horizon=2)

    windows = grid.prediction()

    assert windows.past_features.shape == (2, 4, CALENDAR_FEATURES + 1)
    assert windows.future_features.shape == (2, 2, CALENDAR_FEATURES + 1)
    np.testing.assert_allclose(windows.past_features[0, :, -1], scaler.transform(X[0][1:])[:, 0])
    np.testing.assert_allclose(windows.past_features[1, 2:, -1], scaler.transform(X[1])[:, 0])
    np.testing.assert_array_equal(windows.past_features[1, :2, -1], 0.0)
    # X_future longer than the horizon is cut, shorter is padded with the training mean (0 once standardised)
    np.testing.assert_allclose(windows.future_features[0, :, -1], scaler.transform(X_future[0][:2])[:, 0])
    np.testing.assert_allclose(windows.future_features[1, :, -1], [scaler.transform(X_future[1])[0, 0], 0.0])
    np.testing.assert_array_equal(windows.future_features[0, :, :CALENDAR_FEATURES], windows.future_features[1, :, :4])


def test_it_subsets_every_array_of_a_window_batch_together():
    windows = panel([np.arange(1.0, 13.0), np.arange(2.0, 14.0)], horizon=2).validation()

    part = windows.subset(np.array([1]))

    assert len(part) == 1
    np.testing.assert_array_equal(part.future_values, windows.future_values[1:])
    np.testing.assert_array_equal(part.past_features, windows.past_features[1:])
    assert part.scale[0] == windows.scale[1]


def test_a_quantile_function_reads_levels_and_uniforms_on_a_grid_of_levels():
    from forecasting.engine.base import quantile_function

    grid = np.array([[0.0, 10.0], [2.0, 20.0], [6.0, 40.0]])  # 3 levels x 2 steps
    levels = np.array([0.1, 0.5, 0.9])

    values = quantile_function(grid, levels, np.array([[0.1, 0.3], [0.7, 0.95], [0.05, 0.5]]))

    np.testing.assert_allclose(values, [[0.0, 15.0], [4.0, 40.0], [0.0, 20.0]])
    single = quantile_function(grid[:1], levels[:1], np.array([[0.2, 0.9]]))
    np.testing.assert_allclose(single, [[0.0, 10.0]])
