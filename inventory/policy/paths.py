"""Demand sample paths rebuilt from stored quantiles of cumulative demand.

A forecast run stores, per SKU and forecast day k, quantiles of demand summed over days 1..k. A reorder plan needs
demand over the protection interval L + R with L random, and stock-out dates: both only ever read cumulative
demand at one day per path. Paths that take, for a uniform u drawn per path, the u-quantile of cumulative demand
at every day (a comonotone coupling) therefore reproduce the stored law of every one of those numbers exactly,
up to interpolation between the stored levels; the daily values are the differences.

Beyond the stored horizon each path continues at its own mean daily rate over the last EXTENSION_WINDOW days, so a
path that was high stays high (the level uncertainty carries on); callers report when they relied on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EXTENSION_WINDOW = 14


def paths_from_cumulative_quantiles(
    levels: Sequence[float],
    cumulative: np.ndarray,
    *,
    n_paths: int = 400,
    horizon: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """(n_paths, horizon) daily demand whose cumulative sums have the given quantiles at every day.

    levels (q,) strictly increasing in (0, 1); cumulative (q, h) with cumulative[i, k] the levels[i] quantile of
    demand summed over days 0..k. Below the lowest and above the highest level the end values are held: the law
    is only known between them. horizon defaults to h; more days extend each path at its recent rate.
    """
    levels = np.asarray(levels, dtype=float)
    table = np.nan_to_num(np.asarray(cumulative, dtype=float), nan=0.0)
    if table.ndim != 2 or table.shape[0] != levels.size or table.shape[1] == 0:
        raise ValueError("cumulative must be a (levels, days) array with at least one day")
    if np.any(np.diff(levels) <= 0) or levels[0] <= 0 or levels[-1] >= 1:
        raise ValueError("levels must be strictly increasing inside (0, 1)")
    if n_paths < 1:
        raise ValueError("n_paths must be at least 1")
    # Stored quantiles are estimates: make them non-negative, ordered across levels and non-decreasing in time.
    table = np.maximum.accumulate(np.maximum.accumulate(np.clip(table, 0.0, None), axis=0), axis=1)
    stored = table.shape[1]
    horizon = stored if horizon is None else int(horizon)
    if horizon < 1:
        raise ValueError("horizon must be at least 1")

    rng = np.random.default_rng(seed)
    u = (np.arange(n_paths) + rng.random(n_paths)) / n_paths  # stratified: every part of the law is visited
    rng.shuffle(u)
    position = np.interp(u, levels, np.arange(levels.size))
    lower = np.floor(position).astype(int)
    upper = np.minimum(lower + 1, levels.size - 1)
    weight = (position - lower)[:, None]
    totals = table[lower] * (1.0 - weight) + table[upper] * weight  # (n, stored) cumulative per path

    if horizon > stored:
        window = min(EXTENSION_WINDOW, stored)
        start = totals[:, stored - window - 1] if stored > window else np.zeros(n_paths)
        rate = (totals[:, -1] - start) / window
        extra = totals[:, -1:] + rate[:, None] * np.arange(1, horizon - stored + 1)[None, :]
        totals = np.concatenate([totals, extra], axis=1)
    totals = totals[:, :horizon]
    return np.diff(totals, axis=1, prepend=0.0)
