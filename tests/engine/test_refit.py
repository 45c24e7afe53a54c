from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
from statsforecast.models import AutoARIMA

from forecasting.bench.__main__ import main, refit_setting
from forecasting.engine.backtest import RegistryForecaster, refits_at, rolling_origin
from forecasting.engine.models.common import PanelModel
from forecasting.engine.panel import forecast_panel
from forecasting.engine.registry import MODEL_NAMES, make_model

HORIZON, STEP = 7, 14
PARAMETER_FREE = ("naive", "seasonal_naive", "historic_average", "moving_average", "croston", "sba", "tsb")
# The info keys that carry each model's estimated parameters.
PARAMETER_INFO = {
    "ses": ("alpha",),
    "holt": ("method", "alpha", "beta", "phi"),
    "holt_winters_add": ("method", "alpha", "beta", "gamma"),
    "holt_winters_mul": ("method", "alpha", "beta", "gamma"),
    "ets": ("method", "alpha", "beta", "gamma", "phi"),
    "arima": ("order", "coefficients"),
    "sarima": ("order", "seasonal_order", "coefficients"),
    "theta": ("variant", "alpha", "theta"),
    "adida": ("aggregation_level", "alpha"),
    "imapa": ("aggregation_level",),
    "mstl": ("season_lengths", "trend_model"),
}


def parameters_of(name: str, info: dict) -> dict:
    parameters = {key: info[key] for key in PARAMETER_INFO[name]}
    if name == "mstl":
        # the trend model's aicc is the likelihood of the data seen so far, not a parameter
        parameters["trend_model"] = {key: value for key, value in info["trend_model"].items() if key != "aicc"}
    return parameters


class RecordingForecaster(RegistryForecaster):
    """Keeps every call's forecasts, so that tests can read the parameters each window used."""

    def __init__(self, name: str, **settings) -> None:
        super().__init__(name, **settings)
        self.calls: list[list] = []

    def __call__(self, series, horizon, quantiles, X=None, X_future=None, *, ids, refit=True):
        results = super().__call__(series, horizon, quantiles, X, X_future, ids=ids, refit=refit)
        self.calls.append(results)
        return results


def demand_panel(days: int = 150, *, late: bool = False) -> pd.DataFrame:
    """A weekly-seasonal series whose level shifts after day 100 (so that a refit changes the estimates) and an
    intermittent one."""
    rng = np.random.default_rng(3)
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    days_index = np.arange(days)
    weekly = 10 + 3 * np.sin(2 * np.pi * days_index / 7) + np.where(days_index > 100, 6.0, 0.0)
    frames = [
        pd.DataFrame({"unique_id": "smooth", "ds": dates, "y": np.round(weekly + rng.normal(0, 1.5, days), 1)}),
        pd.DataFrame(
            {"unique_id": "sparse", "ds": dates, "y": np.where(rng.random(days) < 0.3, rng.poisson(4, days), 0.0)}
        ),
    ]
    if late:
        frames.append(pd.DataFrame({"unique_id": "late", "ds": dates[115:], "y": weekly[115:]}))
    return pd.concat(frames, ignore_index=True)


def backtest(name: str, refit: bool | int, *, n_windows: int = 3, data: pd.DataFrame | None = None):
    forecaster = RecordingForecaster(name, n_paths=0)
    run = rolling_origin(
        demand_panel() if data is None else data,
        {name: forecaster},
        horizon=HORIZON,
        n_windows=n_windows,
        step=STEP,
        refit=refit,
    )
    return run, forecaster


def test_it_says_for_every_registry_model_which_parameters_it_keeps():
    assert set(PARAMETER_INFO) | set(PARAMETER_FREE) == set(MODEL_NAMES)
    for name in MODEL_NAMES:
        model = make_model(name)
        if isinstance(model, PanelModel):
            assert bool(model.parameters) == (name in PARAMETER_INFO)


def test_it_fits_afresh_a_model_whose_first_fit_fell_back_and_leaves_the_fitted_model_alone():
    short = make_model("ets").fit(np.array([4.0, 5.0]))
    assert short.fallback_ is not None
    applied = short.apply(np.array([4.0, 5.0, 6.0, 5.0, 4.0, 6.0, 5.0, 4.0, 5.0, 6.0]))
    assert applied.fallback_ is None
    assert short.fallback_ is not None
    model = make_model("ses").fit(np.array([1.0, 2.0, 3.0, 2.0]))
    level = model.state_["level"][0]
    model.apply(np.array([1.0, 2.0, 3.0, 2.0, 9.0, 9.0]))
    assert model.state_["level"][0] == level
    assert len(model.y_) == 4


def test_it_refits_like_statsforecast_every_window_none_after_the_first_or_every_n():
    assert [refits_at(window, True) for window in range(4)] == [True, True, True, True]
    assert [refits_at(window, False) for window in range(4)] == [True, False, False, False]
    assert [refits_at(window, 2) for window in range(5)] == [True, False, True, False, True]
    with pytest.raises(ValueError, match="positive number of windows"):
        refits_at(1, 0)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_it_applies_a_fitted_model_to_its_own_series_without_changing_the_forecast(name):
    series = demand_panel()["y"].to_numpy()[:120]
    model = make_model(name, n_paths=0).fit(series)
    assert model.fallback_ is None
    fitted = model.predict(HORIZON)
    applied = model.apply(series).predict(HORIZON)
    np.testing.assert_allclose(applied.mean, fitted.mean, rtol=1e-9)
    np.testing.assert_allclose(applied.quantiles, fitted.quantiles, rtol=1e-9)


@pytest.mark.parametrize("name", sorted(PARAMETER_INFO))
def test_it_keeps_the_first_windows_parameters_on_later_windows_when_refit_is_false(name):
    kept_run, kept = backtest(name, False)
    refitted_run, _ = backtest(name, True)
    for row in range(2):
        first = parameters_of(name, kept.calls[0][row].info)
        for window in (1, 2):
            info = kept.calls[window][row].info
            assert info["refitted"] is False
            assert "fallback" not in info
            assert parameters_of(name, info) == first
    # the level shift makes refits forecast otherwise: refit=False really kept the old parameters
    later = kept_run.table["cutoff"] > kept_run.table["cutoff"].min()
    assert not np.allclose(kept_run.table.loc[later, "mean"], refitted_run.table.loc[later, "mean"])


def test_it_runs_ses_over_the_new_days_with_the_kept_alpha_and_sigma():
    run, forecaster = backtest("ses", False)
    data = demand_panel()
    smooth = data.loc[data["unique_id"] == "smooth", "y"].to_numpy()
    alpha = forecaster.calls[0][0].info["alpha"]
    last_cutoff = len(smooth) - 1 - HORIZON
    level = smooth[0]
    for value in smooth[1 : last_cutoff + 1]:
        level += alpha * (value - level)
    assert forecaster.calls[2][0].info["level"] == pytest.approx(level, rel=1e-12)
    last_rows = run.table[(run.table["unique_id"] == "smooth") & (run.table["cutoff"] == run.table["cutoff"].max())]
    assert last_rows["mean"].tolist() == pytest.approx([level] * HORIZON, rel=1e-12)
    assert forecaster.fitted_["smooth"]["sigma"] == pytest.approx(
        make_model("ses").fit(smooth[: last_cutoff + 1 - 2 * STEP]).state_["sigma"][0]
    )


def test_it_runs_the_damped_holt_filter_from_the_kept_initial_states():
    data = demand_panel()
    smooth = data.loc[data["unique_id"] == "smooth", "y"].to_numpy()
    model = make_model("holt").fit(smooth[:100])
    applied = model.apply(smooth)
    alpha, beta, _, phi, level, slope = (float(value) for value in model.fitted_["par"][:6])
    for value in smooth:
        error = value - (level + phi * slope)
        level, slope = level + phi * slope + alpha * error, phi * slope + beta * error
    np.testing.assert_allclose(applied.fitted_["states"][-1][:2], [level, slope], rtol=1e-9)
    assert applied.predict(1).mean[0] == pytest.approx(level + phi * slope, rel=1e-9)
    assert applied.fitted_["sigma2"] == model.fitted_["sigma2"]
    np.testing.assert_array_equal(applied.fitted_["par"], model.fitted_["par"])


def test_it_runs_arima_with_the_kept_coefficients_like_statsforecasts_forward():
    data = demand_panel()
    smooth = data.loc[data["unique_id"] == "smooth", "y"].to_numpy()
    model = make_model("sarima").fit(smooth[:100])
    applied = model.apply(smooth).predict(HORIZON)
    reference = AutoARIMA(season_length=7).fit(smooth[:100]).forward(smooth, h=HORIZON)["mean"]
    np.testing.assert_allclose(applied.mean, np.clip(reference, 0, None), rtol=1e-9)
    assert applied.info["coefficients"] == model.predict(HORIZON).info["coefficients"]


def test_it_keeps_adida_and_imapa_aggregation_and_alphas():
    for name, key in (("adida", "alpha"), ("imapa", "level_alphas")):
        _, forecaster = backtest(name, False)
        assert isinstance(make_model(name), PanelModel)
        first = make_model(name).fit(demand_panel()["y"].to_numpy()[150 : 150 + 150 - HORIZON - 2 * STEP])
        kept = forecaster.fitted_["sparse"]
        assert kept["aggregation_level"] == first.state_["aggregation_level"][0]
        np.testing.assert_array_equal(np.atleast_1d(kept[key]), np.atleast_1d(first.state_[key][0]))


@pytest.mark.parametrize("name", PARAMETER_FREE)
def test_it_gives_identical_forecasts_for_models_without_estimated_parameters(name):
    kept, _ = backtest(name, False)
    refitted, _ = backtest(name, True)
    pd.testing.assert_frame_equal(kept.table, refitted.table)


@pytest.mark.parametrize("name", ["ses", "adida", "ets", "arima", "theta"])
def test_it_leaves_refit_true_equal_to_fitting_every_window(name):
    run, forecaster = backtest(name, True)

    def plain(series, horizon, quantiles, X=None, X_future=None):
        return forecast_panel(name, series, horizon, quantiles=quantiles, n_paths=0)

    reference = rolling_origin(demand_panel(), {name: plain}, horizon=HORIZON, n_windows=3, step=STEP)
    pd.testing.assert_frame_equal(run.table, reference.table)
    assert all(result.info["refitted"] for call in forecaster.calls for result in call)


@pytest.mark.parametrize("name", ["ses", "ets"])
def test_it_refits_on_windows_0_and_2_when_refit_is_2(name):
    run, forecaster = backtest(name, 2, n_windows=4)
    every, _ = backtest(name, True, n_windows=4)
    assert [call[0].info["refitted"] for call in forecaster.calls] == [True, False, True, False]
    cutoffs = sorted(run.table["cutoff"].unique())
    refitted_windows = run.table["cutoff"].isin([cutoffs[0], cutoffs[2]])
    pd.testing.assert_frame_equal(
        run.table[refitted_windows].reset_index(drop=True), every.table[refitted_windows].reset_index(drop=True)
    )
    assert not np.allclose(run.table.loc[~refitted_windows, "mean"], every.table.loc[~refitted_windows, "mean"])
    for row in range(2):
        assert forecaster.calls[1][row].info["alpha"] == forecaster.calls[0][row].info["alpha"]
        assert forecaster.calls[3][row].info["alpha"] == forecaster.calls[2][row].info["alpha"]


def test_it_fits_a_series_that_enters_after_the_first_cutoff():
    _, forecaster = backtest("ses", False, data=demand_panel(late=True))
    # "late" starts on day 115: absent from window 0 (cutoff 114), fitted at window 1, kept at window 2
    assert [len(call) for call in forecaster.calls] == [2, 3, 3]
    assert [result.info["refitted"] for result in forecaster.calls[1]] == [True, False, False]
    assert [result.info["refitted"] for result in forecaster.calls[2]] == [False, False, False]


def test_it_is_deterministic_without_refits():
    first, _ = backtest("ets", False)
    second, _ = backtest("ets", False)
    pd.testing.assert_frame_equal(first.table, second.table)


def test_it_reads_the_refit_setting_of_the_bench_and_records_it(tmp_path):
    assert refit_setting("true") is True
    assert refit_setting("False") is False
    assert refit_setting("3") == 3
    for text in ("0", "-1", "yes"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive number of windows"):
            refit_setting(text)
    path = tmp_path / "panel.csv"
    demand_panel().to_csv(path, index=False)
    reports = {}
    for setting in ("true", "false"):
        report_path = tmp_path / f"report_{setting}.json"
        argv = [
            "--input", str(path), "--horizon", "7", "--windows", "3", "--step", "14", "--models", "ses,naive",
            "--threads", "1", "--refit", setting,
            "--output", str(tmp_path / f"forecasts_{setting}.csv"), "--report", str(report_path),
        ]  # fmt: skip
        assert main(argv) == 0
        reports[setting] = json.loads(report_path.read_text())
    assert reports["true"]["config"]["refit"] is True
    assert reports["false"]["config"]["refit"] is False
    assert reports["true"]["models"]["naive"]["WQL"] == reports["false"]["models"]["naive"]["WQL"]
    assert reports["true"]["models"]["ses"]["WQL"] != reports["false"]["models"]["ses"]["WQL"]


def test_it_applies_regression_with_arima_errors_to_the_new_regressors_with_the_kept_coefficients():
    rng = np.random.default_rng(1)
    promotions = rng.integers(0, 2, (127, 1)).astype(float)
    sales = 10 + 5 * promotions[:120, 0] + rng.normal(0, 1, 120)
    model = make_model("arima").fit(sales[:90], promotions[:90])
    applied = model.apply(sales, promotions[:120]).predict(7, promotions[120:])
    assert "fallback" not in applied.info
    assert applied.info["coefficients"] == model.predict(7, promotions[90:97]).info["coefficients"]
    promoted = promotions[120:, 0] == 1
    assert applied.mean[promoted].min() > applied.mean[~promoted].max() + 3
    unregressed = model.apply(sales).predict(7)
    assert unregressed.info["fallback"] == "seasonal_naive"
    assert "fitted with regressors" in unregressed.info["error"]
