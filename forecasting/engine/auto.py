"""`auto`: per-series model selection by a rolling-origin backtest on the training data, with calibrated quantiles.

For a panel of series that end on the same date, AutoForecaster

1. classifies each series (smooth / erratic / intermittent / lumpy / new / dead, forecasting.engine.classify);
2. routes each class to its candidate models. A candidate is a registry model name, optionally with the suffix
   ``+season`` and/or ``+year``. With ``+season`` the model runs on the series divided by a multiplicative
   seasonal index (the series' own profile over the last ``seasonal_index_seasons`` seasons, shrunk towards the
   profile of the whole panel so that a SKU with twenty sales still gets the shop's weekly rhythm) and its
   forecast is multiplied back. This lets the cheap non-seasonal models (SES, Croston, TSB...) follow the weekly
   pattern of retail demand, the way statsforecast's Theta deseasonalises. Periods whose index is below
   ``closed_index`` (a shop shut on Saturdays) are treated as missing and forecast as zero. With ``+year`` the
   forecast is multiplied by the pooled yearly level factor of the whole panel passed to ``forecast``
   (forecasting.engine.yearly: last year's demand over the coming h periods / over the ``year_window`` periods
   before them, over ``year_length`` = 364 days or 52 weeks, shrunk towards 1 with ``year_prior``; 1 without a
   year + h + window of history). Each backtest window gets the factor known at its own cutoff, and a ``+year``
   variant reuses its base candidate's fit, so it costs one multiplication. No default route holds a ``+year``
   variant: on the benchmarks it lowered the bias but not the error, and it made the reorder-policy replay worse
   on its evaluation window (docs/benchmarks.md, "Yearly seasonality");
3. backtests every candidate on the last ``n_windows`` windows of ``h`` periods of the training data only, all
   series of a class in one vectorised call per candidate and window;
4. calibrates quantiles conformally on ratios actual / forecast, so that quantile = forecast x ratio quantile.
   Ratios rather than differences keep the forecast's weekly shape in the intervals and give zero-width intervals
   on closed days. ``calibration="history"`` (default) takes the ratios of each day of the last
   ``history_periods`` to the seasonally adjusted mean of the ``history_window`` days before it: a year of
   evidence per SKU, where the backtest has a few dozen points (``"backtest"`` uses the backtest's own ratios,
   ``"both"`` the union). Each row's ratio quantiles are shrunk towards the ratios pooled over its class with
   ``calibration_prior`` points of weight;
5. scores every candidate per series by the weighted quantile loss of its calibrated backtest quantiles plus its
   scaled absolute error (``selection="wql"``; ratios calibrated on the backtest itself would absorb a constant
   bias), or by absolute error only (``selection="mase"``, also used when no quantiles are asked for);
   ``selection_prior`` adds that multiple of the class's mean score, to damp noisy per-series choices. The
   forecast is the median of the ``top_k`` best candidates (default 3; 1 picks the single best);
6. refits the chosen candidates on the whole series and returns the mean, the calibrated quantiles and sample
   paths: forecast x ratios drawn from the same calibration, with the days of a path sharing a common factor
   whose weight is the equicorrelation of the backtest errors within a window (``error_correlation``), so that
   demand summed over a lead time is as uncertain as the backtest says.

A candidate that fails on a series is replaced there by seasonal naive and the fallback is recorded; a series
too short to backtest gets its class's first candidate, calibrated with the pooled ratios of its class.

Covariates (X: one row per history period, X_future: one per horizon period, columns known in advance such as
price and promotion flags) enter multiplicatively, for every candidate, the way ``+season`` does: the effects are
learnt across the whole panel (forecasting.engine.covariates: per-series effects shrunk towards the pooled ones),
each series' history is divided by its fitted covariate factor before the candidates, the seasonal index and the
history calibration see it, and the forecast (mean, quantiles, paths) is multiplied by the factor of X_future.
The candidates then forecast the baseline demand, which a promotion in the training data no longer distorts.
Every internal backtest window gets effects fitted on the data up to its own cutoff and is scored, raw actuals
against re-multiplied forecasts, like any other forecast; effects too noisy to help come out near zero from the
shrinkage, so a covariate without an effect leaves the forecast nearly unchanged. Without X nothing changes.
Column kinds (``flag``, ``price``, ``numeric``) are ``covariate_kinds`` or inferred (0/1 columns are flags,
non-negative ones prices); Forecast.info["covariates"] and AutoResult.covariates record each series' effects
(with standard errors, and the pooled ones) and the factors applied to its forecast; after a forecast with
covariates, ``covariate_effects_`` holds the effects fitted on the whole history (covariates.CovariateEffects, with
the held-out scores of the past campaigns that calibrate a planned campaign's interval), None without them.

Global models (the neural tier) join as candidates through ``global_models``: a mapping name -> a *fitted*
forecasting.engine.base.GlobalModel, added to every class's route (unless ``candidates`` already routes it). auto
never trains them: it asks each for the mean forecast of every series from every internal cutoff and from the end,
with the context up to that cutoff, and calibrates and selects them like any other candidate. Their weights must
have seen no period after the first internal cutoff (``horizon + (n_windows - 1) x step`` periods before the
panel's end), or their backtest scores are in-sample and flatter them; the Celery pipeline and the benchmark
train them that way. ``end`` (the date of the panel's last period) gives them real calendar dates. Their own
forecast distributions are then blended into every series' final forecast at ``global_weight`` (default 0.5; 0
keeps them as mean candidates only): quantile averaging of auto's calibrated quantiles with the global models'
quantiles (read on the levels 0.01 .. 0.99 and averaged over the models), the same weights for the mean, and
each path's global part read off the global quantile function at the uniforms that drew its auto part, so the
paths keep auto's serial correlation and their daily laws are the blended ones. Combining two forecasters of
comparable skill whose errors differ beats choosing between them, and a direct quantile model's quantiles carry
more than its mean, which is all the candidate route uses. ``final_models`` (optional, name -> the same model
trained on the data up to the panel's end) forecast from the end in place of the candidates' older weights, for
the blend and for the chosen candidates' means: the older weights only score the internal backtest, as a
statistical candidate is scored on its backtest and then refitted on the whole history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from forecasting.engine.base import DEFAULT_QUANTILES, Forecast, GlobalModel, quantile_function
from forecasting.engine.classify import classify_panel
from forecasting.engine.covariates import covariate_features, fit_covariate_effects, infer_kinds
from forecasting.engine.models.common import PanelModel, clean_series, to_panel
from forecasting.engine.models.laws import series_rng
from forecasting.engine.registry import make_model
from forecasting.engine.yearly import default_year_length, yearly_factor

SEASON_SUFFIX = "+season"
YEAR_SUFFIX = "+year"
FALLBACK_MODEL = "seasonal_naive"
# Ratios are pooled per class from at most this many backtest points, drawn at random (seeded).
POOL_SIZE = 20_000
# Sample paths draw from the pool through this many of its quantiles (see _pool_law).
PATH_POOL_POINTS = 1_000

DEFAULT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "smooth": ("ses+season", "moving_average+season", "tsb+season", "seasonal_naive", "ses"),
    "erratic": ("ses+season", "moving_average+season", "tsb+season", "imapa+season", "seasonal_naive"),
    "intermittent": ("tsb+season", "sba+season", "imapa+season", "ses+season", "moving_average+season"),
    "lumpy": ("tsb+season", "sba+season", "imapa+season", "ses+season", "moving_average+season"),
    "new": ("moving_average+season", "ses+season", "naive"),
    "dead": ("tsb+season", "moving_average+season", "historic_average"),
}


# Levels at which the global models' own forecast distributions are read for the blend (0.01 .. 0.99)
GLOBAL_LEVELS: tuple[float, ...] = tuple(round(index / 100, 2) for index in range(1, 100))


@dataclass(frozen=True)
class AutoResult:
    """One series' outcome: chosen model (or ensemble), demand class, backtest scores and the forecast."""

    model: str
    demand_class: str
    members: tuple[str, ...]
    backtest: dict[str, float]
    forecast: Forecast
    fallbacks: tuple[str, ...]
    covariates: Mapping[str, object] | None = None


class AutoForecaster:
    """Classify, route, backtest, select (or ensemble) and calibrate, per series. See the module docstring."""

    name = "auto"

    def __init__(
        self,
        *,
        season_length: int = 7,
        candidates: Mapping[str, Sequence[str]] | None = None,
        n_windows: int = 3,
        step: int | None = None,
        top_k: int = 3,
        selection: str = "wql",
        seasonal_index_seasons: int = 52,
        seasonal_index_prior: float = 20.0,
        closed_index: float = 0.05,
        calibration: str = "history",
        calibration_prior: float = 28.0,
        history_window: int = 28,
        history_periods: int = 364,
        selection_prior: float = 0.0,
        year_length: int | None = None,
        year_window: int = 28,
        year_prior: float = 100.0,
        model_params: Mapping[str, Mapping[str, object]] | None = None,
        covariate_names: Sequence[str] | None = None,
        covariate_kinds: Sequence[str] | None = None,
        covariate_window: int | None = None,
        price_window: int = 26,
        global_models: Mapping[str, GlobalModel] | None = None,
        global_weight: float = 0.5,
        final_models: Mapping[str, GlobalModel] | None = None,
        n_paths: int = 200,
        seed: int = 0,
    ) -> None:
        if not 0.0 <= float(global_weight) <= 1.0:
            raise ValueError(f"global_weight must be in [0, 1], not {global_weight}")
        self.season_length = season_length
        self.candidates = candidates
        self.n_windows = n_windows
        self.step = step
        self.top_k = top_k
        self.selection = selection
        self.seasonal_index_seasons = seasonal_index_seasons
        self.seasonal_index_prior = seasonal_index_prior
        self.closed_index = closed_index
        self.calibration = calibration
        self.calibration_prior = calibration_prior
        self.history_window = history_window
        self.history_periods = history_periods
        self.selection_prior = selection_prior
        self.year_length = default_year_length(season_length) if year_length is None else year_length
        self.year_window = year_window
        self.year_prior = year_prior
        self.model_params = model_params
        self.covariate_names = covariate_names
        self.covariate_kinds = covariate_kinds
        self.covariate_window = covariate_window
        self.price_window = price_window
        self.global_models = global_models
        self.global_weight = global_weight
        self.final_models = final_models
        self.n_paths = n_paths
        self.seed = seed

    def __call__(
        self,
        series: list[np.ndarray],
        horizon: int,
        quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
        X: list[np.ndarray] | None = None,
        X_future: list[np.ndarray] | None = None,
    ) -> list[Forecast]:
        """The backtest's PanelForecaster interface: the forecasts, with choice and class in Forecast.info."""
        return [
            result.forecast for result in self.forecast(series, horizon, quantiles=quantiles, X=X, X_future=X_future)
        ]

    def forecast(
        self,
        series: Sequence[np.ndarray],
        horizon: int,
        *,
        quantiles: Sequence[float] = DEFAULT_QUANTILES,
        X: Sequence[np.ndarray] | None = None,
        X_future: Sequence[np.ndarray] | None = None,
        end: np.datetime64 | None = None,
    ) -> list[AutoResult]:
        """One AutoResult per series; X (len(series_i), k) and X_future (horizon, k) per series are optional
        covariates known in advance, ``end`` the date of the series' last period (see the module docstring)."""
        levels = tuple(sorted(float(level) for level in quantiles))
        cleaned = [clean_series(values) for values in series]
        panel = to_panel(cleaned)
        classes = np.asarray(classify_panel(panel), dtype=object)
        routes = {**DEFAULT_CANDIDATES, **(dict(self.candidates) if self.candidates else {})}
        if self.global_models:
            routes = {
                label: (*names, *(name for name in self.global_models if name not in names))
                for label, names in routes.items()
            }
        year_factors = self._year_factors(panel, horizon, routes)
        covariates = self._covariate_plan(panel, cleaned, X, X_future, horizon)
        results: list[AutoResult] = [None] * len(series)  # type: ignore[list-item]
        for demand_class in sorted(set(classes.tolist())):
            rows = np.flatnonzero(classes == demand_class)
            candidates = tuple(routes.get(demand_class) or routes["smooth"])
            for row, result in zip(
                rows,
                self._forecast_class(
                    panel[rows],
                    demand_class,
                    candidates,
                    horizon,
                    levels,
                    year_factors,
                    covariates.rows(rows) if covariates is not None else None,
                    end,
                ),
                strict=True,
            ):
                results[row] = result
        return results

    def _offsets(self, length: int, horizon: int) -> list[int]:
        """Distances from the panel's end to the internal backtest cutoffs, earliest first."""
        step = self.step or horizon
        offsets = [horizon + (self.n_windows - 1 - window) * step for window in range(self.n_windows)]
        return [offset for offset in offsets if length - offset >= 2 * self.season_length]

    def _year_factors(self, panel: np.ndarray, horizon: int, routes: Mapping[str, Sequence[str]]) -> dict[int, float]:
        """Panel length at each internal cutoff (and at the end) -> the pooled yearly factor known there.

        Pooled over the whole panel rather than per demand class: the yearly cycle is the shop's (the autumn ramp
        lifts lumpy and smooth SKUs alike) and a class can hold two series, or only dead ones."""
        if not any(split_candidate(name)[2] for names in routes.values() for name in names):
            return {}
        length = panel.shape[1]
        return {
            cutoff: yearly_factor(
                panel[:, :cutoff],
                horizon,
                year_length=self.year_length,
                window=self.year_window,
                prior=self.year_prior,
            )
            for cutoff in [length - offset for offset in self._offsets(length, horizon)] + [length]
        }

    def _covariate_plan(
        self,
        panel: np.ndarray,
        cleaned: Sequence[np.ndarray],
        X: Sequence[np.ndarray] | None,
        X_future: Sequence[np.ndarray] | None,
        horizon: int,
    ) -> _CovariatePlan | None:
        """Covariate effects fitted at every internal cutoff and at the end, each on the data up to it; None
        without covariates."""
        self.covariate_effects_ = None
        if X is None or X_future is None:
            return None
        covariates = align_covariates(cleaned, X, X_future, panel.shape[1], horizon)
        if covariates.shape[-1] == 0:
            return None
        kinds = tuple(self.covariate_kinds) if self.covariate_kinds else infer_kinds(covariates)
        features, names = covariate_features(
            covariates, kinds, names=self.covariate_names, price_window=self.price_window
        )
        # the baseline's half-window: whole weeks on daily data (balanced weekdays), else 8 periods, which did better
        # than 2 and 4 on the earlier Breakfast windows (docs/benchmarks.md, "Promotion covariates")
        window = self.covariate_window or (self.season_length if self.season_length <= 14 else 8)
        length = panel.shape[1]
        log_factors: dict[int, np.ndarray] = {}
        summaries: list[dict[str, dict[str, float | None]]] = []
        for cutoff in [length - offset for offset in self._offsets(length, horizon)] + [length]:
            effects = fit_covariate_effects(panel[:, :cutoff], features[:, :cutoff], names=names, window=window)
            log_factors[cutoff] = effects.log_factors(features[:, : cutoff + horizon])
            if cutoff == length:
                summaries = [effects.summary(row) for row in range(len(panel))]
                self.covariate_effects_ = effects
        return _CovariatePlan(log_factors, summaries)

    # -- one demand class ------------------------------------------------------------------------------------

    def _forecast_class(
        self,
        panel: np.ndarray,
        demand_class: str,
        candidates: tuple[str, ...],
        horizon: int,
        levels: tuple[float, ...],
        year_factors: Mapping[int, float],
        covariates: _CovariatePlan | None = None,
        end: np.datetime64 | None = None,
    ) -> list[AutoResult]:
        n, length = panel.shape

        def history(cutoff: int) -> np.ndarray:
            """The panel up to a cutoff, divided by the covariate factor fitted there."""
            if covariates is None:
                return panel[:, :cutoff]
            return panel[:, :cutoff] / np.exp(covariates.log_factors[cutoff][:, :cutoff])

        def future(means: np.ndarray, cutoff: int) -> np.ndarray:
            """Baseline forecasts from a cutoff multiplied by the covariate factor of the h periods after it."""
            if covariates is None:
                return means
            return means * np.exp(covariates.log_factors[cutoff][:, cutoff : cutoff + horizon])

        offsets = self._offsets(length, horizon)
        actuals = (
            np.stack([panel[:, length - offset : length - offset + horizon] for offset in offsets], axis=1)
            if offsets
            else np.full((n, 0, horizon), np.nan)
        )

        backtests: dict[str, np.ndarray] = {}
        backtest_fallbacks: dict[str, np.ndarray] = {}
        # a `+year` variant is its base candidate times one number per cutoff: fit each base once per window
        unscaled: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        for name in candidates:
            base, yearly = _without_year(name)
            window_means = []
            fell_back = np.zeros(n, dtype=bool)
            for offset in offsets:
                key = (base, offset)
                if key not in unscaled:
                    means, failed = self._candidate_means(base, history(length - offset), horizon, end, offset)
                    unscaled[key] = (future(means, length - offset), failed)
                means, failed = unscaled[key]
                if yearly:
                    means = means * year_factors.get(length - offset, 1.0)
                window_means.append(means)
                fell_back |= failed
            backtests[name] = np.stack(window_means, axis=1) if window_means else np.full((n, 0, horizon), np.nan)
            backtest_fallbacks[name] = fell_back

        first_cutoff = length - max(offsets, default=0)
        scale = _error_scale(panel[:, :first_cutoff], self.season_length)
        rng = np.random.default_rng(self.seed)
        early_history = self._history_ratios(history(first_cutoff))
        scores = np.full((n, len(candidates)), np.inf)
        for index, name in enumerate(candidates):
            samples = self._calibration_sample(actuals, backtests[name], early_history)
            quantile_ratios = _quantile_ratios(samples, _pool(samples, rng), levels, self.calibration_prior)
            scores[:, index] = _selection_score(
                actuals, backtests[name], quantile_ratios, levels, scale, self._selection_metric(levels)
            )
        if self.selection_prior > 0 and n > 1:
            finite = np.where(np.isfinite(scores), scores, np.nan)
            with np.errstate(all="ignore"):
                class_scores = np.nanmean(finite, axis=0)
            scores = scores + self.selection_prior * np.nan_to_num(class_scores, nan=np.inf)[None, :]
        order = np.argsort(scores, axis=1, kind="stable")
        top_k = max(1, min(int(self.top_k), len(candidates)))
        chosen = order[:, :top_k]
        untested = ~np.isfinite(scores).any(axis=1)
        chosen[untested] = np.arange(top_k)

        ensemble_backtest = (
            np.median(
                np.stack(
                    [np.stack([backtests[name][row] for name in _names(candidates, chosen[row])]) for row in range(n)]
                ),
                axis=1,
            )
            if n
            else np.zeros((0, len(offsets), horizon))
        )
        samples = self._calibration_sample(actuals, ensemble_backtest, self._history_ratios(history(length)))
        pool = _pool(samples, rng)
        path_pool = _pool_law(pool)
        correlation = error_correlation(actuals, ensemble_backtest)
        quantile_ratios = _quantile_ratios(samples, pool, levels, self.calibration_prior)

        # the global models' forecasts from the end serve the blend and, for those chosen, the candidate means
        blend = self._global_blend(history(length), horizon, end)
        end_models = self._end_models()
        finals: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for index in np.unique(chosen):
            name = candidates[int(index)]
            rows = np.flatnonzero((chosen == index).any(axis=1))
            base, yearly = _without_year(name)
            if blend is not None and base in blend.model_means:
                means, failed = self._with_fallback(blend.model_means[base][rows], history(length)[rows], horizon)
            elif base in end_models:
                means, failed = self._global_means(end_models[base], history(length)[rows], horizon, end, 0)
            else:
                means, failed = self._candidate_means(base, history(length)[rows], horizon, end, 0)
            if yearly:
                means = means * year_factors.get(length, 1.0)
            full_means = np.zeros((n, horizon))
            full_failed = np.zeros(n, dtype=bool)
            full_means[rows], full_failed[rows] = means, failed
            finals[name] = (full_means, full_failed)

        final_factors = future(np.ones((n, horizon)), length)
        results = []
        for row in range(n):
            members = _names(candidates, chosen[row])
            mean = np.median(np.stack([finals[name][0][row] for name in members]), axis=0) * final_factors[row]
            fallbacks = tuple(name for name in members if finals[name][1][row] or backtest_fallbacks[name][row])
            series = panel[row][~np.isnan(panel[row])]
            own = None
            if blend is not None and blend.usable[row]:
                own = (blend.grids[row] * final_factors[row], blend.means[row] * final_factors[row])
            forecast = self._calibrated_forecast(
                series, mean, quantile_ratios[row], samples[row], path_pool, levels, correlation, own
            )
            label = members[0] if len(members) == 1 else f"median({', '.join(members)})"
            metrics = _backtest_metrics(actuals[row], ensemble_backtest[row], quantile_ratios[row], levels, scale[row])
            forecast.info.update(
                {
                    "model": self.name,
                    "chosen": label,
                    "candidates": list(candidates),
                    "demand_class": demand_class,
                    "backtest": metrics,
                }
            )
            if fallbacks:
                forecast.info["fallback"] = FALLBACK_MODEL
                forecast.info["fallback_of"] = list(fallbacks)
            used = None
            if covariates is not None:
                used = {"effects": covariates.summaries[row], "factors": final_factors[row].tolist()}
                forecast.info["covariates"] = used
            results.append(AutoResult(label, demand_class, members, metrics, forecast, fallbacks, used))
        return results

    def _history_ratios(self, panel: np.ndarray) -> np.ndarray:
        if self.calibration not in ("history", "both"):
            return np.full((len(panel), 0), np.nan)
        index = seasonal_index(
            panel, self.season_length, seasons=self.seasonal_index_seasons, prior=self.seasonal_index_prior
        )
        return history_ratios(
            panel,
            index,
            self.season_length,
            window=self.history_window,
            periods=self.history_periods,
            closed_index=self.closed_index,
        )

    def _calibration_sample(self, actuals: np.ndarray, means: np.ndarray, history: np.ndarray) -> np.ndarray:
        """(n, k) ratios actual / forecast that calibrate each row's quantiles (NaN where undefined)."""
        parts = []
        if self.calibration in ("backtest", "both"):
            parts.append(_ratios(actuals, means))
        if self.calibration in ("history", "both"):
            parts.append(history)
        return np.concatenate(parts, axis=1)

    def _selection_metric(self, levels: tuple[float, ...]) -> str:
        return self.selection if levels else "mase"

    # -- candidate forecasts ---------------------------------------------------------------------------------

    def _candidate_means(
        self, name: str, panel: np.ndarray, horizon: int, end: np.datetime64 | None = None, offset: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """(n, h) point forecasts of one candidate without `+year` on a NaN-left-padded panel, and which rows fell
        back. ``offset``: periods between the panel's last column and the date ``end`` (global models only)."""
        if self.global_models and name in self.global_models:
            return self._global_means(self.global_models[name], panel, horizon, end, offset)
        base, seasonal, _ = split_candidate(name)
        values = panel
        index = None
        if seasonal:
            index = seasonal_index(
                panel,
                self.season_length,
                seasons=self.seasonal_index_seasons,
                prior=self.seasonal_index_prior,
            )
            positions = np.arange(panel.shape[1]) - panel.shape[1]
            profile = index[:, positions % self.season_length]
            values = np.where(profile >= self.closed_index, panel / np.maximum(profile, self.closed_index), np.nan)
        means, failed = self._model_means(base, values, horizon)
        if index is not None:
            future = index[:, np.arange(horizon) % self.season_length]
            means = np.where(future >= self.closed_index, means * future, 0.0)
        if failed.any():
            means[failed] = self._model_means(FALLBACK_MODEL, panel[failed], horizon)[0]
        return np.clip(means, 0.0, None), failed

    def _global_means(
        self, model: GlobalModel, panel: np.ndarray, horizon: int, end: np.datetime64 | None, offset: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean forecasts of a fitted global model from the panel's last column; rows it cannot forecast get the
        fallback model, recorded."""
        cutoff_end = None
        if end is not None:
            weeks = getattr(model, "freq", "D").upper().startswith("W")
            cutoff_end = np.datetime64(end, "D") - np.timedelta64(offset * (7 if weeks else 1), "D")
        n = len(panel)
        try:
            forecasts = model.predict(horizon, list(panel), quantiles=(0.5,), end=cutoff_end)
            means = np.vstack([forecast.mean[:horizon] for forecast in forecasts]) if n else np.zeros((0, horizon))
        except Exception:  # a broken model must not sink the run: every row falls back, recorded
            means = np.full((n, horizon), np.nan)
        return self._with_fallback(means, panel, horizon)

    def _with_fallback(self, means: np.ndarray, panel: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """A global model's means with the rows it could not forecast (not finite) from the fallback model, and
        which rows those were."""
        failed = ~np.isfinite(means).all(axis=1)
        means = np.array(means, dtype=float)
        if failed.any():
            means[failed] = self._model_means(FALLBACK_MODEL, panel[failed], horizon)[0]
        return np.clip(np.nan_to_num(means), 0.0, None), failed

    def _model_means(self, name: str, panel: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        params = dict((self.model_params or {}).get(name, {}))
        model = make_model(name, season_length=self.season_length, n_paths=0, seed=self.seed, **params)
        n = len(panel)
        if isinstance(model, PanelModel):
            try:
                with np.errstate(all="ignore"):
                    means = np.asarray(model.law_panel(model.fit_panel(panel), horizon).mean, dtype=float)
                failed = ~np.isfinite(means).all(axis=1)
                failed |= np.sum(~np.isnan(panel), axis=1) < model.min_observations
                return np.where(failed[:, None], 0.0, means), failed
            except Exception:  # one bad series must not sink the panel: fall back to the one-by-one path
                pass
        means = np.zeros((n, horizon))
        failed = np.zeros(n, dtype=bool)
        for row in range(n):
            values = panel[row]
            fitted = make_model(name, season_length=self.season_length, n_paths=0, seed=self.seed, **params)
            result = fitted.fit(values[np.argmax(~np.isnan(values)) :]).predict(horizon, quantiles=(0.5,))
            means[row] = result.mean
            failed[row] = bool(result.info.get("fallback")) or not np.isfinite(result.mean).all()
        return np.nan_to_num(means), failed

    # -- calibrated output ---------------------------------------------------------------------------------

    def _calibrated_forecast(
        self,
        series: np.ndarray,
        mean: np.ndarray,
        quantile_ratios: np.ndarray,
        own_ratios: np.ndarray,
        pool: np.ndarray,
        levels: tuple[float, ...],
        correlation: float,
        global_forecast: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Forecast:
        """The calibrated forecast of one series; with ``global_forecast`` (the global models' own quantile grid
        (q, h) at GLOBAL_LEVELS and mean (h,)) blended in at global_weight by quantile averaging."""
        quantiles = (
            np.maximum.accumulate(mean[None, :] * quantile_ratios[:, None], axis=0)
            if levels
            else np.zeros((0, len(mean)))
        )
        weight = float(self.global_weight) if global_forecast is not None else 0.0
        paths = None
        uniforms = None
        if self.n_paths > 0:
            rng = series_rng(self.seed, series)
            own = own_ratios[np.isfinite(own_ratios)]
            weight_own = own.size / (own.size + self.calibration_prior)
            # Each day's ratio follows the calibrated law (own ratios mixed with the class pool); the days of one
            # path share a common factor so that a path that starts high tends to stay high, as the backtest
            # errors of the class do. Lead-time demand is summed over days, so independent days would understate it.
            uniforms = _correlated_uniforms(rng, self.n_paths, len(mean), correlation)
            draws = _mixture_quantiles(own, pool, weight_own, uniforms)
            # A ratio learnt where a backtest forecast was near zero can reach the thousands; a path day above both
            # the series' largest day ever and the day's top calibrated quantile is such an artefact, not demand.
            ceiling = np.maximum(
                float(np.max(series)) if series.size else 0.0, quantiles.max(axis=0) if levels else mean
            )
            paths = np.minimum(mean[None, :] * draws, ceiling[None, :])
        info: dict[str, object] = {"path_correlation": correlation}
        if weight > 0:
            # Quantile averaging (Vincentisation): each level of the blend is the weighted average of that level of
            # both forecasts, and each path reads the global models' quantile function at the uniforms that drew
            # its auto part, so the paths' daily laws are the blended ones and keep auto's serial correlation.
            grid, global_mean = global_forecast
            global_levels = np.asarray(GLOBAL_LEVELS)
            if levels:
                wanted = np.broadcast_to(np.asarray(levels)[:, None], quantiles.shape)
                quantiles = (1.0 - weight) * quantiles + weight * quantile_function(grid, global_levels, wanted)
            if paths is not None:
                paths = (1.0 - weight) * paths + weight * quantile_function(grid, global_levels, uniforms)
            mean = (1.0 - weight) * mean + weight * global_mean
            info["global_weight"] = weight
            info["blended_with"] = sorted(self.global_models or ())
        return Forecast(mean=mean, quantile_levels=levels, quantiles=quantiles, paths=paths, info=info)

    def _end_models(self) -> dict[str, GlobalModel]:
        """The global models that forecast from the panel's end: each candidate's final model where one is given,
        else the candidate's own (older) weights."""
        final = self.final_models or {}
        return {name: final.get(name, model) for name, model in (self.global_models or {}).items()}

    def _global_blend(self, panel: np.ndarray, horizon: int, end: np.datetime64 | None) -> _GlobalBlend | None:
        """The global models' own forecasts from the panel's end (see _GlobalBlend); None without global models,
        with global_weight 0, or when a model fails (no blend then, and each is asked again as a candidate)."""
        if not self.global_models or self.global_weight <= 0:
            return None
        n = len(panel)
        grids = np.zeros((n, len(GLOBAL_LEVELS), horizon))
        means = np.zeros((n, horizon))
        usable = np.ones(n, dtype=bool)
        model_means: dict[str, np.ndarray] = {}
        cutoff_end = None if end is None else np.datetime64(end, "D")
        for name, model in self._end_models().items():
            try:
                forecasts = model.predict(horizon, list(panel), quantiles=GLOBAL_LEVELS, end=cutoff_end)
            except Exception:  # a broken model must not sink the run: auto's own forecasts stand
                return None
            grid = np.stack([_on_global_levels(forecast, horizon) for forecast in forecasts]) if n else grids
            mean = np.stack([forecast.mean[:horizon] for forecast in forecasts]) if n else means
            usable &= np.isfinite(grid).all(axis=(1, 2)) & np.isfinite(mean).all(axis=1)
            model_means[name] = mean
            grids += np.nan_to_num(grid) / len(self.global_models)
            means += np.nan_to_num(mean) / len(self.global_models)
        return _GlobalBlend(np.clip(grids, 0.0, None), np.clip(means, 0.0, None), usable, model_means)


@dataclass(frozen=True)
class _GlobalBlend:
    """The global models' forecasts from a panel's end: quantile grids (n, q, h) at GLOBAL_LEVELS and means (n, h)
    averaged over the models, which rows every model forecast in finite numbers, and each model's own means (NaN
    where it could not forecast a row)."""

    grids: np.ndarray
    means: np.ndarray
    usable: np.ndarray
    model_means: dict[str, np.ndarray]


@dataclass(frozen=True)
class _CovariatePlan:
    """Per cutoff (panel length), the (n, cutoff + h) log covariate factors fitted on the data up to it; and each
    series' effects fitted on all of it."""

    log_factors: dict[int, np.ndarray]
    summaries: list[dict[str, dict[str, float | None]]]

    def rows(self, rows: np.ndarray) -> _CovariatePlan:
        return _CovariatePlan(
            {cutoff: factors[rows] for cutoff, factors in self.log_factors.items()},
            [self.summaries[row] for row in rows],
        )


def align_covariates(
    cleaned: Sequence[np.ndarray],
    X: Sequence[np.ndarray],
    X_future: Sequence[np.ndarray],
    length: int,
    horizon: int,
) -> np.ndarray:
    """(n, length + horizon, k) covariates laid on the right-aligned panel of the cleaned series: X's last rows
    go with the series' observed periods (clean_series drops leading NaN), X_future's first `horizon` rows follow;
    NaN wherever a row is missing. A 1-D block is one column."""
    blocks = [(_columns(past), _columns(coming)) for past, coming in zip(X, X_future, strict=True)]
    width = max([block.shape[1] for pair in blocks for block in pair if block.size] + [0])
    aligned = np.full((len(cleaned), length + horizon, width), np.nan)
    for row, (values, (past, coming)) in enumerate(zip(cleaned, blocks, strict=True)):
        past = past if past.size else np.zeros((0, width))
        coming = coming if coming.size else np.zeros((0, width))
        kept = min(len(values), len(past))
        if kept:
            aligned[row, length - kept : length] = past[len(past) - kept :]
        aligned[row, length : length + min(horizon, len(coming))] = coming[:horizon]
    return aligned


def _columns(block: np.ndarray | None) -> np.ndarray:
    """(rows, k) float view of one series' covariate block; a 1-D block is one column, None no rows."""
    values = np.asarray(block if block is not None else [], dtype=float)
    return values.reshape(len(values), -1) if values.ndim else values.reshape(0, 0)


def split_candidate(name: str) -> tuple[str, bool, bool]:
    """(registry model, `+season`?, `+year`?) of a candidate name; suffixes in any order, each at most once."""
    base, *suffixes = name.split("+")
    flags = [f"+{suffix}" for suffix in suffixes]
    unknown = [flag for flag in flags if flag not in (SEASON_SUFFIX, YEAR_SUFFIX)]
    if not base or unknown or len(set(flags)) != len(flags):
        raise ValueError(
            f"bad candidate {name!r}: a registry model name, then optionally {SEASON_SUFFIX} and/or {YEAR_SUFFIX}"
        )
    return base, SEASON_SUFFIX in flags, YEAR_SUFFIX in flags


def _without_year(name: str) -> tuple[str, bool]:
    """The candidate without its `+year` suffix, and whether it had one."""
    base, seasonal, yearly = split_candidate(name)
    return base + (SEASON_SUFFIX if seasonal else ""), yearly


def error_correlation(actuals: np.ndarray, means: np.ndarray) -> float:
    """Equicorrelation of the daily forecast errors within a backtest window, pooled over a class's series.

    Method of moments: with errors e_t of one window, E[(sum e)^2] - E[sum e^2] = rho * sum_{s != t} s_s s_t,
    and |e_s| |e_t| stands in for s_s s_t. A persistent bias (a level the model missed) counts as correlation,
    which is what it is for demand summed over a lead time. Clipped to [0, 0.95]; 0 without usable windows.
    """
    errors = actuals - means
    errors = np.where(np.isfinite(errors), errors, 0.0)
    if errors.size == 0:
        return 0.0
    squares = np.sum(errors**2, axis=-1)
    numerator = float(np.sum(np.sum(errors, axis=-1) ** 2 - squares))
    denominator = float(np.sum(np.sum(np.abs(errors), axis=-1) ** 2 - squares))
    if denominator <= 0:
        return 0.0
    return float(np.clip(numerator / denominator, 0.0, 0.95))


def _correlated_uniforms(rng: np.random.Generator, n_paths: int, horizon: int, correlation: float) -> np.ndarray:
    """(n_paths, horizon) uniforms whose normal scores share a factor with weight sqrt(correlation)."""
    common = rng.standard_normal((n_paths, 1))
    own = rng.standard_normal((n_paths, horizon))
    return ndtr(np.sqrt(correlation) * common + np.sqrt(1.0 - correlation) * own)


def _mixture_quantiles(own: np.ndarray, pool: np.ndarray, weight_own: float, uniforms: np.ndarray) -> np.ndarray:
    """Quantiles at `uniforms` of the law that draws from `own` with probability weight_own, else from `pool`."""
    parts = [(values, weight) for values, weight in ((own, weight_own), (pool, 1.0 - weight_own)) if values.size]
    if not parts:
        return np.ones_like(uniforms)
    values = np.concatenate([values for values, _ in parts])
    weights = np.concatenate([np.full(values.size, weight / values.size) for values, weight in parts])
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    cumulative /= cumulative[-1]
    positions = np.minimum(np.searchsorted(cumulative, uniforms, side="left"), values.size - 1)
    return values[order][positions]


def _on_global_levels(forecast: Forecast, horizon: int) -> np.ndarray:
    """(len(GLOBAL_LEVELS), horizon) quantiles of a forecast at GLOBAL_LEVELS, read off the levels it has."""
    wanted = np.broadcast_to(np.asarray(GLOBAL_LEVELS)[:, None], (len(GLOBAL_LEVELS), horizon))
    grid = np.sort(np.asarray(forecast.quantiles, dtype=np.float64)[:, :horizon], axis=0)
    return quantile_function(grid, np.asarray(forecast.quantile_levels, dtype=np.float64), wanted)


def _names(candidates: tuple[str, ...], indices: np.ndarray) -> tuple[str, ...]:
    return tuple(candidates[int(index)] for index in indices)


def seasonal_index(
    panel: np.ndarray, season_length: int, *, seasons: int, prior: float, cycle_prior: float = 8.0
) -> np.ndarray:
    """(n, m) multiplicative seasonal index of right-aligned rows, mean 1; column j is the position of the
    j-th future period modulo m. Each row's profile over its last `seasons` seasons is shrunk towards the panel's
    with weight nonzero / (nonzero + prior) x cycles / (cycles + cycle_prior), where cycles is the number of
    values seen at the rarest position; rows without sales take the panel's profile."""
    n = len(panel)
    if season_length <= 1 or n == 0:
        return np.ones((n, max(season_length, 1)))
    recent = panel[:, -season_length * seasons :]
    positions = (np.arange(recent.shape[1]) - recent.shape[1]) % season_length
    sums = np.zeros((n, season_length))
    counts = np.zeros((n, season_length))
    observed = ~np.isnan(recent)
    for position in range(season_length):
        columns = positions == position
        sums[:, position] = np.nansum(recent[:, columns], axis=1)
        counts[:, position] = observed[:, columns].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = sums / counts
        finite = np.isfinite(level)
        row_mean = np.sum(np.where(finite, level, 0.0), axis=1, keepdims=True) / finite.sum(axis=1, keepdims=True)
        own = level / row_mean
    usable = np.isfinite(own).all(axis=1)
    nonzero = np.sum(recent > 0, axis=1).astype(float)
    weights = np.where(usable, nonzero, 0.0)
    if weights.sum() > 0:
        panel_profile = np.sum(np.nan_to_num(own) * weights[:, None], axis=0) / weights.sum()
    else:
        panel_profile = np.ones(season_length)
    # a row's own profile is trusted with its sales and with the seasons it has seen: a weekly series with three
    # years holds three values per week of the year, too few to tell its seasonality from its noise
    cycles = counts.min(axis=1)
    shrink = (weights / (weights + prior) * cycles / (cycles + cycle_prior))[:, None]
    index = shrink * np.nan_to_num(own) + (1 - shrink) * panel_profile[None, :]
    return index / np.maximum(index.mean(axis=1, keepdims=True), 1e-12)


def _error_scale(train: np.ndarray, season_length: int) -> np.ndarray:
    """(n,) in-sample seasonal naive MAE of each row (the MASE scale); 1 where undefined."""
    if train.shape[1] <= season_length:
        return np.ones(len(train))
    differences = np.abs(train[:, season_length:] - train[:, :-season_length])
    counts = np.sum(~np.isnan(differences), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.nansum(differences, axis=1) / counts
    return np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)


def _ratios(actuals: np.ndarray, means: np.ndarray) -> np.ndarray:
    """(n, W*h) actual / forecast where both exist and the forecast is positive, NaN elsewhere."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = np.where((means > 1e-9) & ~np.isnan(actuals), actuals / means, np.nan)
    return ratios.reshape(len(actuals), -1)


def _pool(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The class's pooled ratios: every finite ratio of its rows, subsampled to POOL_SIZE (seeded)."""
    ratios = samples[np.isfinite(samples)]
    if ratios.size > POOL_SIZE:
        ratios = rng.choice(ratios, size=POOL_SIZE, replace=False)
    return ratios


def _pool_law(pool: np.ndarray) -> np.ndarray:
    """The pool's law as PATH_POOL_POINTS equally likely quantiles, for drawing sample paths: every series of a class
    inverts the mixture of its own ratios and the pool, and sorting the whole pool once per series was a third of
    auto's time. At 1/PATH_POOL_POINTS resolution the law is the same for any path count we draw."""
    if pool.size <= PATH_POOL_POINTS:
        return pool
    return np.quantile(pool, (np.arange(PATH_POOL_POINTS) + 0.5) / PATH_POOL_POINTS)


def _quantile_ratios(samples: np.ndarray, pool: np.ndarray, levels: tuple[float, ...], prior: float) -> np.ndarray:
    """(n, q) ratio quantiles per row: the row's own ratios shrunk towards the pool by `prior` points of weight."""
    n = len(samples)
    if not levels:
        return np.zeros((n, 0))
    counts = np.sum(np.isfinite(samples), axis=1).astype(float)
    pooled = np.quantile(pool, levels) if pool.size else np.ones(len(levels))
    own = np.zeros((n, len(levels)))
    has = counts > 0
    if has.any():
        own[has] = row_quantiles(samples[has], levels)
    weight = (counts / np.maximum(counts + prior, 1e-12))[:, None]
    return weight * own + (1 - weight) * pooled[None, :]


def row_quantiles(samples: np.ndarray, levels: Sequence[float]) -> np.ndarray:
    """(n, q) quantiles of the finite values of each row (linear interpolation, as np.quantile); rows need one."""
    ordered = np.sort(np.where(np.isfinite(samples), samples, np.inf), axis=1)
    counts = np.sum(np.isfinite(samples), axis=1)
    positions = (counts[:, None] - 1) * np.asarray(levels, dtype=float)[None, :]
    lower = np.floor(positions).astype(int)
    upper = np.minimum(lower + 1, counts[:, None] - 1)
    fraction = positions - lower
    rows = np.arange(len(samples))[:, None]
    return ordered[rows, lower] * (1 - fraction) + ordered[rows, upper] * fraction


def history_ratios(
    panel: np.ndarray, index: np.ndarray, season_length: int, *, window: int, periods: int, closed_index: float
) -> np.ndarray:
    """(n, periods) ratios y_t / expected_t over the last `periods` columns, where expected_t is the mean of the
    deseasonalised previous `window` observed days times the seasonal index of day t (NaN where undefined).

    This is the spread of demand around a local level, estimated on a year of history rather than on the few
    backtest points, which is what the quantiles of a slow-moving SKU need."""
    n, length = panel.shape
    positions = (np.arange(length) - length) % season_length
    profile = index[:, positions]
    open_days = profile >= closed_index
    deseasonalised = np.where(open_days, panel / np.maximum(profile, closed_index), np.nan)
    observed = ~np.isnan(deseasonalised)
    sums = np.concatenate([np.zeros((n, 1)), np.cumsum(np.nan_to_num(deseasonalised), axis=1)], axis=1)
    counts = np.concatenate([np.zeros((n, 1)), np.cumsum(observed, axis=1)], axis=1)
    start = np.maximum(np.arange(length) - window, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = (sums[:, :-1] - sums[:, start]) / (counts[:, :-1] - counts[:, start])
        expected = level * profile
        ratios = np.where(open_days & (expected > 1e-9) & ~np.isnan(panel), panel / expected, np.nan)
    return ratios[:, -periods:]


def _pinball_sum(actuals: np.ndarray, forecasts: np.ndarray, level: float) -> np.ndarray:
    difference = actuals - forecasts
    loss = np.maximum(level * difference, (level - 1) * difference)
    return np.nansum(loss.reshape(len(actuals), -1), axis=1)


def _selection_score(
    actuals: np.ndarray,
    means: np.ndarray,
    quantile_ratios: np.ndarray,
    levels: tuple[float, ...],
    scale: np.ndarray,
    metric: str,
) -> np.ndarray:
    """(n,) lower is better; inf where a row has no backtest point."""
    points = np.sum(~np.isnan(actuals.reshape(len(actuals), -1)), axis=1)
    absolute = np.nansum(np.abs(means - actuals).reshape(len(actuals), -1), axis=1) / scale
    score = absolute
    if metric == "wql":
        quantile_loss = sum(
            _pinball_sum(actuals, means * quantile_ratios[:, index, None, None], level)
            for index, level in enumerate(levels)
        )
        score = 2 * quantile_loss / len(levels) / scale + absolute
    return np.where(points > 0, score / np.maximum(points, 1), np.inf)


def _backtest_metrics(
    actuals: np.ndarray, means: np.ndarray, quantile_ratios: np.ndarray, levels: tuple[float, ...], scale: float
) -> dict[str, float]:
    """MASE, WAPE, WQL and COV80 of one series' chosen forecast over the internal backtest windows."""
    observed = ~np.isnan(actuals)
    if not observed.any():
        return {"windows": 0}
    y = actuals[observed]
    mean = means[observed]
    total = float(np.sum(np.abs(y)))
    metrics = {
        "windows": int(actuals.shape[0]),
        "MASE": float(np.mean(np.abs(mean - y)) / scale),
        "WAPE": float(np.sum(np.abs(mean - y)) / total) if total > 0 else float("nan"),
    }
    if levels and total > 0:
        forecasts = mean[None, :] * quantile_ratios[:, None]
        losses = [
            2 * np.sum(np.maximum(level * (y - forecasts[index]), (level - 1) * (y - forecasts[index]))) / total
            for index, level in enumerate(levels)
        ]
        metrics["WQL"] = float(np.mean(losses))
    if 0.1 in levels and 0.9 in levels:
        lower = mean * quantile_ratios[levels.index(0.1)]
        upper = mean * quantile_ratios[levels.index(0.9)]
        metrics["COV80"] = float(np.mean((y >= lower) & (y <= upper)))
    return metrics


def demand_classes(series: Sequence[np.ndarray]) -> list[str]:
    """Demand class of each series (forecasting.engine.classify with its default thresholds)."""
    return [str(label) for label in classify_panel(to_panel([clean_series(values) for values in series]))]
