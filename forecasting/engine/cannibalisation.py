"""Cannibalisation: the demand a campaign takes from the unpromoted products of the categories it promotes.

A "sibling promoted" flag is 1 on the periods when at least one other product of a series' category is promoted
and the series itself is not. It joins the campaign covariates as one more flag column, so that ``auto`` learns
its effect across the panel like any promotion (forecasting.engine.covariates: a multiplicative effect, pooled
with a cluster-robust standard error and per series shrunk towards the pooled one; the flag's ``:after`` feature
takes the day after). The pooled effect is the evidence: cannibalisation is reported only where the data shows
it, i.e. when the upper bound of the pooled effect's central interval at ``detection_level`` is below 0; otherwise
it is "not detected", with the estimate and its interval. The interval is the estimate +- a Student t quantile with
G - 1 degrees of freedom times the standard error, G being the number of series whose flag varied in the history:
the standard error is clustered by series, and a normal quantile over a handful of clusters is too narrow (the usual
small-cluster correction). A plan whose promoted categories hold no unpromoted product has nothing to report.

The siblings of a planned campaign are the unpromoted series whose flag the campaign switches on. They are
forecast once, with the flag as the campaign sets it, and each path k is moved to its own draw of the effect:
beta_ik = beta_i + pooled_se z_k + episode_sd u_k + sqrt(se_i^2 - pooled_se^2) z_ik (the pooled error and the
campaign's own deviation shared by every sibling, as campaign_forecast draws the lift), once with the flag on and
once with it as it would be without the campaign. Both paths of a pair carry the same demand shock, so their
difference is the units that campaign takes from the sibling on that path; revenue lost is those units at the full
price, margin lost at price minus unit cost. Intervals are quantiles over the paths.

``net_of_cannibalisation`` takes a detected loss off a campaign forecast's incremental revenue, margin, profit and
ROI path by path: path k of the campaign minus path k of the siblings' loss. The siblings' paths come from their own
forecast, so the pairing treats the two as independent; a not-detected loss changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import stdtrit

from forecasting.engine.auto import AutoForecaster, align_covariates
from forecasting.engine.campaigns import DEFAULT_ROI_LEVELS, CampaignForecast, Estimate, incremental_economics
from forecasting.engine.covariates import AFTER_SUFFIX, FLAG, LOG_FACTOR_BOUND, covariate_features, infer_kinds
from forecasting.engine.models.common import clean_series

SIBLING = "sibling_promoted"
DETECTED = "detected"
NOT_DETECTED = "not_detected"
NO_SIBLINGS = "no_siblings"


@dataclass(frozen=True)
class SiblingLoss:
    """One sibling's loss over the horizon: units (baseline minus with-campaign demand, positive = lost), revenue
    at the full price and margin (None without prices); the (K,) draws they come from."""

    row: int
    units: Estimate
    revenue: Estimate | None
    margin: Estimate | None
    units_draws: np.ndarray
    margin_draws: np.ndarray | None


@dataclass(frozen=True)
class Cannibalisation:
    """A plan's cannibalisation. status: DETECTED, NOT_DETECTED or NO_SIBLINGS. effect / se / lower / upper: the
    pooled log effect of the sibling flag, its standard error and central interval at ``detection_level`` (NaN when
    not identified: no sibling was ever promoted around in the history). siblings: per sibling row, largest loss
    first; units / revenue / margin: their total (None without siblings, or revenue and margin without prices);
    revenue_draws, margin_draws: (K,) the total revenue and margin lost per path."""

    status: str
    effect: float
    se: float
    lower: float
    upper: float
    detection_level: float
    siblings: tuple[SiblingLoss, ...]
    units: Estimate | None
    revenue: Estimate | None
    margin: Estimate | None
    revenue_draws: np.ndarray | None
    margin_draws: np.ndarray | None

    @property
    def detected(self) -> bool:
        return self.status == DETECTED


def sibling_flags(
    promoted: Sequence[np.ndarray], categories: Sequence[Hashable | None], *, share: bool = False
) -> list[np.ndarray]:
    """Per series, 1 on the periods when another series of its category is promoted and it is not (or, with
    ``share``, the share of its other category members promoted then). promoted: (T_i,) 0/1 per series, all ending
    on the same period; a category of None has no siblings."""
    flags = [np.asarray(values, dtype=float) for values in promoted]
    length = max([len(values) for values in flags] + [0])
    on = np.zeros((len(flags), length))
    for row, values in enumerate(flags):
        if len(values):
            on[row, length - len(values) :] = np.nan_to_num(values) > 0.5
    rows_of: dict[Hashable, list[int]] = {}
    for row, category in enumerate(categories):
        if category is not None:
            rows_of.setdefault(category, []).append(row)
    result = []
    for row, values in enumerate(flags):
        category = categories[row]
        members = [other for other in rows_of[category] if other != row] if category is not None else []
        column = np.zeros(length)
        if members:
            promoted_others = on[members].sum(axis=0)
            column = promoted_others / len(members) if share else (promoted_others > 0).astype(float)
            column = column * (1.0 - on[row])
        result.append(column[length - len(values) :])
    return result


def cannibalisation_forecast(
    series: Sequence[np.ndarray],
    X: Sequence[np.ndarray],
    X_campaign: Sequence[np.ndarray],
    X_baseline: Sequence[np.ndarray],
    *,
    categories: Sequence[Hashable | None],
    products: Sequence[int],
    promotion_column: int = 0,
    price: Sequence[float] | None = None,
    unit_cost: Sequence[float] | None = None,
    forecaster: AutoForecaster | None = None,
    level: float = 0.8,
    detection_level: float = 0.9,
    seed: int = 0,
) -> Cannibalisation:
    """The demand a planned campaign takes from the unpromoted products of its categories (see the module doc).

    series, X, X_campaign, X_baseline: the panel as campaign_forecast takes it (history, its covariates, the
    horizon's covariates with and without the campaign), the promotion flag in column ``promotion_column``;
    categories: each series' category (None: none); products: the rows the campaign promotes. price, unit_cost:
    per series (the siblings' full price and cost). forecaster: a configured AutoForecaster with n_paths > 0 (the
    campaign's, with its covariate names and kinds); seed draws the effects."""
    forecaster = forecaster or AutoForecaster()
    if forecaster.n_paths <= 0:
        raise ValueError("cannibalisation_forecast needs sample paths: a forecaster with n_paths > 0")
    horizon = len(X_campaign[0]) if len(X_campaign) else 0
    nan = float("nan")
    nothing = Cannibalisation(NO_SIBLINGS, nan, nan, nan, nan, detection_level, (), None, None, None, None, None)
    if horizon == 0:
        return nothing
    history = sibling_flags([_promoted(block, promotion_column) for block in X], categories)
    joined = [np.concatenate([past, future]) for past, future in zip(X, X_campaign, strict=True)]
    with_campaign = sibling_flags([_promoted(block, promotion_column) for block in joined], categories)
    joined = [np.concatenate([past, future]) for past, future in zip(X, X_baseline, strict=True)]
    without = sibling_flags([_promoted(block, promotion_column) for block in joined], categories)
    promoted_rows = {int(row) for row in products}
    siblings = [
        row
        for row in range(len(series))
        if row not in promoted_rows and np.any(with_campaign[row][-horizon:] != without[row][-horizon:])
    ]
    if not siblings:
        return nothing

    cleaned = [clean_series(values) for values in series]
    length = max([len(values) for values in cleaned] + [1])
    extended = with_sibling_flag(forecaster, cleaned, X, X_campaign)
    X_full = [_with_column(block, flags) for block, flags in zip(X, history, strict=True)]
    on_future = [_with_column(block, flags[-horizon:]) for block, flags in zip(X_campaign, with_campaign, strict=True)]
    off_future = [_with_column(block, flags[-horizon:]) for block, flags in zip(X_campaign, without, strict=True)]
    results = extended.forecast(series, horizon, X=X_full, X_future=on_future)

    sibling_names = (SIBLING, SIBLING + AFTER_SUFFIX)
    on_features = _sibling_features(cleaned, X_full, on_future, siblings, extended, length)
    off_features = _sibling_features(cleaned, X_full, off_future, siblings, extended, length)
    pooled = (results[siblings[0]].covariates or {}).get("effects", {}).get(SIBLING) or {}
    se = float(pooled["pooled_se"]) if pooled.get("pooled_se") is not None else nan
    # an effect the history could not identify (no sibling was ever promoted around) is no estimate at all
    effect = float(pooled["pooled"]) if np.isfinite(se) else nan
    # the series whose flag varied carry the effect; a normal quantile over so few clusters detected a planted zero
    # in two of six small shops
    clusters = sum(bool(np.any(flags > 0.5) and np.any(flags < 0.5)) for flags in history)
    quantile = float(stdtrit(max(clusters - 1, 1), 0.5 + detection_level / 2.0))
    lower, upper = effect - quantile * se, effect + quantile * se
    status = DETECTED if np.isfinite(upper) and upper < 0 else NOT_DETECTED

    prices = np.asarray(price, dtype=float) if price is not None else None
    costs = np.asarray(unit_cost, dtype=float) if unit_cost is not None else np.zeros(len(series))
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((forecaster.n_paths, len(sibling_names)))
    episode = rng.standard_normal((forecaster.n_paths, len(sibling_names)))
    losses = []
    for index, row in enumerate(siblings):
        estimate, draws = _draws(results[row].covariates, sibling_names, common, episode, rng)
        paths = results[row].forecast.paths
        if paths is None:
            raise ValueError("the forecaster returned no sample paths")
        fitted = np.clip(on_features[index] @ estimate, -LOG_FACTOR_BOUND, LOG_FACTOR_BOUND)
        on = np.clip(draws @ on_features[index].T, -LOG_FACTOR_BOUND, LOG_FACTOR_BOUND)
        off = np.clip(draws @ off_features[index].T, -LOG_FACTOR_BOUND, LOG_FACTOR_BOUND)
        base = np.asarray(paths, dtype=float) * np.exp(-fitted)[None, :]
        units = np.sum(base * (np.exp(off) - np.exp(on)), axis=1)
        revenue = units * prices[row] if prices is not None else None
        margin = units * (prices[row] - costs[row]) if prices is not None else None
        losses.append(
            SiblingLoss(
                row=row,
                units=Estimate.from_draws(units, level),
                revenue=Estimate.from_draws(revenue, level) if revenue is not None else None,
                margin=Estimate.from_draws(margin, level) if margin is not None else None,
                units_draws=units,
                margin_draws=margin,
            )
        )
    total_units = np.sum([loss.units_draws for loss in losses], axis=0)
    total_revenue = (
        np.sum([loss.units_draws * prices[loss.row] for loss in losses], axis=0) if prices is not None else None
    )
    total_margin = np.sum([loss.margin_draws for loss in losses], axis=0) if prices is not None else None
    return Cannibalisation(
        status=status,
        effect=effect,
        se=se,
        lower=lower,
        upper=upper,
        detection_level=detection_level,
        siblings=tuple(sorted(losses, key=lambda loss: -loss.units.mean)),
        units=Estimate.from_draws(total_units, level),
        revenue=Estimate.from_draws(total_revenue, level) if total_revenue is not None else None,
        margin=Estimate.from_draws(total_margin, level) if total_margin is not None else None,
        revenue_draws=total_revenue,
        margin_draws=total_margin,
    )


def net_of_cannibalisation(
    forecast: CampaignForecast,
    cannibalisation: Cannibalisation,
    *,
    price: Sequence[float] | float,
    unit_cost: Sequence[float] | float,
    discount: Sequence[float] | float,
    level: float = 0.8,
    roi_levels: Sequence[float] = DEFAULT_ROI_LEVELS,
) -> CampaignForecast:
    """The campaign forecast with a detected loss taken off its total revenue and margin, profit and ROI (see the
    module doc); price, unit_cost and discount of the promoted products as campaign_forecast took them."""
    if not cannibalisation.detected or forecast.profit_draws is None or cannibalisation.margin_draws is None:
        return forecast
    count = len(forecast.products)
    prices, costs, discounts = (
        np.broadcast_to(np.asarray(v, dtype=float), (count,)) for v in (price, unit_cost, discount)
    )
    revenue = np.sum(
        [
            incremental_economics(
                lift.baseline_draws,
                lift.campaign_draws,
                campaign_periods=forecast.campaign_periods,
                price=float(prices[index]),
                unit_cost=float(costs[index]),
                discount=float(discounts[index]),
                lead_periods=forecast.lead_periods,
            )[0]
            for index, lift in enumerate(forecast.products)
        ],
        axis=0,
    )
    revenue = revenue - cannibalisation.revenue_draws
    margin = forecast.profit_draws + forecast.cost - cannibalisation.margin_draws
    profit = margin - forecast.cost
    roi, quantiles = None, None
    if forecast.cost > 0:
        ratio = profit / forecast.cost
        roi = Estimate.from_draws(ratio, level)
        quantiles = {float(q): float(v) for q, v in zip(roi_levels, np.quantile(ratio, roi_levels), strict=True)}
    total = replace(
        forecast.total, revenue=Estimate.from_draws(revenue, level), margin=Estimate.from_draws(margin, level)
    )
    return replace(
        forecast,
        total=total,
        profit=Estimate.from_draws(profit, level),
        roi=roi,
        roi_quantiles=quantiles,
        p_roi_positive=float(np.mean(profit > 0)),
        profit_draws=profit,
    )


def with_sibling_flag(
    forecaster: AutoForecaster, cleaned: Sequence[np.ndarray], X: Sequence[np.ndarray], X_future: Sequence[np.ndarray]
) -> AutoForecaster:
    """A copy of ``forecaster`` that reads one more covariate column, the sibling flag (a FLAG named SIBLING)."""
    kinds = tuple(forecaster.covariate_kinds) if forecaster.covariate_kinds else _inferred(cleaned, X, X_future)
    names = (
        tuple(forecaster.covariate_names) if forecaster.covariate_names else tuple(f"x{i}" for i in range(len(kinds)))
    )
    extended = copy.copy(forecaster)
    extended.covariate_kinds = (*kinds, FLAG)
    extended.covariate_names = (*names, SIBLING)
    return extended


def sibling_counterfactual_inputs(
    series: Sequence[np.ndarray],
    X: Sequence[np.ndarray],
    X_future: Sequence[np.ndarray],
    *,
    categories: Sequence[Hashable | None],
    rows: Sequence[int],
    forecaster: AutoForecaster,
    promotion_column: int = 0,
) -> tuple[list[np.ndarray], list[np.ndarray], AutoForecaster]:
    """For a counterfactual of ``rows`` of the panel (series, X, X_future as campaign_forecast takes them): their
    histories' covariates with the sibling flag appended, so the days a sibling was promoted in the past do not
    lower the baseline; the window's with the flag off (what they would have sold without any promotion around
    them); and the forecaster that reads the flag. The flag is computed over the whole panel's promotions."""
    history = sibling_flags([_promoted(block, promotion_column) for block in X], categories)
    chosen = list(rows)
    past = [_with_column(X[row], history[row]) for row in chosen]
    window = [_with_column(X_future[row], np.zeros(len(X_future[row]))) for row in chosen]
    cleaned = [clean_series(series[row]) for row in chosen]
    return (
        past,
        window,
        with_sibling_flag(forecaster, cleaned, [X[row] for row in chosen], [X_future[row] for row in chosen]),
    )


def _promoted(block: np.ndarray, column: int) -> np.ndarray:
    values = np.asarray(block, dtype=float)
    values = values.reshape(len(values), -1)
    return values[:, column] if values.shape[1] > column else np.zeros(len(values))


def _with_column(block: np.ndarray, column: np.ndarray) -> np.ndarray:
    values = np.asarray(block, dtype=float)
    return np.concatenate([values.reshape(len(values), -1), np.asarray(column, dtype=float)[:, None]], axis=1)


def _inferred(
    cleaned: Sequence[np.ndarray], X: Sequence[np.ndarray], X_future: Sequence[np.ndarray]
) -> tuple[str, ...]:
    length = max([len(values) for values in cleaned] + [1])
    horizon = len(X_future[0]) if len(X_future) else 0
    return infer_kinds(align_covariates(cleaned, X, X_future, length, horizon))


def _sibling_features(
    cleaned: Sequence[np.ndarray],
    X: Sequence[np.ndarray],
    X_future: Sequence[np.ndarray],
    rows: Sequence[int],
    forecaster: AutoForecaster,
    length: int,
) -> np.ndarray:
    """(rows, h, 2) the sibling flag and its ``:after`` feature over the horizon, as auto derives them."""
    horizon = len(X_future[0])
    aligned = align_covariates(cleaned, X, X_future, length, horizon)[list(rows)]
    features, names = covariate_features(
        aligned, forecaster.covariate_kinds, names=forecaster.covariate_names, price_window=forecaster.price_window
    )
    chosen = [names.index(SIBLING), names.index(SIBLING + AFTER_SUFFIX)]
    return features[:, length:, :][:, :, chosen]


def _draws(
    covariates: object,
    names: Sequence[str],
    common: np.ndarray,
    episode: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(p,) one sibling's fitted effects and (K, p) its draws: the pooled error and the campaign's deviation shared
    by every sibling (common, episode), the rest its own; an unidentified effect stays at its fit."""
    summary = covariates.get("effects", {}) if isinstance(covariates, Mapping) else {}
    estimate = np.zeros(len(names))
    shared, own, deviation = (np.zeros(len(names)) for _ in range(3))
    for index, name in enumerate(names):
        entry = summary.get(name)
        if not entry or entry.get("se") is None:
            continue
        estimate[index] = entry["effect"]
        se = float(entry["se"])
        shared[index] = min(float(entry["pooled_se"] or 0.0), se)
        own[index] = np.sqrt(max(se**2 - shared[index] ** 2, 0.0))
        deviation[index] = float(entry.get("episode_sd") or 0.0)
    draws = (
        estimate[None, :]
        + shared[None, :] * common
        + deviation[None, :] * episode
        + own[None, :] * rng.standard_normal(common.shape)
    )
    return estimate, draws
