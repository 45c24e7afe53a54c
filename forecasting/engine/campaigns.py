"""Campaign effects: the lift of a planned campaign with its uncertainty and economics, and the readout afterwards.

``campaign_forecast`` answers "what will this campaign do?" before it runs. The campaign's products are forecast by
``auto`` twice over the same horizon (the campaign window, then a post window): once with the covariates the
campaign sets (a promotional price, a feature flag...) and once with them at their "off" values (the baseline).
Both runs see the same history and seeds, so they choose the same models and draw the same demand ratios: path k
of the baseline and path k of the campaign are the same demand shock under two plans, and their difference is the
incremental demand of that shock. The effects of the covariates are estimates (forecasting.engine.covariates), so
every path also gets its own draw of them: beta_ik = beta_i + pooled_se z_k + sqrt(se_i^2 - pooled_se^2) z_ik. The
pooled part of the error is common to every product (one draw per path), the rest is the product's own, so the
total lift of a campaign over many products is not made falsely precise by averaging independent errors. The
fitted effects are means over past promotions, and the response differs from one campaign to the next (creative,
season, audience) even for the same product and discount: each path also draws the campaign's own deviation
u_k ~ N(0, diag episode_sd^2) (covariates.py measures that spread over the past promotion episodes), one draw per
path shared by all products, since the campaign is one episode for all of them. A path's forecast is rescaled by
exp(beta_ik . x - beta_i . x) in both plans, beta_ik including u_k. The past campaigns, each held out and scored
as a new one (covariates.CampaignScores), then say how much the lift still deviates beyond all that; the
with-campaign paths draw that deviation too (tau from its posterior times a normal, one per path for every
product, on the periods the campaign changes), and ``calibration`` reports the check. Lifts, revenue, margin,
profit and ROI are then computed path by path, and their intervals are quantiles over the paths: they hold the
demand noise and the uncertainty of the effects together.

Three lifts are reported, because they answer different questions:

- ``units``: campaign minus baseline, paired by path (the causal increment; demand noise scales it);
- ``percent``: campaign / baseline - 1, paired by path. Under the multiplicative model the demand noise cancels
  here, so its interval is the uncertainty of the next campaign's effect: the error of the fitted effects plus the
  campaign-to-campaign deviation;
- ``measured_percent``: campaign demand / the *expected* baseline - 1. This is what a readout measures afterwards
  (actual sales against a counterfactual forecast), so it carries the whole demand noise; use it to judge a forecast
  against what happened.

Economics: units sold in the campaign window earn price x (1 - discount) each, those of the post window and every
baseline unit earn the full price; margin subtracts the unit cost. Incremental margin is therefore net of the
discount given away on units that would have sold anyway. profit = incremental margin - campaign cost, and
ROI = profit / campaign cost.

``campaign_readout`` answers "what did it do?" afterwards: auto is fitted on the data before the start only and
forecasts the campaign (and post) window as if nothing had happened; optionally the counterfactual is scaled by
untreated comparable series (controls): their actual demand over the window over their own forecast, which removes
a shock common to the shop (weather, a holiday, a site outage), a difference-in-differences adjustment. The controls'
actual is itself one noisy draw, so path k is scaled by the controls' actual over the controls' own path k (their
point ratio, ``control_ratio``, is actual over mean forecast): a handful of controls widens the interval instead of
moving it on their noise. The effect is actual minus counterfactual, with its interval from the counterfactual's
sample paths; P(effect > 0) is the share of paths below the actual.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from forecasting.engine.auto import AutoForecaster, AutoResult, align_covariates
from forecasting.engine.covariates import (
    LOG_FACTOR_BOUND,
    PRICE,
    CampaignScores,
    covariate_features,
    infer_kinds,
)
from forecasting.engine.models.common import clean_series

DEFAULT_ROI_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)


@dataclass(frozen=True)
class Estimate:
    """A quantity's mean over the sample paths and its central interval at ``level``."""

    mean: float
    lower: float
    upper: float
    level: float

    @classmethod
    def from_draws(cls, draws: np.ndarray, level: float) -> Estimate:
        """Mean and central interval of the finite draws; NaN when there are none (e.g. a zero baseline)."""
        finite = np.asarray(draws, dtype=float)
        finite = finite[np.isfinite(finite)]
        if finite.size == 0:
            return cls(float("nan"), float("nan"), float("nan"), level)
        tail = (1.0 - level) / 2.0
        lower, upper = np.quantile(finite, (tail, 1.0 - tail))
        return cls(float(finite.mean()), float(lower), float(upper), level)

    def contains(self, value: float) -> bool:
        return bool(self.lower <= value <= self.upper)


@dataclass(frozen=True)
class CampaignLift:
    """One product's (or the campaign's total) forecast lift over the campaign window and the post window.

    baseline, with_campaign: (h,) auto's point forecasts without and with the campaign (summed over products in
    the total); baseline_draws, campaign_draws: (K, h) the paired paths everything else is computed from. demand:
    with-campaign demand summed over the campaign window, demand_p90 its 90th percentile; demand_to_end_p90 the
    90th percentile of with-campaign demand from the first forecast day to the campaign's last (lead included: the
    stock to hold now), stockout_probability P(that demand > stock) when the stock was given. revenue and margin:
    incremental, after the discount, over every window (None without prices)."""

    baseline: np.ndarray
    with_campaign: np.ndarray
    units: Estimate
    percent: Estimate
    measured_percent: Estimate
    post_units: Estimate
    post_percent: Estimate
    demand: Estimate
    demand_p90: float
    demand_to_end_p90: float
    stockout_probability: float | None
    revenue: Estimate | None
    margin: Estimate | None
    baseline_draws: np.ndarray
    campaign_draws: np.ndarray


@dataclass(frozen=True)
class CampaignForecast:
    """A planned campaign: lift per product (``rows`` are their positions in the series given) and in total, and
    the money. profit_draws: (K,) incremental margin minus campaign cost per path; roi and roi_quantiles are None
    without a positive campaign cost, profit and p_roi_positive (= P(profit > 0)) None without prices. effects: each
    product's fitted covariate effects (auto's summary); unidentified: features the campaign changes whose effect
    the history could not estimate (they never varied there), so the lift leaves them out. calibration: the
    held-out check of the effects' uncertainty on the past campaigns (``calibration_summary``), None without
    covariates."""

    rows: tuple[int, ...]
    products: tuple[CampaignLift, ...]
    total: CampaignLift
    campaign_periods: int
    lead_periods: int
    cost: float
    profit: Estimate | None
    roi: Estimate | None
    roi_quantiles: dict[float, float] | None
    p_roi_positive: float | None
    profit_draws: np.ndarray | None
    effects: tuple[Mapping[str, object], ...]
    unidentified: tuple[str, ...]
    calibration: Mapping[str, object] | None = None


@dataclass(frozen=True)
class ProductReadout:
    """One product's (or the total's) measured effect: actual against the counterfactual forecast.

    actual, counterfactual: (h,) observed and mean counterfactual demand; counterfactual_draws (K, h) its paths (after
    the control scaling). units / percent over the campaign window, post_units / post_percent over the post window
    (None without one); p_positive = P(effect > 0) in the campaign window. revenue and margin: realised incremental
    ones (None without prices)."""

    actual: np.ndarray
    counterfactual: np.ndarray
    units: Estimate
    percent: Estimate
    post_units: Estimate | None
    post_percent: Estimate | None
    p_positive: float
    revenue: Estimate | None
    margin: Estimate | None
    counterfactual_draws: np.ndarray


@dataclass(frozen=True)
class CampaignReadout:
    """A finished campaign: effect per product and in total; control_ratio is the controls' actual over their
    forecast (None without controls); realised profit / ROI with P(ROI > 0), next to the predicted ROI if given."""

    products: tuple[ProductReadout, ...]
    total: ProductReadout
    campaign_periods: int
    control_ratio: float | None
    cost: float
    profit: Estimate | None
    roi: Estimate | None
    roi_quantiles: dict[float, float] | None
    p_roi_positive: float | None
    predicted_roi: float | None


def incremental_economics(
    baseline: np.ndarray,
    campaign: np.ndarray,
    *,
    campaign_periods: int,
    price: float,
    unit_cost: float,
    discount: float,
    lead_periods: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(K,) incremental revenue and margin of paths (K, h) with and without the campaign: campaign-window units
    (rows lead_periods .. lead_periods + campaign_periods) at price x (1 - discount), the other rows' units and
    every baseline unit at the full price, margin net of the unit cost."""
    baseline = np.asarray(baseline, dtype=float)
    campaign = np.asarray(campaign, dtype=float)
    rows = np.arange(campaign.shape[-1])
    in_window = (rows >= lead_periods) & (rows < lead_periods + campaign_periods)
    sale_price = np.where(in_window, price * (1.0 - discount), price)
    revenue = np.sum(campaign * sale_price - baseline * price, axis=-1)
    margin = np.sum(campaign * (sale_price - unit_cost) - baseline * (price - unit_cost), axis=-1)
    return revenue, margin


def baseline_covariates(
    X: Sequence[np.ndarray],
    X_campaign: Sequence[np.ndarray],
    kinds: Sequence[str],
    *,
    price_window: int = 26,
) -> list[np.ndarray]:
    """The campaign's future covariates switched off: flags and numeric columns 0, a price column at the regular
    price (the largest of the last ``price_window`` history prices, as covariates.py defines it; the planned price
    where the history has none). A campaign that also changes the list price needs its own baseline."""
    result = []
    for past, coming in zip(X, X_campaign, strict=True):
        past = _columns(past)
        off = _columns(coming).copy()
        for index, kind in enumerate(kinds):
            if kind != PRICE:
                off[:, index] = 0.0
                continue
            recent = past[-price_window:, index] if len(past) else np.zeros(0)
            recent = recent[np.isfinite(recent) & (recent > 0)]
            if recent.size:
                off[:, index] = recent.max()
        result.append(off)
    return result


def campaign_forecast(
    series: Sequence[np.ndarray],
    X: Sequence[np.ndarray],
    X_campaign: Sequence[np.ndarray],
    *,
    campaign_periods: int,
    lead_periods: int = 0,
    X_baseline: Sequence[np.ndarray] | None = None,
    products: Sequence[int] | None = None,
    price: Sequence[float] | float | None = None,
    unit_cost: Sequence[float] | float = 0.0,
    discount: Sequence[float] | float = 0.0,
    campaign_cost: float = 0.0,
    stock: Sequence[float] | None = None,
    forecaster: AutoForecaster | None = None,
    level: float = 0.8,
    roi_levels: Sequence[float] = DEFAULT_ROI_LEVELS,
    seed: int = 0,
) -> CampaignForecast:
    """Baseline vs with-campaign forecast of a planned campaign (see the module docstring).

    series: the panel's histories (the campaign's products and any others: every series helps estimate the
    effects); X: (len(series_i), k) their covariates; X_campaign: (h, k) per series, the covariates with the campaign
    over the lead (the first ``lead_periods`` rows: the days between the history's end and a campaign that starts
    later), the campaign window (the next ``campaign_periods``) and the post window (the rest); X_baseline the
    same without the campaign (default: baseline_covariates). products: the rows the campaign promotes (default
    all); price, unit_cost, discount (a fraction) and stock per product or one for all; campaign_cost the fixed
    cost (media, fees). forecaster: a configured AutoForecaster (season length...) with n_paths > 0; seed draws the
    effects."""
    forecaster = forecaster or AutoForecaster()
    if forecaster.n_paths <= 0:
        raise ValueError("campaign_forecast needs sample paths: a forecaster with n_paths > 0")
    horizon = len(X_campaign[0]) if len(X_campaign) else 0
    if lead_periods < 0 or not 0 < campaign_periods <= horizon - lead_periods:
        raise ValueError(f"lead_periods + campaign_periods must be in 1..{horizon} (the rows of X_campaign)")
    rows = tuple(range(len(series))) if products is None else tuple(int(row) for row in products)
    cleaned = [clean_series(values) for values in series]
    length = max([len(values) for values in cleaned] + [1])
    aligned_campaign = align_covariates(cleaned, X, X_campaign, length, horizon)
    kinds = tuple(forecaster.covariate_kinds) if forecaster.covariate_kinds else infer_kinds(aligned_campaign)
    if X_baseline is None:
        X_baseline = baseline_covariates(X, X_campaign, kinds, price_window=forecaster.price_window)
    aligned_baseline = align_covariates(cleaned, X, X_baseline, length, horizon)
    # both runs must read the columns alike; kinds inferred from one plan could differ from the other's
    pinned = copy.copy(forecaster)
    pinned.covariate_kinds = kinds
    campaign_results = pinned.forecast(series, horizon, X=X, X_future=X_campaign)
    fitted = pinned.covariate_effects_
    baseline_results = pinned.forecast(series, horizon, X=X, X_future=X_baseline)
    scores = fitted.campaign_scores if fitted is not None else None
    calibration = calibration_summary(scores, level)

    def future_features(aligned: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
        features, names = covariate_features(
            aligned[list(rows)], kinds, names=forecaster.covariate_names, price_window=forecaster.price_window
        )
        return features[:, length:], names

    campaign_features, names = future_features(aligned_campaign)
    baseline_features, _ = future_features(aligned_baseline)
    effects = [_effect_arrays(campaign_results[row], names) for row in rows]
    rng = np.random.default_rng(seed)
    draws = _effect_draws(effects, forecaster.n_paths, rng)
    deviation = _campaign_deviation(scores, forecaster.n_paths, rng)
    unidentified = sorted(
        {
            name
            for product, (_, se, _, _) in enumerate(effects)
            for index, name in enumerate(names)
            if not np.isfinite(se[index])
            and np.any(campaign_features[product, :, index] != baseline_features[product, :, index])
        }
    )

    count = len(rows)
    prices = _per_product(price, count) if price is not None else None
    costs = _per_product(unit_cost, count)
    discounts = _per_product(discount, count)
    stocks = _per_product(stock, count) if stock is not None else None
    lifts = []
    revenues, margins = [], []
    for product, row in enumerate(rows):
        estimate = effects[product][0]
        baseline = _rescaled_paths(baseline_results[row], baseline_features[product], estimate, draws[product])
        campaign = _rescaled_paths(campaign_results[row], campaign_features[product], estimate, draws[product])
        # the campaign's own deviation moves the periods where it changes a feature with an estimated effect (a
        # feature the history never showed has no lift to deviate from)
        identified = np.isfinite(effects[product][1])
        changed = np.any((campaign_features[product] != baseline_features[product]) & identified[None, :], axis=1)
        campaign = campaign * np.exp(
            np.clip(deviation[:, None] * changed[None, :], -LOG_FACTOR_BOUND, LOG_FACTOR_BOUND)
        )
        economics = None
        if prices is not None:
            economics = incremental_economics(
                baseline,
                campaign,
                campaign_periods=campaign_periods,
                price=prices[product],
                unit_cost=costs[product],
                discount=discounts[product],
                lead_periods=lead_periods,
            )
            revenues.append(economics[0])
            margins.append(economics[1])
        stock_level = stocks[product] if stocks is not None else None
        means = (baseline_results[row].forecast.mean, campaign_results[row].forecast.mean)
        lifts.append(_lift(means, baseline, campaign, lead_periods, campaign_periods, level, stock_level, economics))
    total_economics = (np.sum(revenues, axis=0), np.sum(margins, axis=0)) if prices is not None and rows else None
    total_stock = float(np.sum(stocks)) if stocks is not None else None
    empty = np.zeros((forecaster.n_paths, horizon))
    total = _lift(
        (
            np.sum([lift.baseline for lift in lifts], axis=0) if lifts else empty[0],
            np.sum([lift.with_campaign for lift in lifts], axis=0) if lifts else empty[0],
        ),
        np.sum([lift.baseline_draws for lift in lifts], axis=0) if lifts else empty,
        np.sum([lift.campaign_draws for lift in lifts], axis=0) if lifts else empty,
        lead_periods,
        campaign_periods,
        level,
        total_stock,
        total_economics,
    )
    profit_draws = total_economics[1] - campaign_cost if total_economics is not None else None
    money = _money(profit_draws, campaign_cost, level, roi_levels)
    return CampaignForecast(
        rows=rows,
        products=tuple(lifts),
        total=total,
        campaign_periods=campaign_periods,
        lead_periods=lead_periods,
        cost=float(campaign_cost),
        profit=money[0],
        roi=money[1],
        roi_quantiles=money[2],
        p_roi_positive=money[3],
        profit_draws=profit_draws,
        effects=tuple(campaign_results[row].covariates or {} for row in rows),
        unidentified=tuple(unidentified),
        calibration=calibration,
    )


def calibration_summary(scores: CampaignScores | None, level: float) -> dict[str, object] | None:
    """How the past campaigns, each held out and forecast as a new one (covariates.CampaignScores), judge the
    model's interval for the next campaign: ``campaigns`` scored, ``spread`` the posterior mean of the extra
    campaign-to-campaign deviation tau (root mean square; its draws widen the plan's lift), ``held_out_coverage``
    and ``with_spread_coverage`` the share of their log lifts inside the ``level`` interval without and with it
    (their measurement noise included). None without past campaigns."""
    if scores is None or not len(scores):
        return None
    grid, weights = scores.spread_posterior()
    extra = float(np.sum(weights * grid**2))
    quantile = float(ndtri(0.5 + level / 2.0))

    def coverage(variance: float) -> float:
        spread = np.sqrt(scores.model_variance + scores.noise_variance + variance)
        return float(np.mean(np.abs(scores.residual) <= quantile * spread))

    return {
        "campaigns": len(scores),
        "level": level,
        "spread": float(np.sqrt(extra)),
        "held_out_coverage": coverage(0.0),
        "with_spread_coverage": coverage(extra),
    }


def _campaign_deviation(scores: CampaignScores | None, n_paths: int, rng: np.random.Generator) -> np.ndarray:
    """(K,) each path's draw of the campaign's own deviation of its log lift beyond the model's: tau from its
    posterior times a standard normal, one per path for every product (zeros without past campaigns)."""
    if scores is None or not len(scores):
        return np.zeros(n_paths)
    grid, weights = scores.spread_posterior()
    return rng.choice(grid, size=n_paths, p=weights) * rng.standard_normal(n_paths)


def campaign_readout(
    series: Sequence[np.ndarray],
    actual: Sequence[np.ndarray],
    *,
    campaign_periods: int | None = None,
    controls: Sequence[np.ndarray] | None = None,
    control_actual: Sequence[np.ndarray] | None = None,
    X: Sequence[np.ndarray] | None = None,
    X_future: Sequence[np.ndarray] | None = None,
    price: Sequence[float] | float | None = None,
    unit_cost: Sequence[float] | float = 0.0,
    discount: Sequence[float] | float = 0.0,
    campaign_cost: float = 0.0,
    predicted_roi: float | None = None,
    forecaster: AutoForecaster | None = None,
    level: float = 0.8,
    roi_levels: Sequence[float] = DEFAULT_ROI_LEVELS,
) -> CampaignReadout:
    """The measured effect of a finished campaign (see the module docstring).

    series: each promoted product's history up to the day before the start; actual: (h,) its demand from the start,
    the first ``campaign_periods`` (default all) in the campaign window, the rest in the post window. controls /
    control_actual: the same for comparable products the campaign did not touch. X / X_future: optional covariates of
    every series (products, then controls) for the history and the window with the campaign switched off, when
    earlier promotions in the history should be deflated; without them auto sees no covariates. Prices as in
    campaign_forecast; predicted_roi is carried along for the comparison."""
    forecaster = forecaster or AutoForecaster()
    if forecaster.n_paths <= 0:
        raise ValueError("campaign_readout needs sample paths: a forecaster with n_paths > 0")
    actual = [np.asarray(values, dtype=float) for values in actual]
    horizon = len(actual[0]) if actual else 0
    campaign_periods = horizon if campaign_periods is None else int(campaign_periods)
    if not 0 < campaign_periods <= horizon:
        raise ValueError(f"campaign_periods must be in 1..{horizon} (the length of actual)")
    controls = list(controls or [])
    control_actual = [np.asarray(values, dtype=float) for values in (control_actual or [])]
    if len(controls) != len(control_actual):
        raise ValueError("controls and control_actual need one entry per control series")
    results = forecaster.forecast([*series, *controls], horizon, X=X, X_future=X_future)
    treated, untreated = results[: len(series)], results[len(series) :]
    control_ratio = None
    scale = np.ones((forecaster.n_paths, 1))
    if untreated:
        expected = float(np.sum([result.forecast.mean for result in untreated]))
        observed = float(np.nansum(control_actual))
        if expected > 0:
            control_ratio = observed / expected
            # the controls' actual is one draw of their demand: path k's shock is it over the controls' path k
            simulated = np.sum([_paths(result).sum(axis=1) for result in untreated], axis=0)[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(simulated > 0, observed / simulated, control_ratio)

    count = len(series)
    prices = _per_product(price, count) if price is not None else None
    costs = _per_product(unit_cost, count)
    discounts = _per_product(discount, count)
    readouts = []
    revenues, margins = [], []
    for product, (result, observed) in enumerate(zip(treated, actual, strict=True)):
        counterfactual = _paths(result) * scale
        economics = None
        if prices is not None:
            economics = incremental_economics(
                counterfactual,
                np.nan_to_num(observed)[None, :],
                campaign_periods=campaign_periods,
                price=prices[product],
                unit_cost=costs[product],
                discount=discounts[product],
            )
            revenues.append(economics[0])
            margins.append(economics[1])
        readouts.append(_readout(observed, counterfactual, campaign_periods, level, economics))
    total_economics = (np.sum(revenues, axis=0), np.sum(margins, axis=0)) if prices is not None and count else None
    total = _readout(
        np.nansum(actual, axis=0) if actual else np.zeros(horizon),
        np.sum([readout.counterfactual_draws for readout in readouts], axis=0)
        if readouts
        else np.zeros((forecaster.n_paths, horizon)),
        campaign_periods,
        level,
        total_economics,
    )
    profit_draws = total_economics[1] - campaign_cost if total_economics is not None else None
    money = _money(profit_draws, campaign_cost, level, roi_levels)
    return CampaignReadout(
        products=tuple(readouts),
        total=total,
        campaign_periods=campaign_periods,
        control_ratio=control_ratio,
        cost=float(campaign_cost),
        profit=money[0],
        roi=money[1],
        roi_quantiles=money[2],
        p_roi_positive=money[3],
        predicted_roi=predicted_roi,
    )


def _columns(block: np.ndarray) -> np.ndarray:
    values = np.asarray(block, dtype=float)
    return values.reshape(len(values), -1)


def _per_product(value: Sequence[float] | float, count: int) -> np.ndarray:
    values = np.asarray(value, dtype=float)
    if values.ndim == 0:
        return np.full(count, float(values))
    if values.shape != (count,):
        raise ValueError(f"expected one value or {count} (one per product), got {values.shape}")
    return values


def _paths(result: AutoResult) -> np.ndarray:
    """(K, h) sample paths of one auto forecast (auto draws them when n_paths > 0)."""
    paths = result.forecast.paths
    if paths is None:
        raise ValueError("the forecaster returned no sample paths")
    return np.asarray(paths, dtype=float)


def _effect_arrays(result: AutoResult, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(p,) one series' fitted effects, their standard errors, the pooled standard errors and the spread between
    episodes from auto's summary (NaN errors where a feature was not identified, NaN episode spread where it marks
    no episode; zero effects when auto saw no covariates)."""
    summary = (result.covariates or {}).get("effects", {})
    estimate = np.zeros(len(names))
    se, pooled_se, episode_sd = (np.full(len(names), np.nan) for _ in range(3))
    for index, name in enumerate(names):
        entry = summary.get(name)
        if entry:
            estimate[index] = entry["effect"]
            se[index] = np.nan if entry["se"] is None else entry["se"]
            pooled_se[index] = np.nan if entry["pooled_se"] is None else entry["pooled_se"]
            episode_sd[index] = np.nan if entry.get("episode_sd") is None else entry["episode_sd"]
    return estimate, se, pooled_se, episode_sd


def _effect_draws(
    effects: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], n_paths: int, rng: np.random.Generator
) -> list[np.ndarray]:
    """(K, p) effect draws per product: the pooled error and the campaign's own deviation shared by all products,
    the rest of the error each product's own."""
    if not effects:
        return []
    width = len(effects[0][0])
    common = rng.standard_normal((n_paths, width))
    episode = rng.standard_normal((n_paths, width))
    draws = []
    for estimate, se, pooled_se, episode_sd in effects:
        shared = np.nan_to_num(np.minimum(pooled_se, se))
        own = np.sqrt(np.clip(np.nan_to_num(se) ** 2 - shared**2, 0.0, None))
        deviation = np.where(np.isfinite(se), np.nan_to_num(episode_sd), 0.0)
        draws.append(
            estimate[None, :]
            + shared[None, :] * common
            + deviation[None, :] * episode
            + own[None, :] * rng.standard_normal((n_paths, width))
        )
    return draws


def _rescaled_paths(result: AutoResult, features: np.ndarray, estimate: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """(K, h) auto's paths under the fitted effects, each moved to its own effect draw: x exp(beta_k.x - beta.x)."""
    fitted = np.clip(features @ estimate, -LOG_FACTOR_BOUND, LOG_FACTOR_BOUND)
    drawn = np.clip(draws @ features.T, -LOG_FACTOR_BOUND, LOG_FACTOR_BOUND)
    return _paths(result) * np.exp(drawn - fitted[None, :])


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator - 1.0, np.nan)


def _lift(
    means: tuple[np.ndarray, np.ndarray],
    baseline: np.ndarray,
    campaign: np.ndarray,
    lead_periods: int,
    campaign_periods: int,
    level: float,
    stock: float | None,
    economics: tuple[np.ndarray, np.ndarray] | None,
) -> CampaignLift:
    end = lead_periods + campaign_periods
    window, post = slice(lead_periods, end), slice(end, None)
    through_end = campaign[:, :end].sum(axis=1)
    base_window, camp_window = baseline[:, window].sum(axis=1), campaign[:, window].sum(axis=1)
    base_post, camp_post = baseline[:, post].sum(axis=1), campaign[:, post].sum(axis=1)
    expected = np.full_like(base_window, base_window.mean())
    return CampaignLift(
        baseline=np.asarray(means[0], dtype=float),
        with_campaign=np.asarray(means[1], dtype=float),
        units=Estimate.from_draws(camp_window - base_window, level),
        percent=Estimate.from_draws(_ratio(camp_window, base_window), level),
        measured_percent=Estimate.from_draws(_ratio(camp_window, expected), level),
        post_units=Estimate.from_draws(camp_post - base_post, level),
        post_percent=Estimate.from_draws(_ratio(camp_post, base_post), level),
        demand=Estimate.from_draws(camp_window, level),
        demand_p90=float(np.quantile(camp_window, 0.9)),
        demand_to_end_p90=float(np.quantile(through_end, 0.9)),
        stockout_probability=float(np.mean(through_end > stock)) if stock is not None else None,
        revenue=Estimate.from_draws(economics[0], level) if economics is not None else None,
        margin=Estimate.from_draws(economics[1], level) if economics is not None else None,
        baseline_draws=baseline,
        campaign_draws=campaign,
    )


def _readout(
    actual: np.ndarray,
    counterfactual: np.ndarray,
    campaign_periods: int,
    level: float,
    economics: tuple[np.ndarray, np.ndarray] | None,
) -> ProductReadout:
    window, post = slice(0, campaign_periods), slice(campaign_periods, None)
    observed = np.nan_to_num(actual)
    actual_window = float(observed[window].sum())
    expected_window = counterfactual[:, window].sum(axis=1)
    has_post = counterfactual.shape[1] > campaign_periods
    actual_post = float(observed[post].sum())
    expected_post = counterfactual[:, post].sum(axis=1)
    return ProductReadout(
        actual=np.asarray(actual, dtype=float),
        counterfactual=counterfactual.mean(axis=0),
        units=Estimate.from_draws(actual_window - expected_window, level),
        percent=Estimate.from_draws(_ratio(np.full_like(expected_window, actual_window), expected_window), level),
        post_units=Estimate.from_draws(actual_post - expected_post, level) if has_post else None,
        post_percent=Estimate.from_draws(_ratio(np.full_like(expected_post, actual_post), expected_post), level)
        if has_post
        else None,
        p_positive=float(np.mean(actual_window > expected_window)),
        revenue=Estimate.from_draws(economics[0], level) if economics is not None else None,
        margin=Estimate.from_draws(economics[1], level) if economics is not None else None,
        counterfactual_draws=counterfactual,
    )


def _money(
    profit_draws: np.ndarray | None, cost: float, level: float, roi_levels: Sequence[float]
) -> tuple[Estimate | None, Estimate | None, dict[float, float] | None, float | None]:
    """Profit estimate, ROI estimate and quantiles (only with a positive cost) and P(ROI > 0) = P(profit > 0)."""
    if profit_draws is None:
        return None, None, None, None
    profit = Estimate.from_draws(profit_draws, level)
    p_positive = float(np.mean(profit_draws > 0))
    if cost <= 0:
        return profit, None, None, p_positive
    roi = profit_draws / cost
    quantiles = {float(q): float(value) for q, value in zip(roi_levels, np.quantile(roi, roi_levels), strict=True)}
    return profit, Estimate.from_draws(roi, level), quantiles, p_positive
