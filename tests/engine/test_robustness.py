from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.registry import MODEL_NAMES, make_model

RNG = np.random.default_rng(8)
BASE = RNG.poisson(3, 90).astype(float)
WITH_GAPS = BASE.copy()
WITH_GAPS[[5, 6, 7, 40, 41, 89]] = np.nan
WITH_OUTLIER = BASE.copy()
WITH_OUTLIER[60] = 10_000 * max(BASE.mean(), 1.0)
WITH_RETURNS = BASE - 2.0

CASES = {
    "all_zeros": np.zeros(90),
    "one_point": np.array([5.0]),
    "nan_gaps": WITH_GAPS,
    "huge_outlier": WITH_OUTLIER,
    "shorter_than_season": np.array([2.0, 0.0, 3.0, 1.0]),
    "negative_values": WITH_RETURNS,
    "empty": np.array([]),
    "all_missing": np.full(10, np.nan),
}

# Models that estimate a likelihood or a decomposition and cannot work from a single observation.
NEEDS_HISTORY = {"holt", "holt_winters_add", "holt_winters_mul", "ets", "arima", "sarima", "theta", "mstl"}


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("case", list(CASES))
def test_it_forecasts_messy_demand_without_raising(name, case):
    forecast = make_model(name, n_paths=50).fit(CASES[case]).predict(14)

    assert forecast.mean.shape == (14,)
    assert np.isfinite(forecast.mean).all()
    assert np.all(forecast.mean >= 0)
    assert np.all(forecast.quantiles >= 0)
    assert np.all(np.diff(forecast.quantiles, axis=0) >= 0)
    assert np.all(forecast.paths >= 0)


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("case", ["empty", "all_missing"])
def test_it_records_a_fallback_when_there_is_nothing_to_fit(name, case):
    forecast = make_model(name).fit(CASES[case]).predict(5)

    assert forecast.info["fallback"] == "seasonal_naive"
    assert "0 observations" in forecast.info["error"]
    np.testing.assert_allclose(forecast.mean, 0.0)


@pytest.mark.parametrize("name", sorted(NEEDS_HISTORY))
def test_it_records_a_fallback_for_a_single_observation(name):
    forecast = make_model(name).fit(CASES["one_point"]).predict(3)

    assert forecast.info["fallback"] == "seasonal_naive"
    np.testing.assert_allclose(forecast.mean, 5.0)


@pytest.mark.parametrize("name", ["holt_winters_add", "holt_winters_mul", "mstl"])
def test_it_records_a_fallback_for_a_series_shorter_than_the_season(name):
    forecast = make_model(name, season_length=7).fit(CASES["shorter_than_season"]).predict(7)

    assert forecast.info["fallback"] == "seasonal_naive"
    assert forecast.info["error"]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_it_treats_returns_beyond_sales_as_zero_demand(name):
    forecast = make_model(name).fit(np.full(40, -3.0)).predict(5)

    np.testing.assert_allclose(forecast.mean, 0.0)
    np.testing.assert_allclose(forecast.quantiles, 0.0)
