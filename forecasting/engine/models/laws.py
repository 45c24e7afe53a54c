"""Forecast laws shared by every statistical model, and their conversion into Forecast objects.

A model's fit/predict reduces to one of three laws for the next h values, batched over n series:

- GaussianLaw: y[T+k] = mean[k] + sigma * sum_{j<=k-1} psi[j] * eps[T+k-j], eps i.i.d. N(0, 1). Every linear
  model (naive, seasonal naive, SES, additive ETS, ARIMA, theta) has this form; psi are its MA(inf) weights, so
  the marginal quantiles are analytic and the sample paths keep the horizon correlation.
- CountLaw: each day independently has demand with probability prob; a day's size is drawn from the series'
  observed non-zero sizes, rescaled so that prob * E[size] equals the point forecast (Croston, SBA, TSB, ADIDA,
  IMAPA: heuristics whose only law is the empirical one). Its quantiles are exact (no sampling).
- PathLaw: simulated paths (multiplicative ETS), quantiles taken from the paths.

All laws are for demand: paths are clipped at 0 and quantiles are those of the clipped law (clipping is
monotone, so for a Gaussian law they are the clipped Gaussian quantiles); the mean is the point forecast
clipped at 0.

Random numbers: each series draws from its own generator seeded by (seed, a hash of the series' values), so a
series gets the same paths whether it is forecast alone or inside any panel, and different series get
independent draws.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

from forecasting.engine.base import Forecast

# Paths simulated for laws without a closed form (PathLaw), even when fewer paths are returned.
MIN_QUANTILE_SAMPLE = 500


@dataclass
class GaussianLaw:
    mean: np.ndarray  # (n, h), before clipping
    sigma: np.ndarray  # (n,)
    psi: np.ndarray  # (n, h), psi[:, 0] == 1
    info: list[dict] = field(default_factory=list)


@dataclass
class CountLaw:
    mean: np.ndarray  # (n, h)
    prob: np.ndarray  # (n,) probability of a day with demand
    sizes: np.ndarray  # (n, k) observed non-zero sizes, NaN-padded on the left
    info: list[dict] = field(default_factory=list)


@dataclass
class PathLaw:
    mean: np.ndarray  # (n, h), before clipping
    paths: np.ndarray  # (n, s, h), before clipping
    info: list[dict] = field(default_factory=list)


Law = GaussianLaw | CountLaw | PathLaw


def series_rng(seed: int, values: np.ndarray) -> np.random.Generator:
    """The generator of one series: depends on the seed and the series' values, never on its panel position."""
    digest = zlib.crc32(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    return np.random.default_rng([int(seed), digest])


def law_is_finite(law: Law) -> np.ndarray:
    """(n,) True where the law can be used (finite mean and scale)."""
    ok = np.isfinite(law.mean).all(axis=1)
    if isinstance(law, GaussianLaw):
        ok &= np.isfinite(law.sigma) & np.isfinite(law.psi).all(axis=1)
    elif isinstance(law, CountLaw):
        ok &= np.isfinite(law.prob)
    else:
        ok &= np.isfinite(law.paths).all(axis=(1, 2))
    return ok


def gaussian_paths(mean: np.ndarray, sigma: float, psi: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """(s, h) paths mean + sigma * (normals convolved with psi), before clipping."""
    h = mean.shape[0]
    lags = np.arange(h)[None, :] - np.arange(h)[:, None]  # lags[j, k] = k - j
    weights = np.where(lags >= 0, psi[np.clip(lags, 0, h - 1)], 0.0)
    return mean[None, :] + sigma * (normals @ weights)


def count_paths(
    mean: np.ndarray, prob: float, sizes: np.ndarray, uniforms: np.ndarray, picks: np.ndarray
) -> np.ndarray:
    """(s, h) paths of the count law; uniforms decide occurrence, picks (in [0, 1)) choose the bootstrapped size."""
    observed = sizes[np.isfinite(sizes)]
    if prob <= 0 or observed.size == 0 or not np.any(mean > 0):
        return np.zeros_like(uniforms)
    drawn = observed[np.minimum((picks * observed.size).astype(np.int64), observed.size - 1)]
    scale = np.clip(mean, 0.0, None) / (prob * observed.mean())
    return np.where(uniforms < prob, drawn * scale[None, :], 0.0)


def law_quantiles(law: Law, levels: np.ndarray) -> np.ndarray:
    """(n, q, h) quantiles of the clipped law at ascending levels, for all series at once.

    Gaussian: clipped analytic quantiles. Count: exact quantiles of the mixture "0 with probability 1 - prob,
    else a rescaled size drawn uniformly from the observed ones" (inverted CDF of the empirical sizes). Paths:
    empirical quantiles of the clipped simulated paths.
    """
    if isinstance(law, GaussianLaw):
        sd = law.sigma[:, None] * np.sqrt(np.cumsum(law.psi**2, axis=1))
        values = law.mean[:, None, :] + ndtri(levels)[None, :, None] * sd[:, None, :]
        return np.clip(values, 0.0, None)
    if isinstance(law, CountLaw):
        ordered = np.sort(law.sizes, axis=1)  # NaN padding sorts last
        count = np.sum(np.isfinite(ordered), axis=1)
        prob = np.clip(law.prob, 0.0, 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (levels[None, :] - (1.0 - prob[:, None])) / prob[:, None]
            size_mean = np.nansum(ordered, axis=1) / np.maximum(count, 1)
            scale = np.clip(law.mean, 0.0, None) / (prob * size_mean)[:, None]
        rank = np.clip(np.ceil(np.nan_to_num(share) * count[:, None] - 1e-9).astype(np.int64), 1, None)
        rank = np.minimum(rank, np.maximum(count, 1)[:, None])
        sizes = np.nan_to_num(np.take_along_axis(ordered, rank - 1, axis=1))
        demand = (share > 0) & (count[:, None] > 0) & (prob[:, None] > 0)
        values = np.where(demand[:, :, None], sizes[:, :, None] * np.nan_to_num(scale)[:, None, :], 0.0)
        return np.clip(values, 0.0, None)
    return np.moveaxis(np.quantile(np.clip(law.paths, 0.0, None), levels, axis=1), 0, 1)


def forecasts_from_law(
    law: Law,
    *,
    series_values: list[np.ndarray],
    quantiles: tuple[float, ...],
    n_paths: int,
    seed: int,
) -> list[Forecast]:
    """One Forecast per series of the law; series_values seed each series' random numbers."""
    levels = tuple(sorted(float(level) for level in quantiles))
    level_array = np.asarray(levels, dtype=np.float64)
    n, h = law.mean.shape
    all_quantiles = np.maximum.accumulate(law_quantiles(law, level_array), axis=1)
    means = np.clip(law.mean, 0.0, None)
    forecasts = []
    for index in range(n):
        info = dict(law.info[index]) if law.info else {}
        paths = None
        if isinstance(law, GaussianLaw):
            info.setdefault("sigma", float(law.sigma[index]))
            if n_paths > 0:
                rng = series_rng(seed, series_values[index])
                normals = rng.standard_normal((n_paths, h))
                paths = np.clip(
                    gaussian_paths(law.mean[index], float(law.sigma[index]), law.psi[index], normals), 0, None
                )
        elif isinstance(law, CountLaw):
            if n_paths > 0:
                rng = series_rng(seed, series_values[index])
                uniforms = rng.random((n_paths, h))
                picks = rng.random((n_paths, h))
                paths = count_paths(law.mean[index], float(law.prob[index]), law.sizes[index], uniforms, picks)
        elif n_paths > 0:
            paths = np.clip(law.paths[index, :n_paths], 0.0, None)
        forecasts.append(
            Forecast(
                mean=means[index],
                quantile_levels=levels,
                quantiles=all_quantiles[index],
                paths=paths,
                info=info,
            )
        )
    return forecasts
