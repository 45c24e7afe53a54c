"""The registry of statistical models: names used by the API, the admin, reports and the benchmark.

make_model(name, *, season_length=7, **params) returns an unfitted LocalModel. Every model takes n_paths
(default 200) and seed (default 0) and follows the engine contract:

- fit(y, X=None) -> self on a float array that may hold NaN (missing or censored days), negatives (clipped to
  0) and infinities; a series the model cannot handle falls back to seasonal naive, recorded in
  Forecast.info["fallback"] with Forecast.info["error"].
- predict(h, X_future=None, quantiles=(0.1, 0.5, 0.9)) -> Forecast: mean (h,) = point forecast clipped at 0,
  quantiles (q, h) ascending in q and non-negative, paths (n_paths, h) drawn from the model's law and clipped
  at 0 (None when n_paths == 0), info with the fitted parameters (alpha, beta, phi, orders, aicc, ...).
- apply(y, X=None) -> a copy of the fitted model run over y, the same series observed for longer, with every
  estimated parameter kept and only the state brought up to date (rolling-origin backtests with refit=False);
  the vectorised models do it for a whole panel with apply_panel(state, panel).

Models (extra keyword parameters in brackets):
naive, seasonal_naive, historic_average, moving_average [window=28], ses (optimised alpha),
holt (damped trend), holt_winters_add, holt_winters_mul, ets (automatic by AICc), arima (automatic order),
sarima (automatic seasonal order; exogenous X when given), theta (automatic theta variant),
croston [alpha=0.1], sba [alpha=0.1], tsb [alpha_d=0.1, alpha_p=0.1], adida, imapa,
mstl (MSTL decomposition + ETS of the deseasonalised series) [season_lengths].
"""

from __future__ import annotations

from forecasting.engine.models.arima import AutoArima, AutoSarima
from forecasting.engine.models.baseline import HistoricAverage, MovingAverage, Naive, SeasonalNaive
from forecasting.engine.models.common import PanelModel, StatisticalModel
from forecasting.engine.models.ets import AutoEts, DampedHolt, HoltWintersAdditive, HoltWintersMultiplicative
from forecasting.engine.models.intermittent import ADIDA, IMAPA, TSB, Croston, CrostonSBA
from forecasting.engine.models.mstl import MstlForecaster
from forecasting.engine.models.smoothing import SimpleExponentialSmoothing
from forecasting.engine.models.theta import AutoThetaModel

MODEL_CLASSES: dict[str, type[StatisticalModel]] = {
    model.name: model
    for model in (
        Naive,
        SeasonalNaive,
        HistoricAverage,
        MovingAverage,
        SimpleExponentialSmoothing,
        DampedHolt,
        HoltWintersAdditive,
        HoltWintersMultiplicative,
        AutoEts,
        AutoArima,
        AutoSarima,
        AutoThetaModel,
        Croston,
        CrostonSBA,
        TSB,
        ADIDA,
        IMAPA,
        MstlForecaster,
    )
}

MODEL_NAMES: tuple[str, ...] = tuple(MODEL_CLASSES)

# Models whose fit runs as numpy kernels over a whole panel at once (see forecasting.engine.panel).
VECTORISED_MODEL_NAMES: tuple[str, ...] = tuple(
    name for name, model in MODEL_CLASSES.items() if issubclass(model, PanelModel)
)


def make_model(name: str, *, season_length: int = 7, **params) -> StatisticalModel:
    """An unfitted model by registry name; unknown names raise KeyError listing the known ones."""
    try:
        model_class = MODEL_CLASSES[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(MODEL_NAMES)}") from None
    return model_class(season_length=season_length, **params)
