"""MSTL: the series split into trend, one seasonal component per season length and remainder (STL applied
iteratively, statsforecast's mstl port of R's forecast::mstl, STL from statsmodels); the deseasonalised series
(trend + remainder) is forecast by automatic non-seasonal ETS and each seasonal component by repeating its
last cycle.

Law: the ETS law of the deseasonalised series shifted by the repeated seasonal components (the seasonal
forecast is treated as known).

Applied to a longer series (apply), the model keeps its season lengths and the ETS parameters of the
deseasonalised series; the decomposition (a filter with fixed settings, nothing estimated) is re-run.
"""

from __future__ import annotations

import copy

import numpy as np
from statsforecast.mstl import mstl

from forecasting.engine.models.common import StatisticalModel, impute_missing
from forecasting.engine.models.ets import AutoEts
from forecasting.engine.models.laws import GaussianLaw, Law, PathLaw

# A yearly cycle of daily data is added when two full years are available.
YEARLY_SEASON = 365


def season_lengths_for(length: int, season_length: int, season_lengths: tuple[int, ...] | None) -> list[int]:
    """Season lengths MSTL can estimate on a series of `length` values (each needs two full cycles)."""
    candidates = list(season_lengths) if season_lengths else [season_length]
    if not season_lengths and season_length == 7:
        candidates.append(YEARLY_SEASON)
    return sorted({int(period) for period in candidates if period > 1 and length >= 2 * period})


def decompose_series(values: np.ndarray, periods: list[int]) -> dict[str, np.ndarray]:
    """trend, seasonal<period> for each period, and remainder of a complete series (no NaN)."""
    if not periods:
        return {"trend": values.copy(), "remainder": np.zeros_like(values)}
    parts = mstl(values, period=periods if len(periods) > 1 else periods[0])
    components = {"trend": np.asarray(parts["trend"], dtype=np.float64)}
    if len(periods) == 1:
        components[f"seasonal{periods[0]}"] = np.asarray(parts["seasonal"], dtype=np.float64)
    else:
        for period in periods:
            components[f"seasonal{period}"] = np.asarray(parts[f"seasonal{period}"], dtype=np.float64)
    components["remainder"] = np.asarray(parts["remainder"], dtype=np.float64)
    return components


class MstlForecaster(StatisticalModel):
    name = "mstl"
    min_observations = 3

    def __init__(
        self,
        *,
        season_lengths: tuple[int, ...] | None = None,
        season_length: int = 7,
        n_paths: int = 200,
        seed: int = 0,
    ) -> None:
        super().__init__(season_length=season_length, n_paths=n_paths, seed=seed)
        self.season_lengths = season_lengths

    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:
        values = impute_missing(y, self.season_length)
        self.periods_ = season_lengths_for(len(values), self.season_length, self.season_lengths)
        if not self.periods_:
            raise ValueError(f"{len(values)} values: MSTL needs two full cycles of a season of length > 1")
        self.components_ = decompose_series(values, self.periods_)
        seasonal_total = sum(self.components_[f"seasonal{period}"] for period in self.periods_)
        self.trend_model_ = AutoEts(spec="ZZN", season_length=1, n_paths=self.n_paths, seed=self.seed)
        self.trend_model_.y_ = self.y_
        self.trend_model_._fit(values - seasonal_total, None)

    def _apply(self, y: np.ndarray, X: np.ndarray | None) -> None:
        values = impute_missing(y, self.season_length)
        self.components_ = decompose_series(values, self.periods_)
        seasonal_total = sum(self.components_[f"seasonal{period}"] for period in self.periods_)
        self.trend_model_ = copy.copy(self.trend_model_)
        self.trend_model_.y_ = self.y_
        self.trend_model_._apply(values - seasonal_total, None)

    def _law(self, h: int, X_future: np.ndarray | None) -> Law:
        seasonal_future = np.zeros(h)
        for period in self.periods_:
            component = self.components_[f"seasonal{period}"]
            seasonal_future += component[-period:][np.arange(h) % period]
        trend_law = self.trend_model_._law(h, None)
        info = [{"season_lengths": list(self.periods_), "trend_model": trend_law.info[0]}]
        if isinstance(trend_law, GaussianLaw):
            return GaussianLaw(
                mean=trend_law.mean + seasonal_future, sigma=trend_law.sigma, psi=trend_law.psi, info=info
            )
        return PathLaw(mean=trend_law.mean + seasonal_future, paths=trend_law.paths + seasonal_future, info=info)
