"""The engine contract (DESIGN.md): Forecast, local and panel models.

Pure numpy; no Django, no Celery. Hyper-parameters are keyword arguments of __init__, which stores them
and does nothing else; fit(y, X=None) returns self; fitted state ends with "_"; predict(h, X_future=None,
quantiles=...) returns a Forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

DEFAULT_QUANTILES: tuple[float, ...] = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class Forecast:
    """One series' forecast over h steps.

    mean: (h,); quantiles: (q, h) at quantile_levels (ascending); paths: (n, h) sample paths or None.
    Quantiles of cumulative demand come from paths (or an analytic law), never from summed daily quantiles.
    """

    mean: np.ndarray
    quantile_levels: tuple[float, ...]
    quantiles: np.ndarray
    paths: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    @property
    def horizon(self) -> int:
        return int(self.mean.shape[0])

    def cumulative_quantiles(self, levels: tuple[float, ...] | None = None) -> np.ndarray:
        """(q, h): quantiles of demand summed over days 1..k, for each k, computed from sample paths."""
        if self.paths is None:
            raise ValueError("this forecast has no sample paths; cumulative quantiles need them")
        levels = tuple(levels or self.quantile_levels)
        return np.quantile(np.cumsum(self.paths, axis=1), levels, axis=0)


class LocalModel:
    """A model fitted on one series at a time."""

    name: str = ""

    def fit(self, y: np.ndarray, X: np.ndarray | None = None) -> LocalModel:
        raise NotImplementedError

    def predict(
        self, h: int, X_future: np.ndarray | None = None, quantiles: tuple[float, ...] = DEFAULT_QUANTILES
    ) -> Forecast:
        raise NotImplementedError

    def get_params(self) -> dict:
        return {key: value for key, value in vars(self).items() if not key.endswith("_")}


class GlobalModel:
    """A model fitted across a panel of series (the neural tier), then asked to forecast any subset of it.

    fit(series, X=None, end=None) learns from every series at once; predict(h, series, X=None, X_future=None,
    quantiles=..., end=None) forecasts each given context (a series up to its forecast origin), which may be the
    training series, later data of the same series, or series never seen in training. The series of one call end
    on the same date, ``end`` when the caller knows it (calendar features then come from real dates).
    X / X_future hold known-future covariates per series: len(series[i]) rows and h rows.
    """

    name: str = ""

    def fit(
        self,
        series: Sequence[np.ndarray],
        X: Sequence[np.ndarray] | None = None,
        end: np.datetime64 | None = None,
    ) -> GlobalModel:
        raise NotImplementedError

    def predict(
        self,
        h: int,
        series: Sequence[np.ndarray],
        X: Sequence[np.ndarray] | None = None,
        X_future: Sequence[np.ndarray] | None = None,
        quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
        end: np.datetime64 | None = None,
    ) -> list[Forecast]:
        raise NotImplementedError

    def get_params(self) -> dict:
        return {key: value for key, value in vars(self).items() if not key.endswith("_")}


def quantile_function(grid: np.ndarray, levels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """(n, h) values at ``probabilities`` (n, h) of the h per-step quantile functions known on ``grid`` (q, h) at
    ascending ``levels`` (q,): linear between levels, the end values beyond them (np.interp's rule, every step
    at once). With probabilities a column of levels repeated it reads quantiles; with uniforms, it draws."""
    levels = np.asarray(levels, dtype=np.float64)
    if len(levels) == 1:
        return np.broadcast_to(grid[0], np.shape(probabilities)).astype(np.float64)
    clipped = np.clip(probabilities, levels[0], levels[-1])
    upper = np.clip(np.searchsorted(levels, clipped, side="right"), 1, len(levels) - 1)
    lower = upper - 1
    span = levels[upper] - levels[lower]
    weight = np.where(span > 0, (clipped - levels[lower]) / np.where(span > 0, span, 1.0), 0.0)
    steps = np.arange(grid.shape[1])
    return grid[lower, steps] * (1.0 - weight) + grid[upper, steps] * weight
