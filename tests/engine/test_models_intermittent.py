from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.models.smoothing import optimise_alpha
from forecasting.engine.registry import make_model

# Demands 3, 5, 4 on days 3, 5 and 9: intervals 3, 2, 4.
SPARSE = np.array([0.0, 0.0, 3.0, 0.0, 5.0, 0.0, 0.0, 0.0, 4.0])


def test_it_divides_the_smoothed_size_by_the_smoothed_interval_with_croston():
    forecast = make_model("croston", alpha=0.1).fit(SPARSE).predict(4)

    size = 3.0 + 0.1 * (5 - 3.0)
    size += 0.1 * (4 - size)
    interval = 3.0 + 0.1 * (2 - 3.0)
    interval += 0.1 * (4 - interval)
    np.testing.assert_allclose(forecast.mean, size / interval)
    assert forecast.info["size"] == pytest.approx(3.28)
    assert forecast.info["interval"] == pytest.approx(3.01)


def test_it_forecasts_mean_size_over_mean_interval_for_a_regular_pattern():
    y = np.tile([0.0, 0.0, 6.0], 10)

    for name in ("croston", "adida"):
        forecast = make_model(name).fit(y).predict(5)

        np.testing.assert_allclose(forecast.mean, 2.0, err_msg=name)
    # TSB's smoothed probability oscillates around 1/3 with the phase of the last demand.
    np.testing.assert_allclose(make_model("tsb").fit(y).predict(1).mean, 2.0, rtol=0.1)


def test_it_applies_the_syntetos_boylan_correction_with_sba():
    croston = make_model("croston", alpha=0.2).fit(SPARSE).predict(1)
    sba = make_model("sba", alpha=0.2).fit(SPARSE).predict(1)

    np.testing.assert_allclose(sba.mean, croston.mean * 0.9)


def test_it_multiplies_demand_probability_by_size_with_tsb():
    forecast = make_model("tsb", alpha_p=0.5, alpha_d=0.5).fit(np.array([0.0, 2.0, 0.0, 4.0])).predict(2)

    probability = 0.0 + 0.5 * (1 - 0.0)
    probability += 0.5 * (0 - probability)
    probability += 0.5 * (1 - probability)
    np.testing.assert_allclose(forecast.mean, probability * 3.0)


def test_it_ignores_missing_days_when_reading_intervals():
    forecast = make_model("croston").fit(np.array([0.0, 6.0, np.nan, 0.0, 6.0, np.nan, 0.0, 6.0])).predict(1)

    assert forecast.info["interval"] == pytest.approx(2.0)
    np.testing.assert_allclose(forecast.mean, 3.0)


def test_it_aggregates_by_the_mean_interval_with_adida():
    forecast = make_model("adida").fit(np.tile([0.0, 0.0, 0.0, 8.0], 8)).predict(3)

    assert forecast.info["aggregation_level"] == 4
    np.testing.assert_allclose(forecast.mean, 2.0)


def test_it_equals_bounded_ses_for_daily_demand_with_imapa():
    y = 5 + np.random.default_rng(1).poisson(3, 80).astype(float)

    imapa = make_model("imapa").fit(y).predict(2)

    alpha, level, _ = optimise_alpha(y[None, :], bounds=(0.1, 0.3))
    assert imapa.info["aggregation_level"] == 1
    assert 0.1 <= alpha[0] <= 0.3
    np.testing.assert_allclose(imapa.mean, level[0])


def test_it_averages_aggregation_levels_with_imapa():
    y = np.tile([0.0, 0.0, 0.0, 8.0], 8)

    imapa = make_model("imapa").fit(y).predict(1)

    assert imapa.info["aggregation_level"] == 4
    assert 1.0 < imapa.mean[0] < 3.0


@pytest.mark.parametrize("name", ["croston", "sba", "tsb", "adida", "imapa"])
def test_it_draws_intermittent_paths_with_the_forecast_mean(name):
    forecast = make_model(name, n_paths=20000).fit(np.tile([0.0, 0.0, 4.0, 0.0, 8.0], 12)).predict(3)

    np.testing.assert_allclose(forecast.paths.mean(axis=0), forecast.mean, rtol=0.05)
    assert np.mean(forecast.paths == 0) > 0.3


def test_it_gives_count_law_quantiles_that_match_its_paths():
    y = np.tile([0.0, 0.0, 4.0, 0.0, 8.0, 0.0, 1.0], 10)
    forecast = make_model("croston", n_paths=40000).fit(y).predict(2, quantiles=(0.3, 0.6, 0.8, 0.95))

    empirical = np.quantile(forecast.paths[:, 0], (0.3, 0.6, 0.8, 0.95), method="inverted_cdf")

    np.testing.assert_allclose(forecast.quantiles[:, 0], empirical)
    assert forecast.quantiles[0, 0] == 0.0
