from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.holtwinters import SimpleExpSmoothing

from forecasting.engine.models.ets import simulate_ets
from forecasting.engine.models.smoothing import smooth_fixed
from forecasting.engine.registry import make_model

PATTERN = np.array([0.0, 2.0, 5.0, 1.0, 0.0, 9.0, 3.0])


def test_it_computes_the_ses_level_by_hand():
    level = smooth_fixed(np.array([[2.0, 4.0, 6.0]]), 0.5)

    np.testing.assert_allclose(level, [4.5])


def test_it_skips_missing_days_in_ses():
    level = smooth_fixed(np.array([[2.0, np.nan, 4.0, 6.0]]), 0.5)

    np.testing.assert_allclose(level, [4.5])


def test_it_chooses_a_high_alpha_for_a_level_shift():
    y = np.r_[np.full(30, 2.0), np.full(30, 20.0)]

    forecast = make_model("ses").fit(y).predict(3)

    assert forecast.info["alpha"] > 0.9
    np.testing.assert_allclose(forecast.mean, 20.0, rtol=1e-3)


def test_it_continues_a_linear_trend_with_holt():
    y = 10 + 2.0 * np.arange(60)

    forecast = make_model("holt").fit(y).predict(3)

    np.testing.assert_allclose(forecast.mean, [130.0, 132.0, 134.0], rtol=5e-3)
    assert 0.8 <= forecast.info["phi"] <= 0.98
    assert forecast.info["method"] == "ETS(A,Ad,N)"


def test_it_reproduces_a_pure_season_with_holt_winters_additive():
    y = 10 + np.tile(PATTERN, 10)

    forecast = make_model("holt_winters_add", season_length=7).fit(y).predict(14)

    np.testing.assert_allclose(forecast.mean, 10 + np.tile(PATTERN, 2), atol=0.05)


def test_it_reproduces_a_pure_season_with_holt_winters_multiplicative():
    y = 10 + np.tile(PATTERN, 10)

    forecast = make_model("holt_winters_mul", season_length=7).fit(y).predict(7)

    np.testing.assert_allclose(forecast.mean, 10 + PATTERN, atol=0.05)
    assert forecast.info["method"] == "ETS(M,A,M)"


def test_it_shifts_series_with_zeros_for_holt_winters_multiplicative():
    y = np.tile(PATTERN, 10)

    forecast = make_model("holt_winters_mul", season_length=7).fit(y).predict(7)

    assert forecast.info["offset"] == 1.0
    np.testing.assert_allclose(forecast.mean, PATTERN, atol=0.1)


def test_it_forecasts_a_constant_series_as_that_constant_with_every_ets_model():
    for name in ("holt", "holt_winters_add", "holt_winters_mul", "ets", "theta", "arima", "sarima", "mstl"):
        forecast = make_model(name).fit(np.full(30, 4.0)).predict(5)

        np.testing.assert_allclose(forecast.mean, 4.0, err_msg=name)
        assert "fallback" not in forecast.info, name


def test_it_simulates_ets_paths_that_collapse_to_the_point_forecast_without_noise():
    rng = np.random.default_rng(2)
    y = 30 + 0.05 * np.arange(140) + np.tile(PATTERN, 20) + rng.normal(0, 1, 140)
    for spec in ("MNM", "MAM", "MAN", "ANA"):
        model = make_model("ets", spec=spec).fit(y)

        noiseless = simulate_ets(model.fitted_, np.zeros((1, 10)))[0]

        np.testing.assert_allclose(noiseless, model.predict(10).mean, rtol=1e-8, err_msg=spec)


def test_it_gives_additive_ets_the_analytic_variance_of_its_simulation():
    rng = np.random.default_rng(4)
    y = 30 + np.tile(PATTERN, 20) + rng.normal(0, 1, 140)
    model = make_model("holt_winters_add", n_paths=0).fit(y)
    forecast = model.predict(10, quantiles=(0.1, 0.9))
    paths = simulate_ets(model.fitted_, np.random.default_rng(0).standard_normal((20000, 10)))

    simulated = np.quantile(paths, [0.1, 0.9], axis=0)

    np.testing.assert_allclose(forecast.quantiles, simulated, rtol=0.02)


def test_it_selects_ets_by_aicc_and_reports_it():
    rng = np.random.default_rng(5)
    y = 20 + rng.normal(0, 1, 120)

    forecast = make_model("ets").fit(y).predict(3)

    assert forecast.info["method"].startswith("ETS(")
    assert np.isfinite(forecast.info["aicc"])
    np.testing.assert_allclose(forecast.mean, y.mean(), rtol=0.05)


def test_it_matches_the_statsmodels_ses_reference():
    y = 20 + np.cumsum(np.random.default_rng(6).normal(0, 1, 200)) * 0.3 + np.random.default_rng(7).normal(0, 2, 200)

    forecast = make_model("ses").fit(y).predict(1)
    reference = SimpleExpSmoothing(y, initialization_method="known", initial_level=y[0]).fit()

    assert forecast.info["alpha"] == pytest.approx(reference.params["smoothing_level"], abs=0.005)
    np.testing.assert_allclose(forecast.mean, reference.forecast(1), rtol=2e-3)
