"""Multiplicative covariate effects (promotions, price) learned across a panel, for forecasters and campaign lifts.

For series i at period t the model is

    log E[y_it] = log baseline_it + beta_i . x_it

- ``baseline_it`` is the series' local level without the covariates: the mean of its deflated values
  y_is / exp(beta_i . x_is) over the ``window`` periods either side of t, t itself left out so that a promoted
  period cannot lift its own baseline. It is centred rather than trailing because it only serves to estimate the
  effects on the history, where the periods after t are known; a trailing level would lag trend and season and
  read the lag as an effect. Baseline and effects are estimated in turn from no effect, so that promoted neighbours
  stop inflating the baseline once their lift is known, until no effect moves by more than ``tolerance`` (at most
  ``iterations`` rounds): each round removes only the share of the remaining error that unpromoted neighbours
  carry, which inside a campaign longer than the window is a small one (three rounds found a third of a 14-day
  campaign's lift too little with a 7-day window). No seasonal index is applied:
  the window is short against a yearly cycle, and on daily data a window of whole weeks averages the weekdays.
- ``x_it`` are features derived from the raw covariate columns (covariate_features), each 0 where it means "no
  effect": a flag column (feature, display, temporary price reduction) gives itself and ``<name>:after``, 1 in
  the first period after a run of the flag ends, so that the post-promotion dip (customers stocked up) is learnt
  apart from the lift; a price column gives log(price / regular price), the regular price being the largest
  price of the trailing ``price_window`` periods (a maximum, not a median, because a product on promotion half
  the time would otherwise have its promotional price as its regular one); a numeric column is used as given.
- ``beta`` is estimated in three steps. (1) Pooled: Poisson maximum likelihood with offset log baseline over every
  period of every series; its standard errors are cluster-robust by series (a sandwich), because demand is
  overdispersed and neighbouring periods share a baseline. (2) The spread tau of each effect between series:
  DerSimonian-Laird on per-series fits under a weak prior (sd 2 around the pooled value). (3) Per series: the
  posterior mode under the prior N(pooled, tau^2) and the series' quasi-Poisson likelihood (its own dispersion,
  shrunk towards the panel's), with the posterior standard error plus the pooled one. A series with one
  promotion thus gets mostly the pooled lift, a series with fifty mostly its own.
- ``episode_sd`` sigma: how much an effect varies from one promotion campaign to the next (the creative, the season,
  the audience differ), which the next campaign's forecast must carry beyond the error of the mean effect. An episode
  is a run of periods where a 0/1 feature is on (any lift feature when there is none: a price below its regular one
  is too common on weekly retail data to mark episodes); the episodes of one feature over the same periods in
  several series are one campaign, whose deviation they share. A campaign's log lift is measured against the pooled
  effects (a series' own effect, fitted on the same few episodes, would absorb their deviations):
  r_g = log(actual / expected), expected = sum over its series of level x sum of exp(beta . x_t), the level being
  the mean deflated value of the unpromoted periods among the ``window`` either side of the episode. Its noise v_g is
  the Poisson variance of that ratio times a dispersion measured on placebos: the same statistic for the same series
  over every window of the same length where none of them was promoted (overdispersion, weekdays and shocks common
  to the series are in it). Under random coefficients beta + u_g, u_g ~ N(0, diag sigma^2),
  E[r_g^2 - v_g] = sum_j sigma_j^2 a_gj^2 with a_g the campaign's mean features: method of moments over the panel's
  campaigns by non-negative least squares weighted by 1 / (v_g + sum_j sigma_j^2 a_gj^2)^2, iterated. It is 0 when
  every campaign lifted alike; a misfit of the model (a lift that is not log-linear in the price) counts as spread
  too, which the next campaign does face. With fewer than MIN_CAMPAIGNS campaigns where a feature is on, sigma is
  DEFAULT_SPREAD. The past campaigns' deviations also make the series they promoted together dependent, which the
  series-clustered sandwich ignores: their covariance is added to the pooled (and so every per-series) variance.
- ``campaign_scores``: every past campaign scored as if it were the next one, which is what a planned campaign's
  interval must hold. Its log lift is measured against the pooled effects refitted without its periods (one Newton
  step from the full fit, so a campaign with features no other had, a deeper discount say, is judged by the effects
  the others imply), next to the variance the model gives a new campaign with its features (error of the pooled
  effects plus the episode spread) and its placebo-calibrated measurement noise. ``spread_posterior`` turns them
  into the posterior of tau, a deviation of the log lift beyond what the model explains, under a half-normal prior
  of scale DEFAULT_SPREAD: with a dozen campaigns whose noise swamps their differences the method of moments says
  sigma = 0, yet the data cannot rule out deviations of 0.1 or more, and the next campaign faces them.

Robust to NaN (left out of every sum), all-zero series and zero baselines (they carry no information and are left
out of the fit), and covariates that never vary in the fitted data: their effect is 0 and its standard error NaN
(not identified). Log factors are bounded by +-LOG_FACTOR_BOUND, so one wild estimate cannot multiply a forecast by
thousands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

FLAG = "flag"
PRICE = "price"
NUMERIC = "numeric"
KINDS = (FLAG, PRICE, NUMERIC)
AFTER_SUFFIX = ":after"
LOG_FACTOR_BOUND = 3.0
# per-series fits that measure the spread of effects between series: a prior this wide only stops divergence
WEAK_PRIOR_SD = 2.0
# the spread tau is kept in these bounds; with fewer than MIN_SERIES_FOR_SPREAD informative series it is the default
MIN_SPREAD = 0.05
MAX_SPREAD = 1.0
DEFAULT_SPREAD = 0.25
MIN_SERIES_FOR_SPREAD = 3
# the spread between campaigns needs this many campaigns where a feature is on; with fewer it is the default
MIN_CAMPAIGNS = 5
# a campaign's noise is measured over at least this many windows where its series were not promoted
MIN_PLACEBOS = 10
EPISODE_ROUNDS = 10
# a series' dispersion is shrunk towards the panel's with this many periods of weight
DISPERSION_PRIOR_PERIODS = 10.0
# the sandwich needs this many series with data; fewer fall back to the model-based (quasi-Poisson) variance
MIN_SERIES_FOR_SANDWICH = 5
# squared Pearson residuals are capped here (10 standard deviations) when measuring dispersion, so that one sale
# against a near-zero baseline cannot make every series look like noise
PEARSON_CAP = 100.0
POOLED_PRECISION = 1e-4
NEWTON_STEPS = 30
MAX_NEWTON_STEP = 1.0


@dataclass(frozen=True)
class CovariateEffects:
    """Effects (log multipliers) of the features on a panel's demand: pooled, and per series shrunk towards it.

    names: (p,) feature names; pooled, pooled_se, spread: (p,) the panel's effect, its standard error and the
    between-series standard deviation tau; effects, effects_se: (n, p) per series; episode_sd: (p,) the standard
    deviation of an effect from one promotion campaign to the next (NaN for the ``:after`` features, which mark no
    episode). NaN standard errors mark features that did not vary in the fitted data (effect 0, not identified)."""

    names: tuple[str, ...]
    pooled: np.ndarray
    pooled_se: np.ndarray
    spread: np.ndarray
    effects: np.ndarray
    effects_se: np.ndarray
    episode_sd: np.ndarray
    campaign_scores: CampaignScores | None = None

    def log_factors(self, features: np.ndarray) -> np.ndarray:
        """(n, T) log multiplier beta_i . x_it of features (n, T, p), NaN features counted as 0, bounded."""
        values = np.einsum("ntp,np->nt", np.nan_to_num(features), self.effects)
        return np.clip(values, -LOG_FACTOR_BOUND, LOG_FACTOR_BOUND)

    def factors(self, features: np.ndarray) -> np.ndarray:
        """(n, T) multiplier exp(beta_i . x_it) of demand over its baseline."""
        return np.exp(self.log_factors(features))

    def summary(self, row: int) -> dict[str, dict[str, float | None]]:
        """One series' effects as plain numbers (None for an undefined standard error), for Forecast.info."""
        return {
            name: {
                "effect": float(self.effects[row, index]),
                "se": _number(self.effects_se[row, index]),
                "pooled": float(self.pooled[index]),
                "pooled_se": _number(self.pooled_se[index]),
                "episode_sd": _number(self.episode_sd[index]),
            }
            for index, name in enumerate(self.names)
        }


@dataclass(frozen=True)
class CampaignScores:
    """The panel's past campaigns, each scored as if it were the next one (see the module docstring): ``residual``
    its log lift against the pooled effects fitted without it, ``model_variance`` the variance the forecast of a new
    campaign with its features gives that log lift (error of the pooled effects and spread between campaigns), and
    ``noise_variance`` the measurement noise of its log lift (placebo-calibrated counting noise)."""

    residual: np.ndarray
    model_variance: np.ndarray
    noise_variance: np.ndarray

    def __len__(self) -> int:
        return len(self.residual)

    def spread_posterior(self, grid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(grid, weights): the posterior of tau, the standard deviation of a campaign's log lift beyond what the
        model gives it, on a grid of values (default 0..MAX_SPREAD): residual_g ~ N(0, noise_g + model_g +
        tau^2) over the scored campaigns, under a half-normal prior of scale DEFAULT_SPREAD (the spread assumed
        without evidence). Few campaigns, or campaigns whose noise swamps their deviations, leave much of the
        prior's weight above zero where a point estimate would say 0."""
        grid = np.linspace(0.0, MAX_SPREAD, 201) if grid is None else np.asarray(grid, dtype=float)
        variance = (self.noise_variance + self.model_variance)[None, :] + grid[:, None] ** 2
        log_posterior = -0.5 * (np.log(variance) + self.residual[None, :] ** 2 / variance).sum(axis=1)
        log_posterior -= 0.5 * (grid / DEFAULT_SPREAD) ** 2
        weights = np.exp(log_posterior - log_posterior.max())
        return grid, weights / weights.sum()


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def infer_kinds(covariates: np.ndarray) -> tuple[str, ...]:
    """Kind of each column of an (..., k) covariate array: a flag when its finite values are all 0 or 1, a price
    when none is negative (a zero price is a recording error, treated as missing), else numeric. Callers that
    know their columns (a count of promoting stores is not a price) pass the kinds instead."""
    columns = covariates.reshape(-1, covariates.shape[-1]).T
    kinds = []
    for column in columns:
        finite = column[np.isfinite(column)]
        if np.isin(finite, (0.0, 1.0)).all():
            kinds.append(FLAG)
        elif (finite >= 0).all():
            kinds.append(PRICE)
        else:
            kinds.append(NUMERIC)
    return tuple(kinds)


def covariate_features(
    covariates: np.ndarray,
    kinds: Sequence[str],
    *,
    names: Sequence[str] | None = None,
    price_window: int = 26,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """(n, T, p) features of raw covariates (n, T, k) laid on a time axis, and their names (see the module doc).

    A feature at t depends on the covariates up to t only, so features of history and future can be derived from
    one array holding both (the future covariates are known: planned promotions, planned prices)."""
    n, length, width = covariates.shape
    if len(kinds) != width:
        raise ValueError(f"{len(kinds)} kinds for {width} covariate columns")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown covariate kinds {unknown}; use {', '.join(KINDS)}")
    names = tuple(names) if names is not None else tuple(f"x{index}" for index in range(width))
    features: list[np.ndarray] = []
    feature_names: list[str] = []
    for index, (kind, name) in enumerate(zip(kinds, names, strict=True)):
        column = covariates[:, :, index]
        if kind == FLAG:
            flag = (np.nan_to_num(column) > 0.5).astype(float)
            previous = np.concatenate([np.zeros((n, 1)), flag[:, :-1]], axis=1)
            features += [flag, previous * (1.0 - flag)]
            feature_names += [name, name + AFTER_SUFFIX]
        elif kind == PRICE:
            features.append(_log_price_ratio(column, price_window))
            feature_names.append(f"log({name}/regular)")
        else:
            features.append(np.nan_to_num(column))
            feature_names.append(name)
    stacked = np.stack(features, axis=-1) if features else np.zeros((n, length, 0))
    return stacked, tuple(feature_names)


def _log_price_ratio(price: np.ndarray, window: int) -> np.ndarray:
    """log(price / the largest price of the trailing `window` periods); 0 where either is missing or not positive."""
    price = np.where(np.isfinite(price) & (price > 0), price, np.nan)
    regular = price.copy()
    for shift in range(1, min(max(window, 1), price.shape[1])):
        regular[:, shift:] = np.fmax(regular[:, shift:], price[:, :-shift])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.log(price / regular)
    return np.where(np.isfinite(ratio), ratio, 0.0)


def local_baseline(values: np.ndarray, log_factors: np.ndarray, *, window: int, min_neighbours: int = 2) -> np.ndarray:
    """(n, T) mean of the deflated values y / exp(log_factors) of the `window` periods either side of each period,
    the period itself left out; NaN with fewer than `min_neighbours` observed neighbours."""
    deflated = values / np.exp(log_factors)
    observed = np.isfinite(deflated)
    positive = observed & (deflated > 0)
    n, length = values.shape
    positions = np.arange(length)
    lower = np.maximum(positions - window, 0)
    upper = np.minimum(positions + window + 1, length)

    def window_sum(indicator: np.ndarray) -> np.ndarray:
        cumulative = np.concatenate([np.zeros((n, 1)), np.cumsum(indicator, axis=1)], axis=1)
        return cumulative[:, upper] - cumulative[:, lower] - indicator

    total = window_sum(np.where(observed, deflated, 0.0))
    count = window_sum(observed.astype(np.int64))
    # a difference of running sums leaves round-off (1e-14) where every neighbour is zero: such a baseline is 0,
    # which the exact integer count of positive neighbours tells
    total = np.where(window_sum(positive.astype(np.int64)) > 0, np.maximum(total, 0.0), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count >= min_neighbours, total / count, np.nan)


def fit_covariate_effects(
    values: np.ndarray,
    features: np.ndarray,
    *,
    names: Sequence[str] | None = None,
    window: int = 4,
    iterations: int = 100,
    tolerance: float = 1e-3,
) -> CovariateEffects:
    """Effects of features (n, T, p) on demand values (n, T) (NaN = not observed), pooled and per series."""
    n, length, width = features.shape
    names = tuple(names) if names is not None else tuple(f"x{index}" for index in range(width))
    y = np.clip(np.where(np.isfinite(values), values, np.nan), 0.0, None)
    x = np.nan_to_num(features)
    log_factors = np.zeros((n, length))
    estimate = []
    for _ in range(max(iterations, 1)):
        previous = estimate[3] if estimate else None
        baseline = local_baseline(y, log_factors, window=window)
        usable = np.isfinite(y) & np.isfinite(baseline) & (baseline > 0)
        active = _varying(x, usable)
        if not active.any():
            return _effects(names, _empty_estimate(n, width), np.full(width, np.nan))
        with np.errstate(divide="ignore", invalid="ignore"):
            offset = np.where(usable, np.log(baseline), 0.0)
        estimate = _empty_estimate(n, width)
        for target, part in zip(estimate, _estimate(x[:, :, active], np.nan_to_num(y), offset, usable), strict=True):
            target[..., active] = part
        log_factors = np.clip(np.einsum("ntp,np->nt", x, estimate[3]), -LOG_FACTOR_BOUND, LOG_FACTOR_BOUND)
        if previous is not None and np.max(np.abs(estimate[3] - previous), initial=0.0) < tolerance:
            break
    # against the pooled effects: a product's own effect, fitted on the same few episodes, would absorb their deviations
    pooled_factors = np.clip(x @ estimate[0], -LOG_FACTOR_BOUND, LOG_FACTOR_BOUND)
    episode_sd = np.full(width, np.nan)
    episode_sd[active], campaigns = _episode_spread(
        y, x[:, :, active], pooled_factors, names=np.array(names)[active], window=window
    )
    scores = None
    if campaigns is not None:
        mu = np.where(usable, np.exp(np.clip(offset + x[:, :, active] @ estimate[0][active], -30.0, 30.0)), 0.0)
        hessian = _pooled_hessian(x[:, :, active], mu)
        shared = _shared_deviation_variance(x[:, :, active], mu, hessian, campaigns)
        estimate[1][active] = np.sqrt(estimate[1][active] ** 2 + shared)
        estimate[4][:, active] = np.sqrt(estimate[4][:, active] ** 2 + shared)
        scores = _held_out_scores(
            x[:, :, active], np.where(usable, y, 0.0), mu, hessian, campaigns, estimate[1][active], episode_sd[active]
        )
    return _effects(names, estimate, episode_sd, scores)


def _empty_estimate(n: int, width: int) -> list[np.ndarray]:
    """pooled, pooled_se, spread, effects, effects_se of features with no effect: 0, NaN standard errors."""
    return [
        np.zeros(width),
        np.full(width, np.nan),
        np.full(width, np.nan),
        np.zeros((n, width)),
        np.full((n, width), np.nan),
    ]


def _effects(
    names: tuple[str, ...],
    estimate: list[np.ndarray],
    episode_sd: np.ndarray,
    scores: CampaignScores | None = None,
) -> CovariateEffects:
    pooled, pooled_se, spread, effects, effects_se = estimate
    return CovariateEffects(names, pooled, pooled_se, spread, effects, effects_se, episode_sd, scores)


def _varying(x: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """(p,) whether each feature takes more than one value on the usable periods."""
    if not usable.any():
        return np.zeros(x.shape[-1], dtype=bool)
    rows = x[usable]
    return (rows.max(axis=0) - rows.min(axis=0)) > 1e-9


def _estimate(
    x: np.ndarray, y: np.ndarray, offset: np.ndarray, usable: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pooled effect with its sandwich standard error, the spread tau, and per-series posterior effects and errors
    of features x (n, T, p) that vary; see the module docstring."""
    n, _, width = x.shape
    weight = usable.astype(float)
    pooled, hessian = _poisson_map(
        x.reshape(1, -1, width),
        y.reshape(1, -1),
        offset.reshape(1, -1),
        weight.reshape(1, -1),
        np.zeros((1, width)),
        np.full((1, width), POOLED_PRECISION),
    )
    pooled, hessian = pooled[0], hessian[0]
    mu = np.exp(np.clip(offset + x @ pooled, -30.0, 30.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        pearson = np.where(usable & (mu > 0), np.minimum((y - mu) ** 2 / mu, PEARSON_CAP), 0.0)
    periods = usable.sum(axis=1).astype(float)
    dispersion = max(1.0, float(pearson.sum()) / max(float(periods.sum()) - width, 1.0))
    series_dispersion = np.maximum(
        1.0, (pearson.sum(axis=1) + DISPERSION_PRIOR_PERIODS * dispersion) / (periods + DISPERSION_PRIOR_PERIODS)
    )
    bread = np.linalg.inv(hessian)
    contributing = periods > 0
    if contributing.sum() >= MIN_SERIES_FOR_SANDWICH:
        scores = np.einsum("ntp,nt->np", x, weight * (y - mu))[contributing]
        clusters = float(contributing.sum())
        covariance = bread @ (scores.T @ scores) @ bread * clusters / (clusters - 1.0)
    else:
        covariance = dispersion * bread
    pooled_variance = np.clip(np.diag(covariance), 0.0, None)

    series_weight = weight / series_dispersion[:, None]
    prior_mean = np.broadcast_to(pooled, (n, width))
    weak, weak_hessian = _poisson_map(x, y, offset, series_weight, prior_mean, np.full((n, width), WEAK_PRIOR_SD**-2.0))
    spread = _spread(weak, np.diagonal(np.linalg.inv(weak_hessian), axis1=1, axis2=2))
    effects, posterior = _poisson_map(
        x, y, offset, series_weight, prior_mean, np.broadcast_to(spread**-2.0, (n, width))
    )
    variance = np.diagonal(np.linalg.inv(posterior), axis1=1, axis2=2) + pooled_variance[None, :]
    return pooled, np.sqrt(pooled_variance), spread, effects, np.sqrt(variance)


def _spread(estimates: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """(p,) between-series standard deviation of each effect, DerSimonian-Laird over the series whose data, not
    the weak prior, carries their estimate (posterior variance under half the prior's)."""
    spread = np.full(estimates.shape[1], DEFAULT_SPREAD)
    for index in range(estimates.shape[1]):
        informative = variances[:, index] < 0.5 * WEAK_PRIOR_SD**2
        if informative.sum() < MIN_SERIES_FOR_SPREAD:
            continue
        weights = 1.0 / variances[informative, index]
        values = estimates[informative, index]
        centre = np.sum(weights * values) / weights.sum()
        q = np.sum(weights * (values - centre) ** 2)
        denominator = weights.sum() - np.sum(weights**2) / weights.sum()
        variance = max(0.0, (q - (informative.sum() - 1)) / denominator) if denominator > 0 else 0.0
        spread[index] = np.clip(np.sqrt(variance), MIN_SPREAD, MAX_SPREAD)
    return spread


def _episode_spread(
    y: np.ndarray, x: np.ndarray, log_factors: np.ndarray, *, names: Sequence[str], window: int
) -> tuple[np.ndarray, _Campaigns | None]:
    """(p,) standard deviation sigma of each effect between promotion campaigns, pooled over the panel (see the
    module docstring; NaN for the ``:after`` features), and the past campaigns it was measured on."""
    n, length, width = x.shape
    lift = np.array([not name.endswith(AFTER_SUFFIX) for name in names], dtype=bool)
    binary = lift & np.array([np.isin(x[:, :, index], (0.0, 1.0)).all() for index in range(width)], dtype=bool)
    # a price below its regular one marks no episode of its own: on weekly retail data it is so half the time
    markers = np.flatnonzero(binary if binary.any() else lift)
    observed = np.isfinite(y)
    factor = np.where(observed, np.exp(log_factors), 0.0)
    on = (np.abs(x[:, :, markers]) > 1e-9).any(axis=-1)
    # the level comes from periods outside every episode: a neighbouring episode would bring its own deviation
    quiet = observed & ~on

    def cumulative(values: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros((n, 1, *values.shape[2:])), np.cumsum(values, axis=1)], axis=1)

    sums = {
        "y": cumulative(np.where(observed, y, 0.0)),
        "factor": cumulative(factor),
        "deflated": cumulative(np.where(quiet, y / np.exp(log_factors), 0.0)),
        "quiet": cumulative(quiet.astype(float)),
        "observed": cumulative(observed.astype(float)),
        "on": cumulative(on.astype(float)),
        "x": cumulative(np.where(observed[:, :, None], x, 0.0)),
    }

    def window_totals(
        rows: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Actual and expected demand of windows [start, end) (NaN where the level is missing) and the deflated
        demand of the neighbours the level is the mean of."""

        def total(name: str, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
            return sums[name][rows, upper] - sums[name][rows, lower]

        before, after = np.maximum(starts - window, 0), np.minimum(ends + window, length)
        count = total("quiet", before, starts) + total("quiet", ends, after)
        with np.errstate(invalid="ignore", divide="ignore"):
            neighbours = total("deflated", before, starts) + total("deflated", ends, after)
            expected = neighbours / count * total("factor", starts, ends)
        return total("y", starts, ends), np.where((count >= 2) & (expected > 0), expected, np.nan), neighbours

    def counting_variance(expected: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
        """Poisson variance of log_lift: of the window's count and of the neighbours' count behind its level."""
        return 1.0 / (expected + 0.5) + 1.0 / (neighbours + 0.5)

    def placebo_dispersion(rows: np.ndarray, span: int) -> np.ndarray:
        """Each campaign's noise over its Poisson variance, measured on its series (rows: campaigns x series) in
        every window of the same length where none of them was promoted (NaN with fewer than MIN_PLACEBOS): their
        overdispersion, their weekdays and what moves them together are all in it."""
        rows = rows[:, :, None]
        starts = np.arange(length - span + 1)[None, None, :]
        actual, expected, neighbours = window_totals(rows, starts, starts + span)
        quiet = sums["on"][rows, starts + span] == sums["on"][rows, starts]
        valid = (quiet & np.isfinite(expected)).all(axis=1)
        actual, expected, neighbours = (values.sum(axis=1) for values in (actual, expected, neighbours))
        squares = np.where(valid, log_lift(actual, expected) ** 2, 0.0)
        poisson = np.where(valid, counting_variance(expected, neighbours), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(valid.sum(axis=1) >= MIN_PLACEBOS, squares.sum(axis=1) / poisson.sum(axis=1), np.nan)

    def log_lift(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
        # half a unit on both sides keeps the log finite for a window that sold nothing
        return np.log((actual + 0.5) / (expected + 0.5))

    episodes = []
    for marker in markers:
        for row in range(n):
            marked = (np.abs(x[row, :, marker]) > 1e-9).astype(np.int8)
            edges = np.flatnonzero(np.diff(np.concatenate([[0], marked, [0]])))
            episodes += [(marker, row, start, end) for start, end in zip(edges[::2], edges[1::2], strict=True)]
    sd = np.where(lift, DEFAULT_SPREAD, np.nan)
    if not episodes:
        return sd, None
    marks, rows, starts, ends = (np.array(column) for column in zip(*episodes, strict=True))
    actual, expected, neighbours = window_totals(rows, starts, ends)
    exposure = (sums["x"][rows, ends] - sums["x"][rows, starts]) / np.maximum(
        sums["observed"][rows, ends] - sums["observed"][rows, starts], 1.0
    )[:, None]
    usable = np.isfinite(expected)
    if not usable.any():
        return sd, None
    rows, starts, ends, actual, expected, neighbours, exposure = (
        column[usable] for column in (rows, starts, ends, actual, expected, neighbours, exposure)
    )
    # series promoted by one marker over the same periods are one campaign, whose deviation they share
    keys, campaign = np.unique(np.stack([marks[usable], starts, ends]), axis=1, return_inverse=True)
    campaign = campaign.ravel()

    def campaign_sum(values: np.ndarray) -> np.ndarray:
        return np.bincount(campaign, weights=values, minlength=keys.shape[1])

    totals = campaign_sum(expected)
    residuals = log_lift(campaign_sum(actual), totals)
    means = np.stack([campaign_sum(expected * column) for column in exposure.T], axis=1) / totals[:, None]
    exposures = means**2
    # a promoted window sells more than a quiet one, so its Poisson noise is smaller: the placebos calibrate the
    # dispersion, the campaign's own counts scale it
    spans = keys[2] - keys[1]
    members = [rows[campaign == group] for group in range(keys.shape[1])]
    dispersion = np.empty(keys.shape[1])
    sizes = np.array([len(group) for group in members])
    # campaigns of one length and one number of series are measured together
    for span, size in set(zip(spans.tolist(), sizes.tolist(), strict=True)):
        chosen = np.flatnonzero((spans == span) & (sizes == size))
        dispersion[chosen] = placebo_dispersion(np.stack([members[group] for group in chosen]), span)
    noise = dispersion * counting_variance(totals, campaign_sum(neighbours))
    known = np.isfinite(noise)
    estimable = lift & ((exposures[known] > 1e-12).sum(axis=0) >= MIN_CAMPAIGNS)
    if estimable.any():
        variance = _episode_variance(residuals[known], noise[known], exposures[known][:, estimable])
        sd[estimable] = np.sqrt(variance).clip(0.0, MAX_SPREAD)
    deviation = np.where(known, exposures @ np.nan_to_num(sd) ** 2, 0.0)
    return sd, _Campaigns(rows, starts, ends, campaign, deviation, residuals, noise, means)


@dataclass(frozen=True)
class _Campaigns:
    """Past episodes (row, start, end) and the campaign each belongs to; per campaign the variance of its log lift
    deviation (sum_j sigma_j^2 a_gj^2), its log lift against the pooled effects, the noise of that log lift (NaN
    where no placebo measured it) and its mean features a_g."""

    rows: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    campaign: np.ndarray
    deviation: np.ndarray
    residual: np.ndarray
    noise: np.ndarray
    means: np.ndarray


def _pooled_hessian(x: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """(p, p) curvature of the pooled Poisson fit of features x (n, T, p) at means mu (0 where not usable)."""
    return np.einsum("ntp,nt,ntq->pq", x, mu, x) + POOLED_PRECISION * np.eye(x.shape[-1])


def _episode_sums(values: np.ndarray, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(episodes, ...) sums of values (m, T, ...) over each episode's periods [start, end) of row ``rows``."""
    cumulative = np.concatenate([np.zeros((len(values), 1, *values.shape[2:])), np.cumsum(values, axis=1)], axis=1)
    return cumulative[rows, ends] - cumulative[rows, starts]


def _per_campaign(values: np.ndarray, campaigns: _Campaigns) -> np.ndarray:
    """(campaigns, ...) per-episode values (episodes, ...) summed over each campaign's episodes."""
    totals = np.zeros((len(campaigns.deviation), *values.shape[1:]))
    np.add.at(totals, campaigns.campaign, values)
    return totals


def _shared_deviation_variance(x: np.ndarray, mu: np.ndarray, hessian: np.ndarray, campaigns: _Campaigns) -> np.ndarray:
    """(p,) variance the past campaigns' deviations add to the pooled effects through the series they share.

    The sandwich clusters by series, so it counts each series' own episodes but takes series as independent; a
    campaign's deviation u_g moves the score of every series it promotes by m_ig u_g, m_ig = sum of x mu over the
    episode, so the pooled effect gets bread (sum_g var(u_g) (m_g m_g' - sum_i m_ig m_ig')) bread besides."""
    scores = _episode_sums(x * mu[:, :, None], campaigns.rows, campaigns.starts, campaigns.ends)
    totals = _per_campaign(scores, campaigns)
    cross = np.einsum("g,gp,gq->pq", campaigns.deviation, totals, totals) - np.einsum(
        "e,ep,eq->pq", campaigns.deviation[campaigns.campaign], scores, scores
    )
    bread = np.linalg.inv(hessian)
    return np.clip(np.diag(bread @ cross @ bread), 0.0, None)


def _held_out_scores(
    x: np.ndarray,
    y: np.ndarray,
    mu: np.ndarray,
    hessian: np.ndarray,
    campaigns: _Campaigns,
    pooled_se: np.ndarray,
    episode_sd: np.ndarray,
) -> CampaignScores | None:
    """Each past campaign scored as a new one: its log lift against the pooled effects refitted without its
    episodes, by one Newton step from the full fit (beta_-g = beta - (H - H_g)^-1 s_g, s_g and H_g the score and
    curvature of its periods), r_-g = r_g - a_g . (beta_-g - beta); the model's variance for it
    sum_j a_gj^2 (pooled_se_j^2 + sigma_j^2); its noise. None when no campaign's noise was measured."""
    known = np.flatnonzero(np.isfinite(campaigns.noise) & np.isfinite(campaigns.residual))
    if not len(known):
        return None
    # only the series with an episode: their cumulative curvatures are (series, T, p, p)
    rows = np.unique(campaigns.rows)
    local = np.searchsorted(rows, campaigns.rows)
    xs = x[rows]
    scores = _episode_sums(xs * (y[rows] - mu[rows])[:, :, None], local, campaigns.starts, campaigns.ends)
    curvatures = _episode_sums(np.einsum("ntp,nt,ntq->ntpq", xs, mu[rows], xs), local, campaigns.starts, campaigns.ends)
    scores, curvatures = _per_campaign(scores, campaigns)[known], _per_campaign(curvatures, campaigns)[known]
    means = np.nan_to_num(campaigns.means[known])
    shift = -np.linalg.solve(hessian[None] - curvatures, scores[:, :, None])[:, :, 0]
    residual = campaigns.residual[known] - np.einsum("gp,gp->g", means, shift)
    model_variance = means**2 @ (np.nan_to_num(pooled_se) ** 2 + np.nan_to_num(episode_sd) ** 2)
    return CampaignScores(residual, model_variance, campaigns.noise[known])


def _episode_variance(residuals: np.ndarray, variances: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """(q,) variances sigma^2 >= 0 of E[r_e^2 - v_e] = sum_j sigma_j^2 a_ej^2 over episodes e: non-negative least
    squares weighted by the inverse variance of r_e^2 under the current sigma, iterated to its fixed point."""
    excess = residuals**2 - variances
    variance = np.full(exposure.shape[1], DEFAULT_SPREAD**2)
    for _ in range(EPISODE_ROUNDS):
        weight = 1.0 / (variances + exposure @ variance)
        variance = nnls(exposure * weight[:, None], excess * weight)[0]
    return variance


def _poisson_map(
    x: np.ndarray,
    y: np.ndarray,
    offset: np.ndarray,
    weight: np.ndarray,
    prior_mean: np.ndarray,
    prior_precision: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior modes (b, p) and curvatures (b, p, p) of b independent weighted Poisson regressions with log link,
    offsets and Gaussian priors: x (b, m, p), y / offset / weight (b, m), prior mean and precision (b, p).
    Newton steps, each capped at MAX_NEWTON_STEP in every coordinate (the log likelihood is concave, so the cap
    only slows the first steps from a far start)."""
    beta = np.array(prior_mean, dtype=float)
    precision = np.asarray(prior_precision, dtype=float)
    diagonal = np.eye(x.shape[-1])[None, :, :] * precision[:, None, :]
    for iteration in range(NEWTON_STEPS + 1):
        mu = np.exp(np.clip(offset + np.einsum("bmp,bp->bm", x, beta), -30.0, 30.0))
        hessian = np.einsum("bmp,bm,bmq->bpq", x, weight * mu, x, optimize=True) + diagonal
        gradient = np.einsum("bmp,bm->bp", x, weight * (mu - y)) + precision * (beta - prior_mean)
        step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        largest = np.max(np.abs(step), axis=1, keepdims=True)
        if float(largest.max(initial=0.0)) < 1e-8 or iteration == NEWTON_STEPS:
            break
        beta = beta - step * np.minimum(1.0, MAX_NEWTON_STEP / np.maximum(largest, 1e-300))
    return beta, hessian
