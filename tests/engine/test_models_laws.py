from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.registry import MODEL_NAMES, make_model

RNG = np.random.default_rng(11)
SMOOTH = 8 + RNG.poisson(4, 120).astype(float) + np.tile([0, 0, 2, 4, 1, 0, 3], 18)[:120]
INTERMITTENT = (RNG.random(120) < 0.25) * RNG.poisson(5, 120).astype(float)
LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


@pytest.mark.parametrize("name", MODEL_NAMES)
@pytest.mark.parametrize("series", [SMOOTH, INTERMITTENT], ids=["smooth", "intermittent"])
def test_it_returns_ascending_non_negative_quantiles_and_paths(name, series):
    forecast = make_model(name, n_paths=300).fit(series).predict(14, quantiles=(0.9, 0.1, 0.5, 0.25))

    assert forecast.quantile_levels == (0.1, 0.25, 0.5, 0.9)
    assert forecast.quantiles.shape == (4, 14)
    assert np.all(np.diff(forecast.quantiles, axis=0) >= 0)
    assert np.all(forecast.quantiles >= 0)
    assert forecast.paths.shape == (300, 14)
    assert np.all(forecast.paths >= 0)
    assert np.all(forecast.mean >= 0)
    assert forecast.info["model"] == name


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_it_is_deterministic_for_a_seed_and_returns_no_paths_when_asked(name):
    first = make_model(name, seed=3).fit(SMOOTH).predict(7)
    second = make_model(name, seed=3).fit(SMOOTH).predict(7)
    without_paths = make_model(name, seed=3, n_paths=0).fit(SMOOTH).predict(7)

    np.testing.assert_array_equal(first.paths, second.paths)
    np.testing.assert_array_equal(first.quantiles, second.quantiles)
    assert without_paths.paths is None
    np.testing.assert_array_equal(without_paths.mean, first.mean)


def test_it_takes_cumulative_quantiles_from_paths_not_from_summed_daily_quantiles():
    sigma = 5.0
    y = 100 + np.random.default_rng(0).normal(0, sigma, 5000)
    h = 16

    forecast = make_model("historic_average", n_paths=20000).fit(y).predict(h, quantiles=(0.5, 0.9))
    cumulative = forecast.cumulative_quantiles((0.5, 0.9))

    z90 = 1.2815515655
    np.testing.assert_allclose(cumulative[1, -1] - cumulative[0, -1], z90 * sigma * np.sqrt(h), rtol=0.05)
    summed_daily = np.sum(forecast.quantiles[1] - forecast.quantiles[0])
    np.testing.assert_allclose(summed_daily, z90 * sigma * h, rtol=0.05)
    assert cumulative[1, -1] - cumulative[0, -1] < 0.3 * summed_daily


def test_it_keeps_the_random_walk_correlation_in_naive_paths():
    y = 100 + np.cumsum(np.random.default_rng(1).normal(0, 2.0, 3000))

    forecast = make_model("naive", n_paths=20000).fit(y).predict(9)

    sigma = forecast.info["sigma"]
    cumulative_sd = np.std(forecast.paths.sum(axis=1))
    # Var(sum_k sum_{j<=k} e_j) = sigma^2 sum_j (h - j + 1)^2
    expected = sigma * np.sqrt(np.sum(np.arange(1, 10) ** 2))
    np.testing.assert_allclose(cumulative_sd, expected, rtol=0.05)


def test_it_reports_the_fitted_parameters_for_explanations():
    holt = make_model("holt").fit(SMOOTH).predict(3).info
    arima = make_model("arima").fit(SMOOTH).predict(3).info

    assert {"alpha", "beta", "phi", "aicc", "method"} <= holt.keys()
    assert {"order", "seasonal_order", "aicc", "coefficients"} <= arima.keys()
