from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.panel import forecast_panel
from forecasting.engine.registry import VECTORISED_MODEL_NAMES, make_model


def messy_panel() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    series = []
    for index in range(40):
        length = int(rng.integers(2, 160))
        values = (rng.random(length) < rng.uniform(0.1, 1.0)) * rng.poisson(rng.uniform(1, 30), length)
        values = values.astype(float)
        if index % 3 == 0:
            values[rng.integers(0, length, size=3)] = np.nan
        if index % 5 == 0:
            values[rng.integers(0, length)] = -4.0
        series.append(values)
    return [*series, np.array([]), np.array([np.nan, np.nan]), np.zeros(50), np.array([7.0])]


def assert_same_forecast(panel_forecast, single_forecast) -> None:
    np.testing.assert_allclose(panel_forecast.mean, single_forecast.mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(panel_forecast.quantiles, single_forecast.quantiles, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(panel_forecast.paths, single_forecast.paths, rtol=1e-10, atol=1e-12)
    assert panel_forecast.info.keys() == single_forecast.info.keys()
    assert panel_forecast.info.get("fallback") == single_forecast.info.get("fallback")


@pytest.mark.parametrize("name", VECTORISED_MODEL_NAMES)
def test_it_gives_the_vectorised_panel_the_results_of_the_series_loop(name):
    series = messy_panel()

    forecasts = forecast_panel(name, series, 10, quantiles=(0.1, 0.5, 0.9), n_paths=50, seed=4)

    assert len(forecasts) == len(series)
    for values, forecast in zip(series, forecasts, strict=True):
        assert_same_forecast(forecast, make_model(name, n_paths=50, seed=4).fit(values).predict(10))


def test_it_gives_a_series_the_same_paths_whatever_panel_it_is_in():
    series = messy_panel()

    alone = forecast_panel("ses", series[7:8], 5, n_paths=30)[0]
    among_others = forecast_panel("ses", series, 5, n_paths=30)[7]

    np.testing.assert_array_equal(alone.paths, among_others.paths)


def test_it_loops_the_expensive_models_with_threads_and_the_same_results():
    series = messy_panel()[:4]

    threaded = forecast_panel("theta", series, 6, n_paths=20, threads=2)

    for values, forecast in zip(series, threaded, strict=True):
        assert_same_forecast(forecast, make_model("theta", n_paths=20).fit(values).predict(6))


def test_it_records_the_seasonal_naive_fallback_instead_of_raising():
    series = [np.array([1.0, 2.0]), np.arange(60.0), np.array([])]

    forecasts = forecast_panel("holt_winters_add", series, 4)

    assert forecasts[0].info["fallback"] == "seasonal_naive"
    assert forecasts[0].info["error"]
    assert "fallback" not in forecasts[1].info
    assert forecasts[2].info["fallback"] == "seasonal_naive"
    np.testing.assert_allclose(forecasts[2].mean, 0.0)


def test_it_falls_back_where_a_vectorised_forecast_is_not_finite():
    series = [np.array([1e308, 1e308, 0.0, 1e308]), np.array([1.0, 2.0, 3.0])]

    forecasts = forecast_panel("ses", series, 3)

    assert forecasts[0].info["fallback"] == "seasonal_naive"
    assert all(np.isfinite(forecast.quantiles).all() for forecast in forecasts)
    assert "fallback" not in forecasts[1].info


def test_it_passes_exogenous_regressors_per_series():
    rng = np.random.default_rng(2)
    promo = (rng.random(100) < 0.3).astype(float)
    y = 10 + 8 * promo + rng.normal(0, 0.5, 100)

    forecast = forecast_panel(
        "sarima", [y[:96]], 4, X=[promo[:96, None]], X_future=[np.array([[1.0], [0.0], [1.0], [0.0]])]
    )[0]

    np.testing.assert_allclose(forecast.mean, [18.0, 10.0, 18.0, 10.0], atol=1.0)
