from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.registry import make_model

PATTERN = np.array([1.0, 5.0, 2.0, 8.0, 3.0, 0.0, 4.0])


@pytest.mark.parametrize("name", ["naive", "seasonal_naive", "historic_average", "moving_average", "ses"])
def test_it_forecasts_a_constant_series_as_that_constant(name):
    forecast = make_model(name).fit(np.full(40, 6.0)).predict(10)

    np.testing.assert_allclose(forecast.mean, 6.0)
    np.testing.assert_allclose(forecast.quantiles, 6.0)


def test_it_repeats_the_last_observed_value_with_naive():
    forecast = make_model("naive").fit(np.array([1.0, 2.0, 3.0, 4.0, np.nan])).predict(3)

    np.testing.assert_allclose(forecast.mean, [4.0, 4.0, 4.0])
    assert forecast.info["level"] == 4.0


def test_it_widens_the_naive_interval_like_a_random_walk():
    steps = np.array([1.0, -1.0] * 30)
    forecast = make_model("naive").fit(100 + np.cumsum(steps)).predict(4, quantiles=(0.5, 0.9))

    spread = forecast.quantiles[1] - forecast.quantiles[0]
    np.testing.assert_allclose(spread / spread[0], np.sqrt([1, 2, 3, 4]), rtol=1e-9)


def test_it_reproduces_the_season_with_seasonal_naive():
    y = np.tile(PATTERN, 4)

    forecast = make_model("seasonal_naive", season_length=7).fit(y).predict(10)

    np.testing.assert_allclose(forecast.mean, np.tile(PATTERN, 2)[:10])


def test_it_continues_the_season_from_the_right_phase():
    y = np.tile(PATTERN, 4)[:-3]

    forecast = make_model("seasonal_naive", season_length=7).fit(y).predict(3)

    np.testing.assert_allclose(forecast.mean, PATTERN[4:7])


def test_it_fills_unseen_season_positions_with_the_last_value():
    forecast = make_model("seasonal_naive", season_length=7).fit(np.array([3.0, 9.0])).predict(7)

    np.testing.assert_allclose(forecast.mean, [9.0, 9.0, 9.0, 9.0, 9.0, 3.0, 9.0])
    assert forecast.info["short_history"] == 5


def test_it_averages_all_observations_with_historic_average():
    forecast = make_model("historic_average").fit(np.array([2.0, np.nan, 4.0, 6.0])).predict(2)

    np.testing.assert_allclose(forecast.mean, [4.0, 4.0])


def test_it_averages_the_last_window_of_observed_days():
    forecast = make_model("moving_average", window=3).fit(np.array([10.0, 1.0, 2.0, np.nan, 3.0])).predict(2)

    np.testing.assert_allclose(forecast.mean, [2.0, 2.0])


def test_it_keeps_historic_average_errors_independent_across_days():
    y = 50 + np.random.default_rng(3).normal(0, 4, 300)

    forecast = make_model("historic_average").fit(y).predict(5, quantiles=(0.1, 0.9))

    spread = forecast.quantiles[1] - forecast.quantiles[0]
    np.testing.assert_allclose(spread, spread[0])
    np.testing.assert_allclose(spread[0], 2 * 1.2815515655 * np.std(y, ddof=1), rtol=1e-6)
