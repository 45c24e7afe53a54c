"""Rolling-origin backtests that emit the long table unique_id, cutoff, ds, y, model, mean, q<level>.

Cutoffs are placed as statsforecast's ``cross_validation(h, n_windows, step_size)`` places them: the last
window ends on the panel's last date, and each earlier cutoff lies ``step`` periods before the next one, so the
cutoff of window i (0-based, oldest first) is ``last - (h + (n_windows - 1 - i) * step)`` periods. Every model
is called at every cutoff with the data up to and including it. ``refit`` works as statsforecast's: True
re-estimates the models at every cutoff, False only at the first, an integer n at windows 0, n, 2n, ...; between
those, a forecaster with ``takes_refit = True`` (RegistryForecaster) keeps each series' estimated parameters
and only runs the model's filter over the longer history (see StatisticalModel.apply). Other forecasters decide
for themselves (auto re-selects and refits at every cutoff; the benchmark's neural adaptor trains once unless
told otherwise). A forecaster with ``takes_cutoff_date = True`` is also given the cutoff's date as ``end=``
(calendar features).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.engine.base import DEFAULT_QUANTILES, Forecast
from forecasting.engine.metrics import quantile_column
from forecasting.engine.models.baseline import SeasonalNaive
from forecasting.engine.models.common import PanelModel, StatisticalModel, clean_series, stack_parameters, to_panel
from forecasting.engine.models.laws import forecasts_from_law, law_is_finite
from forecasting.engine.registry import make_model

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


def refits_at(window: int, refit: bool | int) -> bool:
    """Whether the models are re-estimated at window `window` (0-based) under statsforecast's refit rule."""
    if isinstance(refit, bool):
        return refit or window == 0
    if refit < 1:
        raise ValueError(f"refit must be True, False or a positive number of windows, not {refit}")
    return window % refit == 0


class RegistryForecaster:
    """A registry model as a backtest forecaster that can keep each series' estimated parameters between cutoffs.

    Called with refit=True it fits every series (the forecasts equal forecasting.engine.panel.forecast_panel);
    with refit=False a series fitted at an earlier call keeps that fit's parameters and is only run over its
    longer history (apply / apply_panel, vectorised for the panel models); a series never fitted before, or
    whose earlier fit fell back, is fitted. Forecast.info["refitted"] says which happened.
    """

    takes_refit = True

    def __init__(
        self, name: str, *, season_length: int = 7, n_paths: int = 0, seed: int = 0, threads: int = 1, **params
    ) -> None:
        self.name = name
        self.settings = {"season_length": season_length, "n_paths": n_paths, "seed": seed, **params}
        self.threads = threads
        # per series id: a fitted StatisticalModel, or for a panel model the row of its estimated parameters
        self.fitted_: dict[str, StatisticalModel | dict[str, np.ndarray]] = {}

    def __call__(
        self,
        series: list[np.ndarray],
        horizon: int,
        quantiles: tuple[float, ...],
        X: list[np.ndarray] | None = None,
        X_future: list[np.ndarray] | None = None,
        *,
        ids: Sequence[str],
        refit: bool = True,
    ) -> list[Forecast]:
        model = make_model(self.name, **self.settings)
        if isinstance(model, PanelModel) and X is None:
            return self._forecast_panel(model, series, horizon, quantiles, [str(key) for key in ids], refit)
        tasks = [
            (str(ids[index]), values, None if X is None else X[index], None if X_future is None else X_future[index])
            for index, values in enumerate(series)
        ]

        def run(task: tuple[str, np.ndarray, np.ndarray | None, np.ndarray | None]) -> Forecast:
            key, values, exogenous, exogenous_future = task
            return self._forecast_one(key, values, horizon, quantiles, refit, exogenous, exogenous_future)

        if self.threads > 1 and len(tasks) > 1:
            with ThreadPoolExecutor(max_workers=self.threads) as pool:
                return list(pool.map(run, tasks))
        return [run(task) for task in tasks]

    def _forecast_one(
        self,
        key: str,
        values: np.ndarray,
        horizon: int,
        quantiles: tuple[float, ...],
        refit: bool,
        exogenous: np.ndarray | None = None,
        exogenous_future: np.ndarray | None = None,
    ) -> Forecast:
        kept = None if refit else self.fitted_.get(key)
        if not isinstance(kept, StatisticalModel) or kept.fallback_ is not None:
            kept = None
        try:
            if kept is not None:
                model = kept.apply(values, exogenous)
            else:
                model = make_model(self.name, **self.settings).fit(values, exogenous)
                self.fitted_[key] = model
            forecast = model.predict(horizon, exogenous_future, quantiles)
        except Exception as error:  # the model's own fallback failed too; seasonal naive cannot fail on clean input
            fallback = SeasonalNaive(
                season_length=self.settings["season_length"],
                n_paths=self.settings["n_paths"],
                seed=self.settings["seed"],
            )
            forecast = fallback.fit(values).predict(horizon, quantiles=quantiles)
            forecast.info.update(model=self.name, fallback=fallback.name, error=f"{type(error).__name__}: {error}")
        forecast.info["refitted"] = kept is None
        return forecast

    def _forecast_panel(
        self,
        model: PanelModel,
        series: list[np.ndarray],
        horizon: int,
        quantiles: tuple[float, ...],
        ids: list[str],
        refit: bool,
    ) -> list[Forecast]:
        cleaned = [clean_series(values) for values in series]
        enough = [int(np.sum(~np.isnan(values))) >= model.min_observations for values in cleaned]
        kept = [
            ok and not refit and isinstance(self.fitted_.get(key), dict) for key, ok in zip(ids, enough, strict=True)
        ]
        fresh = [index for index, ok in enumerate(enough) if ok and not kept[index]]
        applied = [index for index, ok in enumerate(kept) if ok]
        results: list[Forecast | None] = [None] * len(series)
        for rows, refitted in ((fresh, True), (applied, False)):
            if not rows:
                continue
            try:
                with np.errstate(all="ignore"):
                    panel = to_panel([cleaned[index] for index in rows])
                    if refitted:
                        state = model.fit_panel(panel)
                    else:
                        state = model.apply_panel(stack_parameters([self.fitted_[ids[index]] for index in rows]), panel)
                    law = model.law_panel(state, horizon)
                    finite = law_is_finite(law)
                    forecasts = forecasts_from_law(
                        law,
                        series_values=[cleaned[index] for index in rows],
                        quantiles=quantiles,
                        n_paths=self.settings["n_paths"],
                        seed=self.settings["seed"],
                    )
            except Exception:  # a kernel failure must not sink the panel: these series go the one-by-one way
                continue
            for position, index in enumerate(rows):
                if refitted:
                    self.fitted_[ids[index]] = {name: state[name][position] for name in model.parameters}
                if finite[position]:
                    forecasts[position].info.update(model=self.name, refitted=refitted)
                    results[index] = forecasts[position]
        for index, forecast in enumerate(results):
            if forecast is None:
                results[index] = self._forecast_one(ids[index], series[index], horizon, quantiles, True)
                # no parameters of the vectorised model to keep: the next call fits this series again
                self.fitted_.pop(ids[index], None)
        return results


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
    refit: bool | int = True,
    progress: Callable[[str, int], None] | None = None,
) -> BacktestRun:
    """Backtest every forecaster over the same windows of a long table; rows with a missing actual are left out.

    A series takes part in a window if it has at least ``min_train`` periods up to the cutoff and at least one
    actual after it. ``failures`` counts the forecasts whose info records a fallback. ``refit`` (True, False or
    every n windows) is passed to the forecasters that take it, per window (see refits_at).
    """
    quantiles = tuple(float(level) for level in quantiles)
    panel = dense_panel(long_df, freq=freq, covariates=covariates)
    positions = cutoff_positions(len(panel.dates), horizon=horizon, n_windows=n_windows, step=step)
    refits = [refits_at(window, refit) for window in range(len(positions))]
    frames: list[pd.DataFrame] = []
    seconds = dict.fromkeys(forecasters, 0.0)
    failures = dict.fromkeys(forecasters, 0)
    forecasts = 0
    for cutoff, refit_here in zip(positions, refits, strict=True):
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
            extra = {}
            if getattr(forecaster, "takes_cutoff_date", False):
                extra["end"] = np.datetime64(panel.dates[cutoff].date(), "D")
            if getattr(forecaster, "takes_refit", False):
                extra.update(ids=panel.ids[rows].tolist(), refit=refit_here)
            results = forecaster(series, horizon, quantiles, X, X_future, **extra)
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
