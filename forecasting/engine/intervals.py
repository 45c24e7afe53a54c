"""Conformal intervals and sample paths from backtest residuals, for models without an analytic law or whose
law is too optimistic.

residuals is a (k, h) array: for each of k backtest windows, the errors y - mean at horizon steps 1..h (NaN
where a window has no actual). Quantiles are taken per horizon step (split-conformal order statistics); paths
resample whole residual vectors so that the correlation across the horizon, and therefore the spread of
cumulative demand, is kept. Everything is clipped at 0 (demand).
"""

from __future__ import annotations

import numpy as np


def conformal_quantiles(mean: np.ndarray, residuals: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """(q, h) quantiles mean + residual order statistic per step, ascending in q, non-negative.

    With k finite residuals at a step, level tau >= 0.5 takes the ceil((k + 1) tau)-th smallest residual and
    tau < 0.5 the floor((k + 1) tau)-th (split conformal, ranks clipped to 1..k); a step without residuals
    gets the mean for every level.
    """
    mean = np.asarray(mean, dtype=np.float64)
    residuals = np.atleast_2d(np.asarray(residuals, dtype=np.float64))
    ordered_levels = np.asarray(sorted(levels), dtype=np.float64)
    result = np.repeat(mean[None, :], len(ordered_levels), axis=0)
    for step in range(mean.shape[0]):
        errors = residuals[:, step]
        errors = np.sort(errors[np.isfinite(errors)])
        count = errors.size
        if count == 0:
            continue
        scaled = (count + 1) * ordered_levels
        ranks = np.where(ordered_levels >= 0.5, np.ceil(scaled - 1e-9), np.floor(scaled + 1e-9)).astype(np.int64)
        result[:, step] = mean[step] + errors[np.clip(ranks, 1, count) - 1]
    return np.maximum.accumulate(np.clip(result, 0.0, None), axis=0)


def paths_from_residuals(mean: np.ndarray, residuals: np.ndarray, n_paths: int, seed: int) -> np.ndarray:
    """(n_paths, h) paths mean + a whole residual vector drawn with replacement from the k windows.

    Missing steps of a drawn window take another window's error at that step, so a path is always complete.
    """
    mean = np.asarray(mean, dtype=np.float64)
    residuals = np.atleast_2d(np.asarray(residuals, dtype=np.float64))
    usable = residuals[np.isfinite(residuals).any(axis=1)]
    if usable.size == 0:
        return np.repeat(np.clip(mean, 0.0, None)[None, :], n_paths, axis=0)
    rng = np.random.default_rng(seed)
    drawn = usable[rng.integers(0, len(usable), size=n_paths)]
    gaps = ~np.isfinite(drawn)
    if gaps.any():
        step_pool = [column[np.isfinite(column)] for column in usable.T]
        for path, step in zip(*np.nonzero(gaps), strict=True):
            pool = step_pool[step]
            drawn[path, step] = pool[rng.integers(0, pool.size)] if pool.size else 0.0
    return np.clip(mean[None, :] + drawn, 0.0, None)
