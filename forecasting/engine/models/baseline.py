"""Benchmark models, vectorised over a panel: naive, seasonal naive, historic average, moving average.

Laws (GaussianLaw, sigma = RMS of the in-sample one-step errors of the method):
- naive: random walk, psi = 1 at every lag (spread grows as sqrt(k)).
- seasonal naive: seasonal random walk, psi = 1 at lags that are multiples of the season.
- historic average and moving average: i.i.d. errors around a flat forecast.

None of them estimates a parameter, so applying a fitted one to a longer series (apply, apply_panel) re-runs it.
"""

from __future__ import annotations

import numpy as np

from forecasting.engine.models.common import (
    PanelModel,
    forward_fill,
    iid_psi,
    residual_scale,
    right_align,
    state_infos,
)
from forecasting.engine.models.laws import GaussianLaw


def last_observed(panel: np.ndarray) -> np.ndarray:
    """(n,) last non-NaN value of each row, 0 for rows without any."""
    return np.nan_to_num(forward_fill(panel)[:, -1])


class Naive(PanelModel):
    """Last observed value repeated; random-walk law."""

    name = "naive"

    def fit_panel(self, panel: np.ndarray) -> dict[str, np.ndarray]:
        filled = forward_fill(panel)
        errors = panel[:, 1:] - filled[:, :-1]
        level = np.nan_to_num(filled[:, -1])
        return {"level": level, "sigma": residual_scale(errors, level)}

    def law_panel(self, state: dict[str, np.ndarray], h: int) -> GaussianLaw:
        n = len(state["level"])
        return GaussianLaw(
            mean=np.repeat(state["level"][:, None], h, axis=1),
            sigma=state["sigma"],
            psi=np.ones((n, h)),
            info=state_infos(state, ("level",)),
        )


def seasonal_profile(panel: np.ndarray, season_length: int) -> tuple[np.ndarray, np.ndarray]:
    """The last observed value of each season position (n, m), in calendar order ending at the last column,
    and the (n, T) values one season earlier (NaN-aware), used for residuals."""
    n, length = panel.shape
    cycles = -(-length // season_length)
    padded = np.full((n, cycles * season_length), np.nan)
    padded[:, cycles * season_length - length :] = panel
    by_cycle = padded.reshape(n, cycles, season_length)
    filled = by_cycle.copy()
    for cycle in range(1, cycles):
        gaps = np.isnan(filled[:, cycle, :])
        filled[:, cycle, :][gaps] = filled[:, cycle - 1, :][gaps]
    previous = np.full_like(filled, np.nan)
    previous[:, 1:, :] = filled[:, :-1, :]
    previous_flat = previous.reshape(n, -1)[:, cycles * season_length - length :]
    return filled[:, -1, :], previous_flat


class SeasonalNaive(PanelModel):
    """The last observed season repeated; seasonal-random-walk law.

    Season positions never observed (a series shorter than the season, or masked days) take the last observed
    value instead; info["short_history"] counts them.
    """

    name = "seasonal_naive"

    def fit_panel(self, panel: np.ndarray) -> dict[str, np.ndarray]:
        season_length = max(int(self.season_length), 1)
        profile, previous = seasonal_profile(panel, season_length)
        level = last_observed(panel)
        unseen = np.isnan(profile)
        profile = np.where(unseen, level[:, None], profile)
        errors = panel - previous
        return {
            "profile": profile,
            "level": level,
            "short_history": unseen.sum(axis=1).astype(np.float64),
            "sigma": residual_scale(errors, level),
        }

    def law_panel(self, state: dict[str, np.ndarray], h: int) -> GaussianLaw:
        profile = state["profile"]
        n, season_length = profile.shape
        steps = np.arange(h)
        mean = profile[:, steps % season_length]
        psi = np.broadcast_to((steps % season_length == 0).astype(np.float64), (n, h)).copy()
        return GaussianLaw(mean=mean, sigma=state["sigma"], psi=psi, info=state_infos(state, ("short_history",)))


class HistoricAverage(PanelModel):
    """Mean of all observed values; i.i.d. law with the sample standard deviation."""

    name = "historic_average"

    def fit_panel(self, panel: np.ndarray) -> dict[str, np.ndarray]:
        count = np.sum(~np.isnan(panel), axis=1)
        level = np.where(count > 0, np.nansum(panel, axis=1) / np.maximum(count, 1), 0.0)
        errors = panel - level[:, None]
        return {"level": level, "sigma": residual_scale(errors, level, dof=1)}

    def law_panel(self, state: dict[str, np.ndarray], h: int) -> GaussianLaw:
        n = len(state["level"])
        return GaussianLaw(
            mean=np.repeat(state["level"][:, None], h, axis=1),
            sigma=state["sigma"],
            psi=iid_psi(n, h),
            info=state_infos(state, ("level",)),
        )


class MovingAverage(PanelModel):
    """Mean of the last `window` observed values (missing days skipped); i.i.d. law whose sigma is the RMS of
    the in-sample errors of the trailing mean."""

    name = "moving_average"

    def __init__(self, *, window: int = 28, season_length: int = 7, n_paths: int = 200, seed: int = 0) -> None:
        super().__init__(season_length=season_length, n_paths=n_paths, seed=seed)
        self.window = window

    def fit_panel(self, panel: np.ndarray) -> dict[str, np.ndarray]:
        window = max(int(self.window), 1)
        aligned = right_align(panel)
        observed = ~np.isnan(aligned)
        sums = np.concatenate([np.zeros((len(aligned), 1)), np.cumsum(np.nan_to_num(aligned), axis=1)], axis=1)
        counts = np.concatenate([np.zeros((len(aligned), 1)), np.cumsum(observed, axis=1)], axis=1)
        length = aligned.shape[1]
        start = np.maximum(np.arange(length + 1) - window, 0)
        window_sums = sums - sums[:, start]
        window_counts = counts - counts[:, start]
        with np.errstate(invalid="ignore", divide="ignore"):
            trailing = window_sums / window_counts
        level = np.nan_to_num(trailing[:, -1])
        errors = aligned - trailing[:, :-1]
        return {"level": level, "sigma": residual_scale(errors, level), "window": np.full(len(panel), window)}

    def law_panel(self, state: dict[str, np.ndarray], h: int) -> GaussianLaw:
        n = len(state["level"])
        return GaussianLaw(
            mean=np.repeat(state["level"][:, None], h, axis=1),
            sigma=state["sigma"],
            psi=iid_psi(n, h),
            info=state_infos(state, ("level", "window")),
        )
