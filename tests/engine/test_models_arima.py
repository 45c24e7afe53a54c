from __future__ import annotations

import numpy as np
from statsforecast.arima import predict_arima

from forecasting.engine.models.arima import arima_psi
from forecasting.engine.registry import make_model


def ar1_series(length: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.zeros(length)
    for index in range(1, length):
        values[index] = 0.7 * values[index - 1] + rng.normal()
    return 50 + values


def test_it_computes_arima_psi_weights_by_hand():
    psi = arima_psi(np.array([0.5]), np.array([0.3]), np.array([1.0]), 4)

    # (1 - 0.5B)(1 - B) = 1 - 1.5B + 0.5B^2; psi_1 = 0.3 + 1.5, psi_2 = 1.5 psi_1 - 0.5, psi_3 = 1.5 psi_2 - 0.5 psi_1
    np.testing.assert_allclose(psi, [1.0, 1.8, 2.2, 2.4])


def test_it_matches_the_kalman_forecast_variance_of_the_fitted_arima():
    y = ar1_series(150) + np.tile([0, 3, 0, 0, 5, 1, 0], 22)[:150]
    model = make_model("sarima", season_length=7, n_paths=0).fit(y)
    forecast = model.predict(12, quantiles=(0.5, 0.975))

    _, standard_error = predict_arima(model.fitted_, 12)

    # The Kalman variance adds the (small) uncertainty of the final state to the innovations' MA(inf) variance.
    spread = forecast.quantiles[1] - forecast.quantiles[0]
    np.testing.assert_allclose(spread, 1.959963985 * standard_error, rtol=2e-3)


def test_it_finds_an_autoregressive_order_and_reports_it():
    forecast = make_model("arima").fit(ar1_series(300)).predict(5)

    assert forecast.info["order"][0] >= 1
    assert "ar1" in forecast.info["coefficients"]
    assert forecast.info["seasonal_order"][:3] == [0, 0, 0]


def test_it_uses_exogenous_regressors_with_sarima():
    rng = np.random.default_rng(7)
    promo = (rng.random(160) < 0.2).astype(float)
    y = 20 + 15 * promo + rng.normal(0, 1, 160)
    future_promo = np.array([1.0, 0.0, 1.0, 0.0])

    forecast = make_model("sarima").fit(y[:156], X=promo[:156, None]).predict(4, X_future=future_promo[:, None])

    np.testing.assert_allclose(forecast.mean, 20 + 15 * future_promo, atol=1.5)
    assert forecast.info["coefficients"]["ex_1"] > 12


def test_it_falls_back_when_exogenous_future_values_are_missing():
    rng = np.random.default_rng(7)
    y = 20 + rng.normal(0, 1, 60)

    forecast = make_model("sarima").fit(y, X=rng.normal(size=(60, 1))).predict(3)

    assert forecast.info["fallback"] == "seasonal_naive"
    assert "X_future" in forecast.info["error"]


def test_it_forecasts_a_trend_with_theta():
    y = 10 + 0.5 * np.arange(100) + np.random.default_rng(3).normal(0, 0.5, 100)

    forecast = make_model("theta", season_length=1).fit(y).predict(5)

    assert np.all(np.diff(forecast.mean) > 0.2)
    assert forecast.info["variant"] in ("STM", "OTM", "DSTM", "DOTM")


def test_it_adds_the_repeated_season_to_the_mstl_trend_forecast():
    pattern = np.array([0.0, 2.0, 5.0, 1.0, 0.0, 9.0, 3.0])
    y = 20 + np.tile(pattern, 12)

    forecast = make_model("mstl", season_length=7).fit(y).predict(7)

    np.testing.assert_allclose(forecast.mean, 20 + pattern, atol=0.3)
    assert forecast.info["season_lengths"] == [7]
