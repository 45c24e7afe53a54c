"""Campaign forecasts and readouts on synthetic panels whose planted lift and dip are known."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from forecasting.engine.auto import AutoForecaster
from forecasting.engine.campaigns import campaign_forecast, campaign_readout, incremental_economics

LIFT = 2.0
DIP = 0.7
LEVEL = 20.0
WEEKS = 156
HORIZON = 6
CAMPAIGN = 4


def _forecaster(n_paths: int = 200) -> AutoForecaster:
    return AutoForecaster(
        season_length=52, n_windows=2, covariate_kinds=("flag",), n_paths=n_paths, seed=0, calibration_prior=20.0
    )


def _panel(seed: int = 0, series: int = 12) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weekly Poisson demand around LEVEL, promoted for 2 weeks every 10, x LIFT on promotion, x DIP the week after."""
    rng = np.random.default_rng(seed)
    values, flags = [], []
    for row in range(series):
        flag = np.zeros(WEEKS)
        for start in range(3 + row % 5, WEEKS - 2, 10):
            flag[start : start + 2] = 1.0
        after = np.concatenate([[0.0], flag[:-1]]) * (1 - flag)
        rate = LEVEL * np.where(flag > 0, LIFT, 1.0) * np.where(after > 0, DIP, 1.0)
        values.append(rng.poisson(rate).astype(float))
        flags.append(flag[:, None])
    return values, flags


def _planned(series: int) -> list[np.ndarray]:
    flag = np.zeros((HORIZON, 1))
    flag[:CAMPAIGN] = 1.0
    return [flag.copy() for _ in range(series)]


def test_it_recovers_a_planted_lift_and_post_promotion_dip() -> None:
    values, flags = _panel()
    result = campaign_forecast(
        values, flags, _planned(len(values)), campaign_periods=CAMPAIGN, products=[0, 1, 2], forecaster=_forecaster()
    )
    total = result.total
    assert total.percent.contains(LIFT - 1.0)
    assert total.percent.mean == pytest.approx(LIFT - 1.0, abs=0.15)
    assert total.units.mean == pytest.approx(3 * CAMPAIGN * LEVEL * (LIFT - 1.0), rel=0.2)
    # the dip is learnt as the flag's ":after" effect: one week at DIP, the next one back at the baseline
    assert total.post_units.upper < 0
    assert total.post_units.mean == pytest.approx(3 * LEVEL * (DIP - 1.0), rel=0.35)
    assert total.demand_p90 > total.demand.mean
    assert total.measured_percent.upper - total.measured_percent.lower > total.percent.upper - total.percent.lower
    assert total.baseline_draws.shape == (200, HORIZON)
    assert len(result.products) == 3
    assert result.rows == (0, 1, 2)
    assert result.unidentified == ()


def test_it_computes_the_economics_of_a_hand_worked_case() -> None:
    # campaign window of 2 periods at 20 % off a price of 10, unit cost 6, then one post period at the full price
    baseline = np.array([[10.0, 10.0, 10.0]])
    campaign = np.array([[30.0, 20.0, 8.0]])
    revenue, margin = incremental_economics(
        baseline, campaign, campaign_periods=2, price=10.0, unit_cost=6.0, discount=0.2
    )
    # revenue: 50 units x 8 + 8 x 10 - 30 x 10 = 400 + 80 - 300; margin: 50 x 2 + 8 x 4 - 30 x 4 = 100 + 32 - 120
    assert revenue[0] == pytest.approx(180.0)
    assert margin[0] == pytest.approx(12.0)


def test_it_prices_only_the_campaign_window_after_a_lead() -> None:
    # one lead period at the full price, then the 2-period window at 20 % off, then a post period
    baseline = np.array([[10.0, 10.0, 10.0, 10.0]])
    campaign = np.array([[10.0, 30.0, 20.0, 8.0]])
    revenue, margin = incremental_economics(
        baseline, campaign, campaign_periods=2, price=10.0, unit_cost=6.0, discount=0.2, lead_periods=1
    )
    assert revenue[0] == pytest.approx(180.0)
    assert margin[0] == pytest.approx(12.0)


def test_it_forecasts_a_campaign_that_starts_after_a_lead() -> None:
    values, flags = _panel()
    lead = 5
    planned = []
    for flag in _planned(len(values)):
        later = np.zeros((lead + HORIZON, 1))
        later[lead:] = flag
        planned.append(later)
    result = campaign_forecast(
        values, flags, planned, campaign_periods=CAMPAIGN, lead_periods=lead, products=[0], forecaster=_forecaster()
    )
    lift = result.products[0]
    assert result.lead_periods == lead
    assert lift.percent.contains(LIFT - 1.0)
    # no lift before the start: the paired paths agree on the lead
    np.testing.assert_allclose(lift.campaign_draws[:, :lead], lift.baseline_draws[:, :lead])
    # the stock to hold now covers the lead and the window, so it exceeds the window's own P90
    assert lift.demand_to_end_p90 > lift.demand_p90
    assert lift.demand_to_end_p90 == pytest.approx(
        float(np.quantile(lift.campaign_draws[:, : lead + CAMPAIGN].sum(axis=1), 0.9))
    )
    with pytest.raises(ValueError, match="lead_periods"):
        campaign_forecast(
            values, flags, planned, campaign_periods=HORIZON + 1, lead_periods=lead, forecaster=_forecaster()
        )


def test_it_reports_roi_as_profit_over_cost_path_by_path() -> None:
    values, flags = _panel()
    result = campaign_forecast(
        values,
        flags,
        _planned(len(values)),
        campaign_periods=CAMPAIGN,
        products=[0, 1],
        price=[10.0, 5.0],
        unit_cost=[6.0, 2.0],
        discount=0.2,
        campaign_cost=100.0,
        stock=[150.0, 150.0],
        forecaster=_forecaster(),
    )
    margins = [
        incremental_economics(
            lift.baseline_draws, lift.campaign_draws, campaign_periods=CAMPAIGN, price=p, unit_cost=c, discount=0.2
        )[1]
        for lift, p, c in zip(result.products, (10.0, 5.0), (6.0, 2.0), strict=True)
    ]
    profit = margins[0] + margins[1] - 100.0
    np.testing.assert_allclose(result.profit_draws, profit)
    assert result.roi.mean == pytest.approx(float(np.mean(profit / 100.0)))
    assert result.roi_quantiles[0.5] == pytest.approx(float(np.median(profit / 100.0)))
    assert result.p_roi_positive == pytest.approx(float(np.mean(profit > 0)))
    assert 0.0 <= result.products[0].stockout_probability <= 1.0


def test_it_makes_a_positive_roi_less_likely_as_the_campaign_costs_more() -> None:
    values, flags = _panel()
    chances = [
        campaign_forecast(
            values,
            flags,
            _planned(len(values)),
            campaign_periods=CAMPAIGN,
            products=[0, 1, 2],
            price=10.0,
            unit_cost=4.0,
            discount=0.1,
            campaign_cost=cost,
            forecaster=_forecaster(),
        ).p_roi_positive
        for cost in (50.0, 400.0, 700.0, 1000.0, 5000.0)
    ]
    assert all(later <= earlier for earlier, later in itertools.pairwise(chances))
    assert chances[0] > 0.9
    assert chances[-1] < 0.1


def test_it_reads_out_a_campaign_without_effect_as_an_interval_around_zero() -> None:
    rng = np.random.default_rng(11)
    quiet = [rng.poisson(LEVEL, WEEKS + HORIZON).astype(float) for _ in range(4)]
    readout = campaign_readout(
        [series[:-HORIZON] for series in quiet[:2]],
        [series[-HORIZON:] for series in quiet[:2]],
        campaign_periods=CAMPAIGN,
        controls=[series[:-HORIZON] for series in quiet[2:]],
        control_actual=[series[-HORIZON:] for series in quiet[2:]],
        price=10.0,
        unit_cost=5.0,
        discount=0.0,
        campaign_cost=10.0,
        predicted_roi=1.5,
        forecaster=_forecaster(),
    )
    assert readout.total.units.contains(0.0)
    assert readout.total.percent.contains(0.0)
    assert 0.1 < readout.total.p_positive < 0.9
    assert readout.control_ratio == pytest.approx(1.0, abs=0.2)
    assert readout.predicted_roi == 1.5
    assert readout.roi is not None


def test_it_reads_out_a_planted_lift() -> None:
    rng = np.random.default_rng(5)
    history = [rng.poisson(LEVEL, WEEKS).astype(float) for _ in range(3)]
    actual = [rng.poisson(LEVEL * np.r_[np.full(CAMPAIGN, LIFT), DIP, 1.0]).astype(float) for _ in range(3)]
    readout = campaign_readout(history, actual, campaign_periods=CAMPAIGN, forecaster=_forecaster())
    assert readout.total.percent.contains(LIFT - 1.0)
    assert readout.total.p_positive == 1.0
    assert readout.total.post_units.mean < 0
    assert readout.control_ratio is None
    assert readout.profit is None


def test_it_refuses_a_forecaster_without_paths() -> None:
    values, flags = _panel(series=3)
    with pytest.raises(ValueError, match="n_paths"):
        campaign_forecast(values, flags, _planned(3), campaign_periods=CAMPAIGN, forecaster=_forecaster(n_paths=0))


def _campaign_panel(seed: int, spread: float, series: int = 8) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weekly Poisson demand around LEVEL; every 10 weeks one 2-week campaign promotes every series at once, each
    campaign with its own log lift log(LIFT) + spread x N(0, 1), shared by the series."""
    rng = np.random.default_rng(seed)
    flag, log_lift = np.zeros(WEEKS), np.zeros(WEEKS)
    for start in range(4, WEEKS - 2, 10):
        flag[start : start + 2] = 1.0
        log_lift[start : start + 2] = np.log(LIFT) + spread * rng.standard_normal()
    values = [rng.poisson(LEVEL * np.exp(log_lift)).astype(float) for _ in range(series)]
    return values, [flag[:, None] for _ in range(series)]


def test_it_carries_the_spread_between_campaigns_into_the_next_campaigns_lift() -> None:
    def forecast(spread: float):
        values, flags = _campaign_panel(3, spread)
        return campaign_forecast(
            values,
            flags,
            _planned(len(values)),
            campaign_periods=CAMPAIGN,
            products=[0, 1, 2],
            forecaster=_forecaster(),
        )

    def log_width(estimate) -> float:
        return float(np.log1p(estimate.upper) - np.log1p(estimate.lower))

    steady, varying = forecast(0.0), forecast(0.3)
    assert steady.effects[0]["effects"]["x0"]["episode_sd"] < 0.1
    assert varying.effects[0]["effects"]["x0"]["episode_sd"] > 0.15
    # an 80 % interval of a normal log lift spans 2 x 1.28 sd; the campaign's deviation alone is over 0.15
    assert log_width(varying.total.percent) > 2 * 1.28 * 0.15
    assert log_width(varying.total.percent) > 2 * log_width(steady.total.percent)
    # one deviation for the whole campaign: three products together are about as uncertain as one of them
    assert log_width(varying.total.percent) > 0.8 * log_width(varying.products[0].percent)


def test_it_widens_the_next_campaigns_lift_by_the_spread_past_campaigns_leave_unexplained() -> None:
    values, flags = _campaign_panel(3, 0.3)
    result = campaign_forecast(
        values, flags, _planned(len(values)), campaign_periods=CAMPAIGN, products=[0, 1, 2], forecaster=_forecaster()
    )
    calibration = result.calibration
    # 15 two-week campaigns in 156 weeks: each is held out and scored against the effects fitted without it
    assert 12 <= calibration["campaigns"] <= 20
    assert calibration["level"] == 0.8
    assert 0.0 < calibration["spread"] < 0.3
    assert 0.0 <= calibration["held_out_coverage"] <= calibration["with_spread_coverage"] <= 1.0
    # without covariates there is nothing to score
    plain = AutoForecaster(season_length=52, n_windows=2, n_paths=50, seed=0)
    assert plain.forecast(values, HORIZON)
    assert plain.covariate_effects_ is None


def test_a_feature_no_past_campaign_showed_moves_no_path_even_with_past_campaigns_to_learn_from() -> None:
    # past campaigns varied the flag (column 0) but never the second column: a plan that sets only the second one
    # has no lift to forecast, and the campaigns' spread must not invent one
    values, flags = _campaign_panel(3, 0.3)
    X = [np.column_stack([flag, np.zeros(len(flag))]) for flag in flags]
    planned = [np.column_stack([np.zeros(HORIZON), np.r_[np.ones(CAMPAIGN), np.zeros(HORIZON - CAMPAIGN)]])] * len(X)
    forecaster = AutoForecaster(
        season_length=52, n_windows=2, covariate_kinds=("flag", "flag"), n_paths=100, seed=0, calibration_prior=20.0
    )

    result = campaign_forecast(values, X, planned, campaign_periods=CAMPAIGN, products=[0, 1], forecaster=forecaster)

    assert result.unidentified == ("x1", "x1:after")
    assert result.calibration["campaigns"] > 0
    np.testing.assert_array_equal(result.total.campaign_draws, result.total.baseline_draws)
