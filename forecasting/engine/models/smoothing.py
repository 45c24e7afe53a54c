"""Simple exponential smoothing with optimised alpha, vectorised over a panel (and over candidate alphas).

Missing days are skipped (the level is carried over them). The level starts at the first observation; alpha
minimises the in-sample sum of squared one-step errors, found by a coarse grid over (0, 1) refined around the
best point (resolution about 0.003), for all series at once. Law: ETS(A,N,N), psi = (1, alpha, alpha, ...).
Applied with kept parameters, alpha and sigma stay and only the level is smoothed again.
"""

from __future__ import annotations

import numpy as np

from forecasting.engine.models.common import PanelModel, residual_scale, right_align, state_infos
from forecasting.engine.models.laws import GaussianLaw

ALPHA_BOUNDS = (0.01, 0.99)


def smooth(aligned: np.ndarray, alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run SES on rows (n, T) for each alpha of (n, g): final levels and SSE, both (n, g); NaN are skipped."""
    n, length = aligned.shape
    observed = ~np.isnan(aligned)
    has_any = observed.any(axis=1)
    first = np.where(has_any, np.argmax(observed, axis=1), length - 1)
    level = np.repeat(np.nan_to_num(aligned[np.arange(n), first])[:, None], alphas.shape[1], axis=1)
    sse = np.zeros_like(level)
    start = int(first.min()) if n else length
    for column in range(start, length):
        value = aligned[:, column]
        valid = observed[:, column][:, None]
        error = np.where(valid, value[:, None] - level, 0.0)
        sse += error**2
        level += alphas * error
    return level, sse


def smooth_fixed(aligned: np.ndarray, alpha: float) -> np.ndarray:
    """(n,) final SES level of each row with one fixed alpha (NaN where a row has no value)."""
    level, _ = smooth(aligned, np.full((len(aligned), 1), float(alpha)))
    return np.where(np.isnan(aligned).all(axis=1), np.nan, level[:, 0])


def optimise_alpha(
    aligned: np.ndarray,
    grid_size: int = 15,
    refinements: int = 2,
    bounds: tuple[float, float] = ALPHA_BOUNDS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(alpha, level, sse), each (n,), alpha minimising the SSE per row: a coarse grid over the bounds, then
    `refinements` grids of 11 points around the best alpha, each 5 times finer than the previous step."""
    n = len(aligned)
    rows = np.arange(n)
    low, high = bounds
    alphas = np.broadcast_to(np.linspace(low, high, grid_size), (n, grid_size))
    level, sse = smooth(aligned, alphas)
    pick = np.argmin(sse, axis=1)
    step = (high - low) / (grid_size - 1)
    for _ in range(refinements):
        best = alphas[rows, pick]
        alphas = np.clip(best[:, None] + np.linspace(-step, step, 11)[None, :], low, high)
        level, sse = smooth(aligned, alphas)
        pick = np.argmin(sse, axis=1)
        step /= 5
    return alphas[rows, pick], level[rows, pick], sse[rows, pick]


class SimpleExponentialSmoothing(PanelModel):
    name = "ses"
    parameters = ("alpha", "sigma")

    def apply_panel(self, state: dict[str, np.ndarray], panel: np.ndarray) -> dict[str, np.ndarray]:
        aligned = right_align(panel)
        level, _ = smooth(aligned, state["alpha"][:, None])
        count = np.sum(~np.isnan(aligned), axis=1)
        level = np.where(count > 0, level[:, 0], 0.0)
        return {"alpha": state["alpha"].copy(), "level": level, "sigma": state["sigma"].copy()}

    def fit_panel(self, panel: np.ndarray) -> dict[str, np.ndarray]:
        aligned = right_align(panel)
        alpha, level, sse = optimise_alpha(aligned)
        count = np.sum(~np.isnan(aligned), axis=1)
        level = np.where(count > 0, level, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            sigma = np.sqrt(sse / np.maximum(count - 2, 1))
        sigma = np.where(count >= 3, sigma, residual_scale(np.full((len(panel), 1), np.nan), level))
        return {"alpha": alpha, "level": level, "sigma": sigma}

    def law_panel(self, state: dict[str, np.ndarray], h: int) -> GaussianLaw:
        n = len(state["level"])
        psi = np.repeat(state["alpha"][:, None], h, axis=1)
        psi[:, 0] = 1.0
        return GaussianLaw(
            mean=np.repeat(state["level"][:, None], h, axis=1),
            sigma=state["sigma"],
            psi=psi.reshape(n, h),
            info=state_infos(state, ("alpha", "level")),
        )
