"""statsforecast as the peer: the same windows, forecasts and metrics as our models.

Each statsforecast model becomes a PanelForecaster, so the backtest places its cutoffs and picks its series
exactly as for ours. Quantiles 0.1/0.9 are the bounds of statsforecast's 80 % prediction interval
(``level=[80]``) and q0.5 is its point forecast; CrostonSBA and TSB have no intervals of their own, so they get
statsforecast's conformal intervals (``ConformalIntervals(h, n_windows=2)``), or none on panels too short for it.
All peer forecasts are clipped at zero, as ours are: demand is never negative and the comparison should not
reward us for a step every user would take.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.engine.base import Forecast

ENSEMBLE_MEMBERS = ("AutoETS", "AutoTheta", "AutoCES", "DynamicOptimizedTheta")
ENSEMBLE_NAME = "sf_ensemble"
ARIMA_SUBSAMPLE = 300


def peer_models(*, season_length: int, horizon: int) -> dict[str, object]:
    """statsforecast models by the name they carry in our tables (prefixed sf_)."""
    from statsforecast.models import (
        TSB,
        AutoARIMA,
        AutoCES,
        AutoETS,
        AutoTheta,
        CrostonSBA,
        DynamicOptimizedTheta,
        SeasonalNaive,
    )
    from statsforecast.utils import ConformalIntervals

    conformal = ConformalIntervals(h=horizon, n_windows=2)
    return {
        "sf_SeasonalNaive": SeasonalNaive(season_length=season_length),
        "sf_AutoETS": AutoETS(season_length=season_length),
        "sf_AutoTheta": AutoTheta(season_length=season_length),
        "sf_AutoARIMA": AutoARIMA(season_length=season_length),
        "sf_AutoCES": AutoCES(season_length=season_length),
        "sf_DynamicOptimizedTheta": DynamicOptimizedTheta(season_length=season_length),
        "sf_CrostonSBA": CrostonSBA(prediction_intervals=conformal),
        "sf_TSB": TSB(alpha_d=0.2, alpha_p=0.2, prediction_intervals=conformal),
    }


INTERVAL_NOTES = {
    "sf_CrostonSBA": "conformal (statsforecast ConformalIntervals, 2 windows)",
    "sf_TSB": "conformal (statsforecast ConformalIntervals, 2 windows)",
}


class StatsForecastPeer:
    """A PanelForecaster that runs one statsforecast model over a list of series (refitted at every call)."""

    def __init__(self, model: object, *, threads: int = 2) -> None:
        self.model = model
        self.threads = threads

    def __call__(
        self,
        series: list[np.ndarray],
        horizon: int,
        quantiles: tuple[float, ...],
        X: list[np.ndarray] | None = None,
        X_future: list[np.ndarray] | None = None,
    ) -> list[Forecast]:
        from statsforecast import StatsForecast

        lengths = np.array([len(values) for values in series])
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(np.arange(len(series)), lengths),
                "ds": np.concatenate([np.arange(length) for length in lengths]),
                "y": np.nan_to_num(np.concatenate(series), nan=0.0),
            }
        )
        engine = StatsForecast(models=[self.model], freq=1, n_jobs=self.threads)
        alias = getattr(self.model, "alias", type(self.model).__name__)
        try:
            predicted = engine.forecast(df=frame, h=horizon, level=[80])
            lower, upper = f"{alias}-lo-80", f"{alias}-hi-80"
        except Exception:
            # conformal intervals need more history than some series have: point forecasts only
            predicted = engine.forecast(df=frame, h=horizon)
            lower = upper = None
        predicted = predicted.sort_values(["unique_id", "ds"])
        means = np.clip(predicted[alias].to_numpy(dtype=float).reshape(len(series), horizon), 0, None)
        bounds = {}
        if lower is not None:
            bounds[0.1] = np.clip(predicted[lower].to_numpy(dtype=float).reshape(len(series), horizon), 0, None)
            bounds[0.9] = np.clip(predicted[upper].to_numpy(dtype=float).reshape(len(series), horizon), 0, None)
        results = []
        for row in range(len(series)):
            rows = []
            for level in quantiles:
                if level == 0.5:
                    rows.append(means[row])
                elif level in bounds:
                    rows.append(bounds[level][row])
                else:
                    rows.append(np.full(horizon, np.nan))
            results.append(Forecast(means[row], tuple(quantiles), np.vstack(rows)))
        return results


def median_ensemble(table: pd.DataFrame, members: Sequence[str], *, name: str = ENSEMBLE_NAME) -> pd.DataFrame:
    """Nixtla's statistical ensemble: the per-row median of the members' mean and quantile columns."""
    value_columns = ["mean", *(column for column in table.columns if column.startswith("q"))]
    keys = ["unique_id", "cutoff", "ds", "y"]
    part = table[table["model"].isin(members)]
    ensemble = part.groupby(keys, sort=False)[value_columns].median().reset_index()
    counts = part.groupby(keys, sort=False).size().to_numpy()
    ensemble = ensemble[counts == len(members)]
    return ensemble.assign(model=name)[["unique_id", "cutoff", "ds", "y", "model", *value_columns]]


def arima_subsample(ids: np.ndarray, *, seed: int) -> np.ndarray:
    """The series AutoARIMA runs on when the panel is larger than ARIMA_SUBSAMPLE (seeded, reproducible)."""
    if len(ids) <= ARIMA_SUBSAMPLE:
        return np.asarray(ids)
    generator = np.random.default_rng(seed)
    return np.sort(generator.choice(np.asarray(ids), size=ARIMA_SUBSAMPLE, replace=False))


def set_single_threaded_numerics() -> None:
    """One BLAS thread per process, so that --threads alone decides how many cores a run uses."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
