from __future__ import annotations

import numpy as np
from statsforecast.models import AutoETS

from forecasting.engine.models.ets import lognormal_innovations, multiplicative_degeneracy, simulate_ets
from forecasting.engine.registry import make_model

HORIZON = 28


def sparse_series(seed: int, *, days: int = 120, start: float = 0.36, end: float = 0.04) -> np.ndarray:
    """Lumpy daily demand: the chance of a sale moves linearly from start to end, sizes geometric with mean 5."""
    rng = np.random.default_rng(seed)
    probability = np.linspace(start, end, days)
    return np.where(rng.random(days) < probability, rng.geometric(0.2, days), 0).astype(float)


SPARSE = sparse_series(0)


def raw_mam_fit(values: np.ndarray) -> dict:
    return AutoETS(season_length=7, model="MAM", damped=False).fit(values).model_


def test_it_reproduces_the_blow_up_of_the_unchecked_multiplicative_fit():
    fitted = raw_mam_fit(SPARSE + 1.0)
    normals = np.random.default_rng(0).standard_normal((500, HORIZON))

    paths = np.clip(simulate_ets(fitted, normals) - 1.0, 0.0, None)

    assert np.min(np.asarray(fitted["states"])[:, 0]) < 0
    assert np.quantile(paths[:, -1], 0.9) > 1e6 * SPARSE.max()


def test_it_names_the_degenerate_component_of_a_multiplicative_fit():
    assert multiplicative_degeneracy(raw_mam_fit(SPARSE + 1.0)).startswith("fitted level reaches -")
    assert multiplicative_degeneracy(raw_mam_fit(10 + np.tile([0.0, 2.0, 5.0, 1.0, 0.0, 9.0, 3.0], 10))) is None


def test_it_falls_back_from_a_degenerate_holt_winters_multiplicative_fit():
    forecast = make_model("holt_winters_mul", season_length=7, n_paths=100).fit(SPARSE).predict(HORIZON)

    assert forecast.info["fallback"] == "seasonal_naive"
    assert "degenerate multiplicative fit, ETS(M,A,M): fitted level reaches" in forecast.info["error"]
    assert np.isfinite(forecast.quantiles).all()
    assert forecast.quantiles.max() <= 2 * SPARSE.max()
    assert forecast.paths.sum(axis=1).max() <= HORIZON * SPARSE.max()


def test_it_refits_automatic_ets_with_additive_errors_when_its_multiplicative_choice_is_degenerate():
    # strictly positive, so AICc may pick a multiplicative model; it picks ETS(M,A,M) with a negative level
    positive = sparse_series(8) + 0.1

    forecast = make_model("ets", season_length=7, n_paths=0).fit(positive).predict(HORIZON)

    assert forecast.info["rejected"].startswith("ETS(M,A,M): fitted level reaches -")
    assert forecast.info["method"].startswith("ETS(A,")
    assert "fallback" not in forecast.info
    assert "offset" not in forecast.info
    assert 1 < forecast.quantiles[-1].max() <= 2 * positive.max()


def test_it_falls_back_when_the_kept_parameters_turn_the_state_degenerate_on_new_data():
    demand = sparse_series(5)
    model = make_model("holt_winters_mul", season_length=7, n_paths=0).fit(demand[:60])
    assert model.fallback_ is None

    applied = model.apply(demand).predict(HORIZON)

    assert applied.info["fallback"] == "seasonal_naive"
    assert "degenerate multiplicative state, ETS(M,A,M): fitted level reaches -" in applied.info["error"]


def test_it_draws_positive_relative_errors_with_the_fitted_mean_and_variance():
    normals = np.random.default_rng(1).standard_normal(400_000)

    factor = 1.0 + 3.0 * lognormal_innovations(normals, 3.0)

    assert factor.min() > 0
    assert abs(factor.mean() - 1.0) < 0.02
    assert abs(factor.std() - 3.0) < 0.15
    np.testing.assert_array_equal(lognormal_innovations(normals[:5], 0.0), normals[:5])


def test_it_keeps_the_upper_quantile_of_a_noisy_multiplicative_model_near_its_point_forecast():
    # sigma about 3: the Gaussian relative error is below -1 on 37% of draws; clipped, it compounded to a q0.9
    # of 2e4 by day 28 for a point forecast of at most 71
    positive = sparse_series(0, start=0.1, end=0.1) + 0.1
    model = make_model("ets", spec="MNM", season_length=7, n_paths=0).fit(positive)
    assert model.fallback_ is None
    assert np.sqrt(model.fitted_["sigma2"]) > 2

    forecast = model.predict(HORIZON)

    assert forecast.quantiles[-1].max() <= 2 * forecast.mean.max()
    assert forecast.quantiles[-1, -7:].max() <= forecast.quantiles[-1, :7].max()
