"""Explanations for the UI: a series' trend / seasonal / remainder decomposition and a model's parameters.

decompose_series uses STL (one season length) or MSTL (several; a yearly cycle is added for daily data with
two full years), on the cleaned series with missing days imputed (see models.common). A series too short for
two cycles of any season gets trend = the series, no seasonal component and a zero remainder.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forecasting.engine.models.common import clean_series, impute_missing
from forecasting.engine.models.mstl import decompose_series as mstl_components
from forecasting.engine.models.mstl import season_lengths_for
from forecasting.engine.registry import make_model


@dataclass(frozen=True)
class Decomposition:
    """Arrays aligned with the cleaned series (leading missing days dropped): observed has NaN where the day
    was missing (imputed for the decomposition), seasonal maps each season length to its component."""

    observed: np.ndarray
    trend: np.ndarray
    seasonal: dict[int, np.ndarray]
    remainder: np.ndarray

    def as_dict(self) -> dict:
        """Plain lists (NaN as None) for JSON and charts."""

        def plain(values: np.ndarray) -> list[float | None]:
            return [None if np.isnan(value) else float(value) for value in values]

        return {
            "observed": plain(self.observed),
            "trend": plain(self.trend),
            "seasonal": {str(period): plain(values) for period, values in self.seasonal.items()},
            "remainder": plain(self.remainder),
        }


@dataclass(frozen=True)
class Explanation:
    model: str
    decomposition: Decomposition
    parameters: dict = field(default_factory=dict)


def decompose_series(
    y: np.ndarray, *, season_length: int = 7, season_lengths: tuple[int, ...] | None = None
) -> Decomposition:
    observed = clean_series(y)
    if observed.size == 0 or np.isnan(observed).all():
        return Decomposition(observed=observed, trend=observed.copy(), seasonal={}, remainder=observed.copy())
    values = impute_missing(observed, season_length)
    periods = season_lengths_for(len(values), season_length, season_lengths)
    parts = mstl_components(values, periods)
    return Decomposition(
        observed=observed,
        trend=parts["trend"],
        seasonal={period: parts[f"seasonal{period}"] for period in periods},
        remainder=parts["remainder"],
    )


def explain_series(y: np.ndarray, model: str, *, season_length: int = 7, **params) -> Explanation:
    """The decomposition of y and the fitted parameters of registry model `model` on it (the Forecast.info of a
    one-step forecast: alpha, beta, phi, orders, AICc, fallback...)."""
    forecast = make_model(model, season_length=season_length, n_paths=0, **params).fit(y).predict(1)
    return Explanation(
        model=model,
        decomposition=decompose_series(y, season_length=season_length),
        parameters=dict(forecast.info),
    )
