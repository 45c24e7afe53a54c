"""Rolling-origin backtests that emit the long table unique_id, cutoff, ds, y, model, mean, q<level>.

Cutoffs are placed as statsforecast's ``cross_validation(h, n_windows, step_size)`` places them: the last
window ends on the panel's last date, and each earlier cutoff lies ``step`` periods before the next one, so the
cutoff of window i (0-based, oldest first) is ``last - (h + (n_windows - 1 - i) * step)`` periods. Every model
is called at every cutoff with the data up to and including it; the statistical models refit there
(statsforecast's ``refit=True``), while a forecaster that keeps state between calls may fit once and only update
its context (the benchmark's neural adaptor trains at the first cutoff: ``refit=False``). A forecaster with the
attribute ``takes_cutoff_date = True`` is also given the cutoff's date as ``end=`` (calendar features).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.engine.base import DEFAULT_QUANTILES, Forecast
from forecasting.engine.metrics import quantile_column

# series, horizon, quantile levels, X per series (or None), X_future per series (or None) -> one Forecast each
PanelForecaster = Callable[
    [list[np.ndarray], int, tuple[float, ...], list[np.ndarray] | None, list[np.ndarray] | None], list[Forecast]
]


def cutoff_positions(length: int, *, horizon: int, n_windows: int, step: int) -> list[int]:
    """0-based positions (on a grid of ``length`` periods) of the last training period of each window, oldest first."""
    if horizon < 1 or n_windows < 1 or step < 1:
        raise ValueError("horizon, n_windows and step must be positive")
    positions = [length - 1 - horizon - (n_windows - 1 - window) * step for window in range(n_windows)]
    if positions[0] < 0:
        raise ValueError(
            f"{n_windows} windows of {horizon} periods every {step} need more than {length} periods of history"
        )
    return positions


def period_of(freq: str) -> pd.DateOffset | pd.Timedelta:
    """One period of a frequency; weeks are 7 days whatever weekday the data ends on."""
    code = freq.upper()
    if code == "D":
        return pd.Timedelta(days=1)
    if code.startswith("W"):
        return pd.Timedelta(days=7)
    return pd.tseries.frequencies.to_offset(freq)


def cutoff_dates(last_date: pd.Timestamp, *, horizon: int, n_windows: int, step: int, freq: str) -> list[pd.Timestamp]:
    """The cutoff dates statsforecast's cross_validation(h, n_windows, step_size) uses for a panel ending last_date."""
    period = period_of(freq)
    last = horizon + (n_windows - 1) * step
    positions = cutoff_positions(last + 1, horizon=horizon, n_windows=n_windows, step=step)
    return [pd.Timestamp(last_date - (last - position) * period) for position in positions]


@dataclass(frozen=True)
class DensePanel:
    """A long table laid on its regular date grid: values (n_series, T) with NaN where a series has no row."""

    ids: np.ndarray
    dates: pd.DatetimeIndex
    values: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    covariates: dict[str, np.ndarray] = field(default_factory=dict)

    def history(self, row: int, cutoff: int) -> np.ndarray:
        return self.values[row, self.starts[row] : cutoff + 1]

    def covariate_block(self, names: Sequence[str], row: int, first: int, last: int) -> np.ndarray:
        return np.column_stack([self.covariates[name][row, first:last] for name in names])


def dense_panel(long_df: pd.DataFrame, *, freq: str, covariates: Sequence[str] = ()) -> DensePanel:
    """Lay a long table (unique_id, ds, y[, covariates]) on one regular grid that ends on its last date."""
    period = period_of(freq)
    last = pd.Timestamp(long_df["ds"].max())
    first = pd.Timestamp(long_df["ds"].min())
    if isinstance(period, pd.Timedelta):
        dates = pd.date_range(end=last, periods=(last - first) // period + 1, freq=period)
    else:
        dates = pd.date_range(start=first, end=last, freq=period)
    ids, id_positions = np.unique(long_df["unique_id"].astype(str).to_numpy(), return_inverse=True)
    date_positions = dates.get_indexer(pd.DatetimeIndex(long_df["ds"]))
    if (date_positions < 0).any():
        raise ValueError(
            f"dates off the {freq} grid ending {last.date()}, e.g. {long_df['ds'][date_positions < 0].iloc[0]}"
        )
    shape = (len(ids), len(dates))
    values = np.full(shape, np.nan)
    values[id_positions, date_positions] = long_df["y"].to_numpy(dtype=float)
    starts = np.full(len(ids), len(dates), dtype=int)
    np.minimum.at(starts, id_positions, date_positions)
    ends = np.full(len(ids), -1, dtype=int)
    np.maximum.at(ends, id_positions, date_positions)
    covariate_values = {}
    for name in covariates:
        matrix = np.full(shape, np.nan)
        matrix[id_positions, date_positions] = long_df[name].to_numpy(dtype=float)
        # a covariate is known in the future; fill holes so that models never see NaN regressors
        covariate_values[name] = pd.DataFrame(matrix).ffill(axis=1).bfill(axis=1).fillna(0.0).to_numpy()
    return DensePanel(ids, dates, values, starts, ends, covariate_values)


@dataclass
class BacktestRun:
    """The long table of one backtest and what it cost."""

    table: pd.DataFrame
    seconds: dict[str, float]
    failures: dict[str, int]
    forecasts: int


def rolling_origin(
    long_df: pd.DataFrame,
    forecasters: Mapping[str, PanelForecaster],
    *,
    horizon: int,
    n_windows: int,
    step: int,
    freq: str = "D",
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    covariates: Sequence[str] = (),
    min_train: int = 1,
    progress: Callable[[str, int], None] | None = None,
) -> BacktestRun:
    """Backtest every forecaster over the same windows of a long table; rows with a missing actual are left out.

    A series takes part in a window if it has at least ``min_train`` periods up to the cutoff and at least one
    actual after it. ``failures`` counts the forecasts whose info records a fallback.
    """
    quantiles = tuple(float(level) for level in quantiles)
    panel = dense_panel(long_df, freq=freq, covariates=covariates)
    positions = cutoff_positions(len(panel.dates), horizon=horizon, n_windows=n_windows, step=step)
    frames: list[pd.DataFrame] = []
    seconds = dict.fromkeys(forecasters, 0.0)
    failures = dict.fromkeys(forecasters, 0)
    forecasts = 0
    for cutoff in positions:
        rows = np.flatnonzero((cutoff + 1 - panel.starts >= min_train) & (panel.ends > cutoff))
        if rows.size == 0:
            continue
        series = [panel.history(row, cutoff) for row in rows]
        X = X_future = None
        if covariates:
            X = [panel.covariate_block(covariates, row, panel.starts[row], cutoff + 1) for row in rows]
            X_future = [panel.covariate_block(covariates, row, cutoff + 1, cutoff + 1 + horizon) for row in rows]
        actuals = panel.values[rows, cutoff + 1 : cutoff + 1 + horizon]
        forecasts += rows.size
        for name, forecaster in forecasters.items():
            started = time.perf_counter()
            if getattr(forecaster, "takes_cutoff_date", False):
                end = np.datetime64(panel.dates[cutoff].date(), "D")
                results = forecaster(series, horizon, quantiles, X, X_future, end=end)
            else:
                results = forecaster(series, horizon, quantiles, X, X_future)
            seconds[name] += time.perf_counter() - started
            failures[name] += sum(1 for result in results if result.info.get("fallback"))
            frames.append(_window_frame(panel, rows, cutoff, horizon, actuals, name, results, quantiles))
            if progress is not None:
                progress(name, rows.size)
    table = pd.concat(frames, ignore_index=True) if frames else _empty_table(quantiles)
    return BacktestRun(table=table, seconds=seconds, failures=failures, forecasts=forecasts)


def _window_frame(
    panel: DensePanel,
    rows: np.ndarray,
    cutoff: int,
    horizon: int,
    actuals: np.ndarray,
    model: str,
    results: list[Forecast],
    quantiles: tuple[float, ...],
) -> pd.DataFrame:
    means = np.vstack([result.mean[:horizon] for result in results])
    frame = {
        "unique_id": np.repeat(panel.ids[rows], horizon),
        "cutoff": np.repeat(panel.dates[cutoff], rows.size * horizon),
        "ds": np.tile(panel.dates[cutoff + 1 : cutoff + 1 + horizon], rows.size),
        "y": actuals.ravel(),
        "model": model,
        "mean": means.ravel(),
    }
    for level in quantiles:
        frame[quantile_column(level)] = np.vstack([_quantile_row(result, level, horizon) for result in results]).ravel()
    table = pd.DataFrame(frame)
    return table[table["y"].notna()]


def _quantile_row(result: Forecast, level: float, horizon: int) -> np.ndarray:
    levels = [round(float(value), 6) for value in result.quantile_levels]
    if round(level, 6) in levels:
        return result.quantiles[levels.index(round(level, 6)), :horizon]
    return np.full(horizon, np.nan)


def _empty_table(quantiles: tuple[float, ...]) -> pd.DataFrame:
    columns = ["unique_id", "cutoff", "ds", "y", "model", "mean", *(quantile_column(level) for level in quantiles)]
    return pd.DataFrame(columns=columns)
