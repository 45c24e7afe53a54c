"""A panel whose demand triples on promoted days, and the lift a model forecasts on given days: shared by the
covariate tests of the neural models."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecasting.engine.base import Forecast


def promotion_panel(n_series: int = 16, length: int = 150, seed: int = 1) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Poisson counts whose rate is tripled on days flagged as promoted (15% of days at random)."""
    rng = np.random.default_rng(seed)
    series, covariates = [], []
    for _ in range(n_series):
        flags = (rng.random(length) < 0.15).astype(float)
        level = rng.uniform(3.0, 20.0)
        series.append(rng.poisson(level * np.where(flags == 1.0, 3.0, 1.0)).astype(float))
        covariates.append(flags[:, None])
    return series, covariates


def mean_ratios(numerators: Sequence[Forecast], denominators: Sequence[Forecast], days) -> np.ndarray:
    """Per series, the forecast mean summed over ``days`` of one set of forecasts over the other's."""
    return np.array([a.mean[days].sum() / b.mean[days].sum() for a, b in zip(numerators, denominators, strict=True)])


def forecasts_with_and_without_promotion(model, series, flags, horizon: int, days) -> tuple[list, list]:
    """The model's forecasts of the panel with ``days`` of the horizon promoted, and with none promoted."""
    promotion = np.zeros((horizon, 1))
    promotion[days] = 1.0
    quiet = np.zeros((horizon, 1))
    return (
        model.predict(horizon, series, flags, [promotion] * len(series)),
        model.predict(horizon, series, flags, [quiet] * len(series)),
    )
