"""Series cleaning, panel helpers and the base class every statistical model derives from.

Demand series arrive as float arrays that may hold NaN (missing or censored days), negative values (returns
exceeding sales) and infinities. Every model sees them through clean_series: infinities become NaN, negatives
are clipped to 0, leading NaN (days before the product existed) are dropped.

A model that cannot fit a series (too short, all missing, numerical failure) or whose forecast is not finite
falls back to the seasonal naive forecast; Forecast.info then holds "fallback" and "error".

Kept parameters (rolling-origin backtests with refit=False, statsforecast's ``forward``): a fitted model's
apply(y) returns a copy that keeps every estimated parameter and only runs the model's filter over y, the same
series observed for longer; the panel models do the same for a whole panel with apply_panel(state, panel).
"""

from __future__ import annotations

import copy

import numpy as np

from forecasting.engine.base import DEFAULT_QUANTILES, Forecast, LocalModel
from forecasting.engine.models.laws import Law, forecasts_from_law, law_is_finite


def clean_series(y: np.ndarray | list[float]) -> np.ndarray:
    """1-D float64 copy with inf -> NaN, negatives -> 0 and the leading NaN removed."""
    values = np.array(y, dtype=np.float64, copy=True).reshape(-1)
    values[~np.isfinite(values)] = np.nan
    np.clip(values, 0.0, None, out=values)
    observed = np.flatnonzero(~np.isnan(values))
    return values[observed[0] :] if observed.size else values[:0]


def to_panel(series: list[np.ndarray]) -> np.ndarray:
    """(n, T) array of the series left-padded with NaN to the longest length (at least 1 column)."""
    length = max([len(values) for values in series] + [1])
    panel = np.full((len(series), length), np.nan)
    for row, values in enumerate(series):
        if len(values):
            panel[row, length - len(values) :] = values
    return panel


def right_align(panel: np.ndarray) -> np.ndarray:
    """Observed values of each row moved to the right end, in order; NaN fill the left."""
    order = np.argsort(~np.isnan(panel), axis=1, kind="stable")
    return np.take_along_axis(panel, order, axis=1)


def forward_fill(panel: np.ndarray) -> np.ndarray:
    """NaN replaced by the last observed value of the row (leading NaN stay)."""
    positions = np.where(np.isnan(panel), 0, np.arange(panel.shape[1])[None, :])
    np.maximum.accumulate(positions, axis=1, out=positions)
    return np.take_along_axis(panel, positions, axis=1)


def fallback_scale(level: np.ndarray) -> np.ndarray:
    """Residual scale for series too short to estimate one: the Poisson standard deviation of the level."""
    return np.sqrt(np.clip(np.nan_to_num(level), 0.0, None))


def residual_scale(errors: np.ndarray, level: np.ndarray, dof: np.ndarray | int = 0) -> np.ndarray:
    """(n,) RMS of the NaN-padded in-sample errors per row, or fallback_scale where fewer than 2 errors exist."""
    count = np.sum(~np.isnan(errors), axis=1)
    sse = np.nansum(errors**2, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt(sse / np.maximum(count - dof, 1))
    return np.where(count >= 2, sigma, fallback_scale(level))


def iid_psi(n: int, h: int) -> np.ndarray:
    psi = np.zeros((n, h))
    psi[:, 0] = 1.0
    return psi


def impute_missing(values: np.ndarray, season_length: int) -> np.ndarray:
    """Interior NaN filled for models that need a complete series: the value one season earlier when there is
    one (keeps the weekly shape), otherwise linear interpolation; trailing NaN take the last observation."""
    filled = values.copy()
    missing = np.flatnonzero(np.isnan(filled))
    if missing.size == 0:
        return filled
    if season_length > 1:
        for position in missing:
            if position >= season_length and not np.isnan(filled[position - season_length]):
                filled[position] = filled[position - season_length]
    still_missing = np.isnan(filled)
    if still_missing.any():
        known = np.flatnonzero(~still_missing)
        filled[still_missing] = np.interp(np.flatnonzero(still_missing), known, filled[known])
    return filled


class StatisticalModel(LocalModel):
    """Base of the registry's models: cleaning, recorded fallback, and conversion of the law into a Forecast.

    Subclasses implement _fit(y, X) on the cleaned series (non-empty, may contain NaN), _law(h, X_future)
    returning a one-series law (see forecasting.engine.models.laws), and _apply(y, X): bring the fitted state up
    to date on a longer series with every estimated parameter (the ``_`` attributes: smoothing weights,
    component choice, orders, coefficients, residual scale) kept as it is.
    """

    name = ""
    min_observations = 1

    def __init__(self, *, season_length: int = 7, n_paths: int = 200, seed: int = 0) -> None:
        self.season_length = season_length
        self.n_paths = n_paths
        self.seed = seed

    def fit(self, y: np.ndarray, X: np.ndarray | None = None) -> StatisticalModel:
        raw = np.asarray(y, dtype=np.float64).reshape(-1)
        self.y_ = clean_series(raw)
        self.fallback_ = None
        self.error_ = None
        exog = None
        if X is not None:
            exog = np.asarray(X, dtype=np.float64)
            exog = exog.reshape(len(raw), -1)[len(raw) - len(self.y_) :]
        observed = int(np.sum(~np.isnan(self.y_)))
        if observed < self.min_observations:
            self._use_fallback(f"{observed} observations, {self.name} needs {self.min_observations}")
            return self
        try:
            with np.errstate(all="ignore"):
                self._fit(self.y_, exog)
        except Exception as error:  # a model failing on one series must degrade to the recorded fallback
            self._use_fallback(f"{type(error).__name__}: {error}")
        return self

    def apply(self, y: np.ndarray, X: np.ndarray | None = None) -> StatisticalModel:
        """A copy of this fitted model run over y (the same series, observed for longer) without re-estimation.

        The parameters estimated by fit are kept; only the state the forecast starts from (levels, seasonal
        states, ARIMA filter state, last values) is recomputed from y. A model that has no estimated parameters
        to keep (it fell back) is fitted afresh on y; this model is left unchanged.
        """
        if self.fallback_ is not None:
            return copy.copy(self).fit(y, X)
        applied = copy.copy(self)
        raw = np.asarray(y, dtype=np.float64).reshape(-1)
        applied.y_ = clean_series(raw)
        exog = None
        if X is not None:
            exog = np.asarray(X, dtype=np.float64).reshape(len(raw), -1)[len(raw) - len(applied.y_) :]
        observed = int(np.sum(~np.isnan(applied.y_)))
        if observed < self.min_observations:
            applied._use_fallback(f"{observed} observations, {self.name} needs {self.min_observations}")
            return applied
        try:
            with np.errstate(all="ignore"):
                applied._apply(applied.y_, exog)
        except Exception as error:  # same rule as in fit: record and fall back
            applied._use_fallback(f"{type(error).__name__}: {error}")
        return applied

    def predict(
        self, h: int, X_future: np.ndarray | None = None, quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    ) -> Forecast:
        law = None
        if self.fallback_ is None:
            try:
                with np.errstate(all="ignore"):
                    law = self._law(h, X_future)
                if not law_is_finite(law)[0]:
                    raise FloatingPointError("non-finite forecast")
            except Exception as error:  # same rule as in fit: record and fall back
                self._use_fallback(f"{type(error).__name__}: {error}")
                law = None
        if law is None:
            law = self.fallback_._law(h, None)
        forecast = forecasts_from_law(
            law, series_values=[self.y_], quantiles=quantiles, n_paths=self.n_paths, seed=self.seed
        )[0]
        forecast.info["model"] = self.name
        if self.fallback_ is not None:
            forecast.info["fallback"] = self.fallback_.name
            forecast.info["error"] = self.error_
        return forecast

    def _use_fallback(self, error: str) -> None:
        from forecasting.engine.models.baseline import SeasonalNaive

        self.error_ = error
        self.fallback_ = SeasonalNaive(season_length=self.season_length, n_paths=self.n_paths, seed=self.seed)
        self.fallback_.y_ = self.y_
        self.fallback_._fit(self.y_, None)

    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:
        raise NotImplementedError

    def _apply(self, y: np.ndarray, X: np.ndarray | None) -> None:
        raise NotImplementedError

    def _law(self, h: int, X_future: np.ndarray | None) -> Law:
        raise NotImplementedError


class PanelModel(StatisticalModel):
    """A cheap model whose fit and law are numpy kernels over a whole (n, T) NaN-padded panel.

    fit_panel(panel) returns the fitted state as a dict of arrays with one row per series; law_panel(state, h)
    returns the law of all series. The one-series model runs the same kernels on a one-row panel, so the
    vectorised panel forecast equals the series-by-series loop.

    ``parameters`` names the state arrays that fit_panel estimates; apply_panel(state, panel) reads only those
    from ``state`` (rows aligned with ``panel``) and returns the state of ``panel`` with them kept.
    """

    parameters: tuple[str, ...] = ()

    def fit_panel(self, panel: np.ndarray) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def apply_panel(self, state: dict[str, np.ndarray], panel: np.ndarray) -> dict[str, np.ndarray]:
        """The state of `panel` with the parameters of `state` kept; this base version serves models that
        estimate nothing (their fit is a pure function of the data)."""
        if self.parameters:
            raise NotImplementedError(f"{self.name} estimates {', '.join(self.parameters)}; it must keep them")
        return self.fit_panel(panel)

    def law_panel(self, state: dict[str, np.ndarray], h: int) -> Law:
        raise NotImplementedError

    def _fit(self, y: np.ndarray, X: np.ndarray | None) -> None:
        self.state_ = self.fit_panel(to_panel([y]))

    def _apply(self, y: np.ndarray, X: np.ndarray | None) -> None:
        self.state_ = self.apply_panel(self.state_, to_panel([y]))

    def _law(self, h: int, X_future: np.ndarray | None) -> Law:
        return self.law_panel(self.state_, h)


def stack_parameters(rows: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Per-series parameter rows (scalars or 1-D arrays) stacked into state arrays; 1-D rows of different lengths
    are padded on the right with NaN."""
    stacked = {}
    for key in rows[0] if rows else ():
        values = [np.atleast_1d(np.asarray(row[key], dtype=np.float64)) for row in rows]
        if np.ndim(rows[0][key]) == 0:
            stacked[key] = np.concatenate(values)
            continue
        width = max(len(value) for value in values)
        matrix = np.full((len(values), width), np.nan)
        for index, value in enumerate(values):
            matrix[index, : len(value)] = value
        stacked[key] = matrix
    return stacked


def state_infos(state: dict[str, np.ndarray], keys: tuple[str, ...]) -> list[dict]:
    """Per-series info dicts (plain floats) from the named state arrays."""
    n = len(next(iter(state.values())))
    return [{key: float(state[key][row]) for key in keys} for row in range(n)]
