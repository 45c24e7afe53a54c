"""Forecast a whole panel of series with one registry model.

forecast_panel(name, series, h, ...) returns one Forecast per series, in order. The cheap models
(registry.VECTORISED_MODEL_NAMES: naive, seasonal_naive, historic_average, moving_average, ses, croston, sba,
tsb, adida, imapa) are fitted for all series at once by numpy kernels on a NaN-left-padded (n, T) array; the
others are fitted series by series, in a pool of `threads` threads when threads > 1 (the compiled statsforecast
fits hold the GIL for much of their time, so the scalable parallelism is the caller's fan-out of SKU chunks to
worker processes, as the Celery pipeline does). Results equal the series-by-series loop
of make_model(name).fit(y).predict(h) (same seeds, same fallbacks).

Nothing raises out of forecast_panel for a bad series: a series on which the model fails, or whose forecast is
not finite, gets the seasonal naive forecast with info["fallback"] = "seasonal_naive" and info["error"].
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from forecasting.engine.base import DEFAULT_QUANTILES, Forecast
from forecasting.engine.models.baseline import SeasonalNaive
from forecasting.engine.models.common import PanelModel, clean_series, to_panel
from forecasting.engine.models.laws import forecasts_from_law, law_is_finite
from forecasting.engine.registry import make_model


def forecast_panel(
    name: str,
    series: list[np.ndarray],
    h: int,
    *,
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    season_length: int = 7,
    X: list[np.ndarray] | None = None,
    X_future: list[np.ndarray] | None = None,
    n_paths: int = 200,
    seed: int = 0,
    threads: int = 1,
    **params,
) -> list[Forecast]:
    """One Forecast per series of `series` (1-D float arrays, NaN allowed, any lengths).

    X / X_future: per series exogenous regressors (len(y) rows / h rows), used by arima and sarima.
    n_paths: sample paths per forecast (0 for none); seed: base seed of every series' random numbers.
    Unknown model names raise KeyError (a caller error, not a data error).
    """
    settings = {"season_length": season_length, "n_paths": n_paths, "seed": seed, **params}
    model = make_model(name, **settings)
    if isinstance(model, PanelModel) and X is None:
        return _forecast_vectorised(model, name, series, h, quantiles, settings)
    tasks = [
        (values, X[index] if X is not None else None, X_future[index] if X_future is not None else None)
        for index, values in enumerate(series)
    ]

    def run(task: tuple[np.ndarray, np.ndarray | None, np.ndarray | None]) -> Forecast:
        values, exogenous, exogenous_future = task
        return _forecast_one(name, values, h, quantiles, settings, exogenous, exogenous_future)

    if threads > 1 and len(tasks) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(run, tasks))
    return [run(task) for task in tasks]


def _forecast_one(
    name: str,
    values: np.ndarray,
    h: int,
    quantiles: tuple[float, ...],
    settings: dict,
    exogenous: np.ndarray | None = None,
    exogenous_future: np.ndarray | None = None,
) -> Forecast:
    try:
        return make_model(name, **settings).fit(values, exogenous).predict(h, exogenous_future, quantiles)
    except Exception as error:  # the model's own fallback failed too; seasonal naive cannot fail on clean input
        fallback = SeasonalNaive(
            season_length=settings["season_length"], n_paths=settings["n_paths"], seed=settings["seed"]
        )
        forecast = fallback.fit(values).predict(h, quantiles=quantiles)
        forecast.info.update(model=name, fallback=fallback.name, error=f"{type(error).__name__}: {error}")
        return forecast


def _forecast_vectorised(
    model: PanelModel, name: str, series: list[np.ndarray], h: int, quantiles: tuple[float, ...], settings: dict
) -> list[Forecast]:
    cleaned = [clean_series(values) for values in series]
    enough = [int(np.sum(~np.isnan(values))) >= model.min_observations for values in cleaned]
    rows = [index for index, ok in enumerate(enough) if ok]
    results: list[Forecast | None] = [None] * len(series)
    if rows:
        try:
            with np.errstate(all="ignore"):
                law = model.law_panel(model.fit_panel(to_panel([cleaned[index] for index in rows])), h)
                finite = law_is_finite(law)
                forecasts = forecasts_from_law(
                    law,
                    series_values=[cleaned[index] for index in rows],
                    quantiles=quantiles,
                    n_paths=settings["n_paths"],
                    seed=settings["seed"],
                )
        except Exception:  # a kernel failure must not sink the panel: every series goes the one-by-one way
            finite = np.zeros(len(rows), dtype=bool)
            forecasts = [None] * len(rows)
        for position, index in enumerate(rows):
            if finite[position]:
                forecasts[position].info["model"] = name
                results[index] = forecasts[position]
    for index, forecast in enumerate(results):
        if forecast is None:
            results[index] = _forecast_one(name, series[index], h, quantiles, settings)
    return results
