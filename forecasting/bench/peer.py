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
    # AutoARIMA last: it is by far the slowest, and the others do not wait for it
    return {
        "sf_SeasonalNaive": SeasonalNaive(season_length=season_length),
        "sf_AutoETS": AutoETS(season_length=season_length),
        "sf_AutoTheta": AutoTheta(season_length=season_length),
        "sf_AutoCES": AutoCES(season_length=season_length),
        "sf_DynamicOptimizedTheta": DynamicOptimizedTheta(season_length=season_length),
        "sf_CrostonSBA": CrostonSBA(prediction_intervals=conformal),
        "sf_TSB": TSB(alpha_d=0.2, alpha_p=0.2, prediction_intervals=conformal),
        "sf_AutoARIMA": AutoARIMA(season_length=season_length),
    }


INTERVAL_NOTES = {
    "sf_CrostonSBA": "conformal (statsforecast ConformalIntervals, 2 windows)",
    "sf_TSB": "conformal (statsforecast ConformalIntervals, 2 windows)",
}


class StatsForecastPeer:
    """A PanelForecaster that runs one statsforecast model over a list of series (refitted at every call).

    statsforecast fails a whole batch when one series cannot be fitted; the batch is then rerun series by series
    and the series that still fail get statsforecast's SeasonalNaive, recorded as a fallback.
    """

    def __init__(self, model: object, *, season_length: int, threads: int = 2) -> None:
        self.model = model
        self.season_length = season_length
        self.threads = threads

    def __call__(
        self,
        series: list[np.ndarray],
        horizon: int,
        quantiles: tuple[float, ...],
        X: list[np.ndarray] | None = None,
        X_future: list[np.ndarray] | None = None,
    ) -> list[Forecast]:
        try:
            bounds, fell_back = self._forecast(self.model, series, horizon, self.threads), np.zeros(len(series), bool)
        except Exception:  # one unfittable series sinks statsforecast's batch: isolate it
            parts, failed = [], []
            for values in series:
                try:
                    parts.append(self._forecast(self.model, [values], horizon, 1))
                    failed.append(False)
                except Exception:
                    parts.append(self._forecast(self._fallback(), [values], horizon, 1))
                    failed.append(True)
            bounds = {key: np.vstack([part[key] for part in parts]) for key in parts[0]}
            fell_back = np.array(failed)
        results = []
        for row in range(len(series)):
            rows = [bounds.get(level, bounds["mean"] if level == 0.5 else None) for level in quantiles]
            stacked = np.vstack([values[row] if values is not None else np.full(horizon, np.nan) for values in rows])
            info = {"fallback": "SeasonalNaive"} if fell_back[row] else {}
            results.append(Forecast(bounds["mean"][row], tuple(quantiles), stacked, info=info))
        return results

    def _fallback(self) -> object:
        from statsforecast.models import SeasonalNaive

        return SeasonalNaive(season_length=self.season_length)

    @staticmethod
    def _forecast(model: object, series: list[np.ndarray], horizon: int, threads: int) -> dict:
        """{"mean": (n, h), 0.1: (n, h), 0.9: (n, h)} clipped at 0; the bounds are absent without intervals."""
        from statsforecast import StatsForecast

        lengths = np.array([len(values) for values in series])
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(np.arange(len(series)), lengths),
                "ds": np.concatenate([np.arange(length) for length in lengths]),
                "y": np.nan_to_num(np.concatenate(series), nan=0.0),
            }
        )
        engine = StatsForecast(models=[model], freq=1, n_jobs=threads)
        alias = getattr(model, "alias", type(model).__name__)
        try:
            predicted = engine.forecast(df=frame, h=horizon, level=[80])
            has_bounds = True
        except ValueError:
            # conformal intervals need more history than some series have: point forecasts only
            predicted = engine.forecast(df=frame, h=horizon)
            has_bounds = False
        predicted = predicted.sort_values(["unique_id", "ds"])

        def column(name: str) -> np.ndarray:
            return np.clip(predicted[name].to_numpy(dtype=float).reshape(len(series), horizon), 0, None)

        result = {"mean": column(alias)}
        if has_bounds:
            result[0.1] = column(f"{alias}-lo-80")
            result[0.9] = column(f"{alias}-hi-80")
        return result


def median_ensemble(table: pd.DataFrame, members: Sequence[str], *, name: str = ENSEMBLE_NAME) -> pd.DataFrame:
    """Nixtla's statistical ensemble: the per-row median of the members' mean and quantile columns."""
    value_columns = ["mean", *(column for column in table.columns if column.startswith("q"))]
    keys = ["unique_id", "cutoff", "ds", "y"]
    part = table[table["model"].isin(members)]
    ensemble = part.groupby(keys, sort=False)[value_columns].median().reset_index()
    counts = part.groupby(keys, sort=False).size().to_numpy()
    ensemble = ensemble[counts == len(members)]
    return ensemble.assign(model=name)[["unique_id", "cutoff", "ds", "y", "model", *value_columns]]


def arima_subsample(ids: np.ndarray, *, size: int = ARIMA_SUBSAMPLE, seed: int) -> np.ndarray:
    """The series AutoARIMA runs on when the panel has more than `size` (seeded, reproducible)."""
    if len(ids) <= size:
        return np.asarray(ids)
    generator = np.random.default_rng(seed)
    return np.sort(generator.choice(np.asarray(ids), size=size, replace=False))


def set_single_threaded_numerics() -> None:
    """One BLAS thread per process, so that --threads alone decides how many cores a run uses."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
