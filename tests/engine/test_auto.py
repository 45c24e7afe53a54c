from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.auto import AutoForecaster, error_correlation, seasonal_index
from forecasting.engine.base import Forecast
from forecasting.engine.models.common import to_panel
from forecasting.engine.models.smoothing import SimpleExponentialSmoothing

WEEKLY_SHAPE = np.array([1.0, 1.2, 1.1, 1.4, 0.9, 0.0, 0.4])


def weekly_series(weeks: int, level: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = np.tile(WEEKLY_SHAPE, weeks)
    return np.round(level * shape * rng.uniform(0.9, 1.1, size=shape.size))


def intermittent_series(days: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(days) < 0.2, rng.integers(1, 6, size=days), 0).astype(float)


ROUTES_SEASONAL = dict.fromkeys(("smooth", "erratic"), ("historic_average", "seasonal_naive"))


def test_it_picks_the_seasonal_model_for_a_seasonal_series():
    series = [weekly_series(40, 50.0, seed) for seed in range(3)]
    results = AutoForecaster(candidates=ROUTES_SEASONAL, top_k=1, n_paths=0).forecast(series, 14)
    assert [result.demand_class for result in results] == ["smooth"] * 3
    assert [result.model for result in results] == ["seasonal_naive"] * 3
    # the weekly shape survives: the closed day (position 5 of the week) forecasts zero
    assert results[0].forecast.mean[5] == 0.0
    assert results[0].forecast.mean[3] > results[0].forecast.mean[6]


def test_it_deseasonalises_a_non_seasonal_model_and_prefers_that_on_weekly_demand():
    routes = {"smooth": ("ses", "ses+season")}
    series = [weekly_series(40, 30.0, seed) for seed in range(4)]
    results = AutoForecaster(candidates=routes, top_k=1, n_paths=0).forecast(series, 7)
    assert {result.model for result in results} == {"ses+season"}
    forecast = results[0].forecast.mean
    ratios = forecast / forecast.mean()
    np.testing.assert_allclose(ratios, WEEKLY_SHAPE / WEEKLY_SHAPE.mean(), atol=0.1)


def test_it_routes_intermittent_series_to_intermittent_candidates():
    series = [intermittent_series(300, seed) for seed in range(5)]
    results = AutoForecaster(n_paths=0).forecast(series, 28)
    assert {result.demand_class for result in results} <= {"intermittent", "lumpy"}
    for result in results:
        assert len(result.members) == 3
        assert {member.split("+")[0] for member in result.members} <= {"tsb", "sba", "imapa", "ses", "moving_average"}
        assert result.backtest["windows"] == 3
        assert 0 < result.forecast.mean.sum() < 28 * 2


def test_it_returns_monotone_non_negative_quantiles_and_paths():
    series = [intermittent_series(200, 1), weekly_series(30, 10.0, 2)]
    results = AutoForecaster(n_paths=50, seed=3).forecast(series, 14, quantiles=(0.9, 0.1, 0.5))
    for result in results:
        forecast = result.forecast
        assert forecast.quantile_levels == (0.1, 0.5, 0.9)
        assert forecast.quantiles.shape == (3, 14)
        assert (np.diff(forecast.quantiles, axis=0) >= 0).all()
        assert (forecast.quantiles >= 0).all()
        assert forecast.paths.shape == (50, 14)
        assert (forecast.paths >= 0).all()


def test_it_calibrates_the_interval_to_the_spread_of_demand():
    # demand = 100 x U(0.8, 1.2) every day: the 0.1 and 0.9 quantiles sit near 0.84 and 1.16 of the level
    rng = np.random.default_rng(0)
    series = [100 * rng.uniform(0.8, 1.2, size=400) for _ in range(6)]
    routes = {"smooth": ("historic_average",)}
    results = AutoForecaster(candidates=routes, season_length=1, n_paths=0).forecast(series, 7)
    for result in results:
        low, middle, high = result.forecast.quantiles[:, 0]
        assert low == pytest.approx(84, abs=4)
        assert middle == pytest.approx(100, abs=4)
        assert high == pytest.approx(116, abs=4)


def test_it_records_a_fallback_when_a_candidate_raises(monkeypatch):
    def broken(self, panel):
        raise RuntimeError("kernel failure")

    monkeypatch.setattr(SimpleExponentialSmoothing, "fit_panel", broken)
    routes = {"smooth": ("ses",)}
    series = [weekly_series(20, 20.0, seed) for seed in range(2)]
    results = AutoForecaster(candidates=routes, n_paths=0).forecast(series, 7)
    for result in results:
        assert result.fallbacks == ("ses",)
        assert result.forecast.info["fallback"] == "seasonal_naive"
        assert np.isfinite(result.forecast.mean).all()


def test_it_ensembles_the_median_of_the_top_k():
    series = [weekly_series(30, 20.0, seed) for seed in range(2)]
    routes = {"smooth": ("ses+season", "moving_average+season", "seasonal_naive")}
    results = AutoForecaster(candidates=routes, top_k=3, n_paths=0).forecast(series, 7)
    assert all(result.model.startswith("median(") and len(result.members) == 3 for result in results)


def test_it_is_deterministic():
    series = [intermittent_series(200, seed) for seed in range(3)] + [weekly_series(30, 5.0, 9)]
    first = AutoForecaster(n_paths=20, seed=7).forecast(series, 14)
    second = AutoForecaster(n_paths=20, seed=7).forecast(series, 14)
    for one, two in zip(first, second, strict=True):
        assert one.model == two.model
        np.testing.assert_array_equal(one.forecast.quantiles, two.forecast.quantiles)
        np.testing.assert_array_equal(one.forecast.paths, two.forecast.paths)


def test_it_handles_degenerate_series_without_raising():
    series = [np.zeros(100), np.array([3.0]), np.array([np.nan, 1.0, np.nan, 2.0]), np.full(50, np.nan)]
    results = AutoForecaster(n_paths=10).forecast(series, 7)
    assert [result.demand_class for result in results][:2] == ["dead", "new"]
    for result in results:
        assert np.isfinite(result.forecast.mean).all()
        assert (result.forecast.quantiles >= 0).all()


def test_it_shrinks_each_seasonal_profile_towards_the_panel():
    rich = np.tile(WEEKLY_SHAPE * 100, 20)[None, :]
    sparse = np.zeros((1, 140))
    sparse[0, 3] = 1.0
    index = seasonal_index(np.vstack([rich, sparse]), 7, seasons=52, prior=20.0)
    np.testing.assert_allclose(index.mean(axis=1), 1.0)
    # the sparse row (one sale) is pulled almost entirely onto the rich row's profile
    assert np.abs(index[1] - index[0]).max() < 0.5
    assert index[0, 5] == 0.0


def test_it_keeps_sample_paths_below_the_largest_day_and_top_quantile():
    rng = np.random.default_rng(3)
    lumpy = np.where(rng.random(300) < 0.1, rng.integers(1, 40, 300), 0).astype(float)
    lumpy[-60:-50] = 0.0
    (result,) = AutoForecaster(n_paths=500, seed=1).forecast([lumpy], 28, quantiles=(0.1, 0.5, 0.9))
    ceiling = np.maximum(lumpy.max(), result.forecast.quantiles.max(axis=0))
    assert np.all(result.forecast.paths <= ceiling[None, :] + 1e-9)
    assert np.all(result.forecast.paths >= 0)


def test_it_measures_error_correlation_within_a_window():
    level_missed = np.array([[[1.0, 1.0, 1.0, 1.0]]])  # one series, one window: a level 1 unit off every day
    alternating = np.array([[[1.0, -1.0, 1.0, -1.0]]])
    zeros = np.zeros((1, 1, 4))
    assert error_correlation(level_missed, zeros) == 0.95  # (4^2 - 4) / (4^2 - 4) = 1, clipped
    assert error_correlation(alternating, zeros) == 0.0  # (0 - 4) / 12 < 0, clipped
    mixed = np.array([[[3.0, 1.0, 1.0, -1.0]]])
    assert error_correlation(mixed, zeros) == pytest.approx((4**2 - 12) / (6**2 - 12))


def test_it_makes_lead_time_totals_wider_than_independent_days_when_errors_persist():
    rng = np.random.default_rng(11)
    level = np.repeat(rng.gamma(2.0, 3.0, 30), 20)  # demand level shifts every 20 days and then persists
    series = [rng.poisson(level).astype(float) for _ in range(40)]
    results = AutoForecaster(n_paths=2000, seed=2).forecast(series, 28, quantiles=(0.1, 0.5, 0.9))

    forecast = results[0].forecast
    assert forecast.info["path_correlation"] > 0.1
    totals = forecast.paths.sum(axis=1)
    independent = np.column_stack([rng.permutation(column) for column in forecast.paths.T]).sum(axis=1)
    assert totals.std() > 1.3 * independent.std()


def promoted_panel(n: int, periods: int, horizon: int, seed: int, *, lift: float) -> tuple[list, list, list]:
    """Poisson demand at a constant level per series, times exp(lift) in promoted periods (10 % of them); the
    future promotions fall on horizon periods 2 and 5."""
    rng = np.random.default_rng(seed)
    promo = (rng.random((n, periods)) < 0.1).astype(float)
    level = rng.uniform(5.0, 40.0, size=(n, 1))
    values = rng.poisson(level * np.exp(lift * promo)).astype(float)
    future = np.zeros((n, horizon))
    future[:, [2, 5]] = 1.0
    return list(values), [row[:, None] for row in promo], [row[:, None] for row in future]


def test_it_raises_the_forecast_in_promoted_future_periods_when_the_history_shows_the_lift():
    series, X, X_future = promoted_panel(20, 200, 7, seed=0, lift=np.log(2.0))
    forecaster = AutoForecaster(n_paths=50)
    plain = forecaster.forecast(series, 7)
    promoted = forecaster.forecast(series, 7, X=X, X_future=X_future)
    for without, result in zip(plain, promoted, strict=True):
        mean = result.forecast.mean
        quiet = mean[[0, 1, 3, 4, 6]].mean()
        assert 1.7 < mean[2] / quiet < 2.3
        assert 1.7 < mean[5] / quiet < 2.3
        assert mean[2] > 1.4 * without.forecast.mean[2]
        # quantiles and paths are multiplied too
        assert result.forecast.quantiles[-1, 2] > 1.5 * result.forecast.quantiles[-1, 0]
        assert result.forecast.paths[:, 2].mean() > 1.5 * result.forecast.paths[:, 0].mean()
        used = result.forecast.info["covariates"]
        assert abs(used["effects"]["x0"]["effect"] - np.log(2.0)) < 0.15
        assert used["factors"][2] > 1.7
        assert used["factors"][0] == 1.0
        assert result.covariates == used


def test_a_covariate_without_an_effect_leaves_the_forecast_close_to_the_one_without():
    series, X, X_future = promoted_panel(20, 200, 7, seed=1, lift=0.0)
    forecaster = AutoForecaster(n_paths=0)
    plain = forecaster.forecast(series, 7)
    flagged = forecaster.forecast(series, 7, X=X, X_future=X_future)
    for without, result in zip(plain, flagged, strict=True):
        np.testing.assert_allclose(result.forecast.mean, without.forecast.mean, rtol=0.1)
        assert abs(result.forecast.info["covariates"]["effects"]["x0"]["effect"]) < 0.1


def test_the_backtest_interface_passes_covariates_and_without_them_nothing_changes():
    series, X, X_future = promoted_panel(6, 120, 7, seed=2, lift=np.log(2.0))
    forecaster = AutoForecaster(n_paths=0)
    with_covariates = forecaster(series, 7, (0.1, 0.5, 0.9), X, X_future)
    assert all("covariates" in forecast.info for forecast in with_covariates)
    without = forecaster(series, 7, (0.1, 0.5, 0.9), None, None)
    reference = forecaster.forecast(series, 7, quantiles=(0.1, 0.5, 0.9))
    for forecast, result in zip(without, reference, strict=True):
        assert "covariates" not in forecast.info
        np.testing.assert_array_equal(forecast.mean, result.forecast.mean)


def test_the_internal_backtest_learns_covariate_effects_from_the_data_up_to_each_cutoff_only():
    series, X, X_future = promoted_panel(10, 120, 7, seed=3, lift=np.log(2.0))
    changed = [np.concatenate([values[:99], 3 * values[99:] + 5]) for values in series]
    forecaster = AutoForecaster(n_paths=0)
    plans = [forecaster._covariate_plan(to_panel(panel), panel, X, X_future, 7) for panel in (series, changed)]
    assert sorted(plans[0].log_factors) == [99, 106, 113, 120]
    np.testing.assert_array_equal(plans[0].log_factors[99], plans[1].log_factors[99])
    assert not np.array_equal(plans[0].log_factors[120], plans[1].log_factors[120])


def test_it_tolerates_odd_series_and_covariates():
    series, X, X_future = promoted_panel(8, 100, 7, seed=4, lift=np.log(2.0))
    series[0] = np.zeros(100)  # never sold
    series[1] = np.array([3.0])  # one observation
    X[1] = X[1][-1:, 0]  # a 1-D block is one column
    series[2] = np.concatenate([np.full(30, np.nan), series[2][30:]])  # leading NaN: X keeps its full length
    series[3] = series[3].copy()
    series[3][[10, 50, 90]] = np.nan
    X[4] = X[4].copy()
    X[4][[5, 60]] = np.nan
    results = AutoForecaster(n_paths=20).forecast(series, 7, X=X, X_future=X_future)
    for result in results:
        assert np.isfinite(result.forecast.mean).all()
        assert np.isfinite(result.forecast.quantiles).all()
        assert np.isfinite(result.forecast.paths).all()
        assert len(result.covariates["factors"]) == 7
    assert np.all(results[0].forecast.mean == 0.0)
    assert results[5].forecast.mean[2] > 1.5 * results[5].forecast.mean[0]


class _OracleModel:
    """A fitted global model that knows the future: its forecast from any cutoff is what happened next."""

    name = "oracle"
    freq = "D"

    def __init__(self, full: list[np.ndarray]) -> None:
        self.full = full
        self.ends: list[np.datetime64 | None] = []

    def predict(self, h, series, X=None, X_future=None, quantiles=(0.5,), end=None):
        self.ends.append(end)
        forecasts = []
        for context in series:
            truth = next(
                values
                for values in self.full
                if len(values) >= len(context) and np.array_equal(values[: len(context)], context, equal_nan=True)
            )
            future = np.zeros(h)
            known = truth[len(context) : len(context) + h]
            future[: len(known)] = known
            levels = tuple(sorted(quantiles))
            # it knows the future for sure: every quantile is what happened
            forecasts.append(Forecast(future, levels, np.repeat(future[None, :], len(levels), axis=0)))
        return forecasts


def test_it_selects_a_global_model_that_forecasts_better_and_gives_it_real_cutoff_dates():
    rng = np.random.default_rng(3)
    full = [rng.poisson(5.0, 200).astype(float) + np.arange(200) % 7 * 2 for _ in range(6)]
    horizon = 14
    history = [values[:-horizon] for values in full]
    oracle = _OracleModel(full)
    auto = AutoForecaster(global_models={"oracle": oracle}, top_k=1, n_paths=0, global_weight=0.0)
    results = auto.forecast(history, horizon, end=np.datetime64("2024-06-30"))
    assert [result.model for result in results] == ["oracle"] * 6
    for result, values in zip(results, full, strict=True):
        np.testing.assert_allclose(result.forecast.mean, values[-horizon:])
    # three internal cutoffs 42, 28 and 14 days before the end, then the end itself
    assert sorted(set(oracle.ends)) == [
        np.datetime64("2024-05-19"),
        np.datetime64("2024-06-02"),
        np.datetime64("2024-06-16"),
        np.datetime64("2024-06-30"),
    ]


def test_it_blends_the_global_models_own_forecasts_in_by_quantile_averaging():
    rng = np.random.default_rng(5)
    full = [rng.poisson(4.0, 200).astype(float) + np.arange(200) % 7 for _ in range(5)]
    horizon = 14
    history = [values[:-horizon] for values in full]
    truth = np.stack([values[-horizon:] for values in full])
    end = np.datetime64("2024-06-30")

    oracles = []

    def run(weight: float) -> list[Forecast]:
        oracles.append(_OracleModel(full))
        auto = AutoForecaster(global_models={"oracle": oracles[-1]}, n_paths=50, global_weight=weight)
        results = auto.forecast(history, horizon, end=end)
        # the oracle is chosen as a candidate somewhere
        assert any("oracle" in result.members for result in results)
        return [result.forecast for result in results]

    alone, blended, only_global = run(0.0), run(0.5), run(1.0)
    # one forecast from the end per demand class serves both the candidate means and the blend
    classes = len({info["demand_class"] for info in (forecast.info for forecast in blended)})
    assert oracles[1].ends.count(end) == classes

    for row, (own, mix, oracle) in enumerate(zip(alone, blended, only_global, strict=True)):
        np.testing.assert_allclose(mix.mean, 0.5 * own.mean + 0.5 * truth[row])
        np.testing.assert_allclose(mix.quantiles, 0.5 * own.quantiles + 0.5 * truth[row][None, :])
        # each path's global part is read at the uniforms of its own part: here the oracle's one value
        np.testing.assert_allclose(mix.paths, 0.5 * own.paths + 0.5 * truth[row][None, :])
        np.testing.assert_allclose(oracle.quantiles, np.repeat(truth[row][None, :], 3, axis=0))
        assert mix.info["global_weight"] == 0.5
        assert mix.info["blended_with"] == ["oracle"]
        assert "global_weight" not in own.info
    with pytest.raises(ValueError, match="global_weight"):
        AutoForecaster(global_weight=1.5)


class _ConstantModel:
    """A fitted global model that forecasts the same value for every period, at every level."""

    name = "constant"
    freq = "D"

    def __init__(self, value: float) -> None:
        self.value = value
        self.ends: list[np.datetime64 | None] = []

    def predict(self, h, series, X=None, X_future=None, quantiles=(0.5,), end=None):
        self.ends.append(end)
        levels = tuple(sorted(quantiles))
        return [Forecast(np.full(h, self.value), levels, np.full((len(levels), h), self.value)) for _ in series]


def test_final_models_forecast_from_the_end_and_the_candidates_weights_only_score_the_backtest():
    rng = np.random.default_rng(6)
    full = [rng.poisson(5.0, 200).astype(float) + np.arange(200) % 7 * 2 for _ in range(6)]
    horizon = 14
    history = [values[:-horizon] for values in full]
    end = np.datetime64("2024-06-30")
    for weight in (0.0, 0.5):
        oracle, final = _OracleModel(full), _ConstantModel(40.0)
        auto = AutoForecaster(
            global_models={"oracle": oracle}, final_models={"oracle": final}, top_k=1, n_paths=20, global_weight=weight
        )
        results = auto.forecast(history, horizon, end=end)
        # chosen on the candidate weights' perfect backtest, it forecasts with the final weights
        assert [result.model for result in results] == ["oracle"] * 6
        assert end not in oracle.ends
        assert set(final.ends) == {end}
        for result in results:
            np.testing.assert_allclose(result.forecast.mean, 40.0)
            if weight:
                assert result.forecast.info["blended_with"] == ["oracle"]
                # auto's own quantiles around the final mean of 40, averaged with the final model's 40s
                assert np.all(result.forecast.quantiles[0] < 40.0)
                assert np.all(result.forecast.quantiles[-1] > 40.0)


def test_it_falls_back_and_records_it_when_a_global_model_breaks():
    class Broken:
        name = "broken"

        def predict(self, *args, **kwargs):
            raise RuntimeError("weights lost")

    rng = np.random.default_rng(4)
    history = [rng.poisson(3.0, 150).astype(float) for _ in range(4)]
    auto = AutoForecaster(
        candidates={"smooth": ("broken",), "erratic": ("broken",)}, global_models={"broken": Broken()}
    )
    results = auto.forecast(history, 7)
    assert all(result.fallbacks == ("broken",) for result in results)
    assert all(result.forecast.info["fallback"] == "seasonal_naive" for result in results)
    assert all(np.isfinite(result.forecast.mean).all() for result in results)
    # nothing of the broken model is blended in
    assert all("global_weight" not in result.forecast.info for result in results)
