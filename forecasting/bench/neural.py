"""The neural models in the benchmark: an adaptor from a global model to the backtest's forecaster interface.

``NeuralBenchForecaster`` trains its model on the series up to the first cutoff and forecasts that window; at the
later cutoffs it reuses the weights and only reads the longer contexts (``refit=False``, how a nightly run reuses
a trained artifact), unless ``refit`` asks for training at every cutoff. Training never sees a period after the
cutoff it forecasts from, and its early-stopping validation windows lie before that cutoff too. The adaptor
records what the report shows per neural model: training seconds, epochs, training windows per second, inference
series per second and the parameter count.

``NeuralAutoForecaster`` is ``auto`` with neural candidates (``--models auto+gru`` or ``auto+gru+gpt``): each
neural model is trained once, on the series up to the first cutoff minus auto's internal backtest span, so that
every internal backtest window of every cutoff is out of sample for the weights (the rule the Celery pipeline
follows with its artifacts); auto then selects per series among its statistical candidates and the neural ones.
The neural candidates inside auto are trained without covariates (auto applies the covariate effects itself).
With ``final="fresh"`` (the default, as the Celery pipeline does) each is also trained on the series up to the
first cutoff, and those weights make the forecasts from the cutoff (the blend and the chosen candidates' means);
with ``final="candidate"`` the older weights do both. Models trained at the same date with the same settings are
shared between the benchmark's forecasters (``TrainedModels``), so ``transformer`` and ``auto+transformer`` in one
run train the cutoff's transformer once.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from forecasting.engine.auto import AutoForecaster
from forecasting.engine.backtest import dense_panel
from forecasting.engine.base import Forecast
from forecasting.engine.neural import make_neural_model, neural_model_class


class TrainingPool:
    """Every series of the whole panel up to a date: what a global model trains on when the benchmark scores a
    sample of the catalogue (``--neural-train all``), as a merchant's model learns from all of its SKUs, not
    only from the ones a report looks at. Nothing after the date is ever handed out."""

    def __init__(self, long_df: pd.DataFrame, *, freq: str, covariates: tuple[str, ...] = ()) -> None:
        self.panel = dense_panel(long_df, freq=freq, covariates=covariates)
        self.covariates = covariates

    def __len__(self) -> int:
        return len(self.panel.ids)

    def __call__(
        self, end: np.datetime64 | None, with_covariates: bool = True
    ) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        """(series, X) of every series launched by ``end``, each cut at ``end``."""
        if end is None:
            raise ValueError("a training pool needs the cutoff date")
        position = int(self.panel.dates.searchsorted(pd.Timestamp(end), side="right")) - 1
        rows = np.flatnonzero(self.panel.starts <= position)
        series = [self.panel.history(row, position) for row in rows]
        if not (with_covariates and self.covariates):
            return series, None
        X = [self.panel.covariate_block(self.covariates, row, self.panel.starts[row], position + 1) for row in rows]
        return series, X


# Settings that change how a trained model forecasts or where it runs, not its weights: a saved checkpoint serves
# every value of them (--neural-checkpoints)
INFERENCE_SETTINGS = frozenset({"n_paths", "draws_per_path", "predict_batch", "device", "threads"})


class TrainedModels:
    """Neural models fitted on a TrainingPool (or the scored series) per (name, training end, covariates): one
    training serves every forecaster of a benchmark run that asks for the same model at the same date; each of them
    reports the training's seconds as its own.

    With a ``directory`` (``--neural-checkpoints``) each training is also saved there, named by the model, the
    training end and a digest of its training settings and data, and a later run that would train the same model
    on the same data loads it instead (reporting the saved training's seconds); the inference settings
    (INFERENCE_SETTINGS) are not part of the name and apply to the loaded model (the model's defaults where the run
    gives none), so path counts and the like can be compared on one set of weights."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.models: dict[tuple, tuple[object, float]] = {}
        self.directory = None if directory is None else Path(directory)

    def get(
        self,
        name: str,
        settings: Mapping[str, object],
        series: list[np.ndarray],
        X: list[np.ndarray] | None,
        end: np.datetime64 | None,
    ):
        """(model, seconds its training took) for (series, X) up to ``end``: trained now unless an earlier call
        trained it, or loaded from the checkpoint directory when it holds that training."""
        key = (name, json.dumps(dict(settings), sort_keys=True, default=str), str(end), X is not None)
        if key not in self.models:
            path = None if self.directory is None else self.checkpoint_path(name, settings, series, X, end)
            if path is not None and path.exists():
                _, inference = _split_settings(name, settings)
                model = neural_model_class(name).load(path, **inference)
                self.models[key] = (model, float(model.training_.seconds))
            else:
                started = time.perf_counter()
                model = train_with_progress(name, settings, series, X, end)
                self.models[key] = (model, time.perf_counter() - started)
                if path is not None:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    model.save(path)
        return self.models[key]

    def checkpoint_path(
        self,
        name: str,
        settings: Mapping[str, object],
        series: list[np.ndarray],
        X: list[np.ndarray] | None,
        end: np.datetime64 | None,
    ) -> Path:
        """Where the training of ``name`` with these settings on this data is saved."""
        training, _ = _split_settings(name, settings)
        digest = hashlib.sha256(json.dumps([name, training, str(end)], sort_keys=True, default=str).encode())
        for block in (*series, *(X or ())):
            array = np.ascontiguousarray(block, dtype=np.float64)
            digest.update(str(array.shape).encode())
            digest.update(array.tobytes())
        day = "none" if end is None else str(end)[:10]
        return self.directory / f"{name}-{day}-{digest.hexdigest()[:16]}.pt"


def _split_settings(name: str, settings: Mapping[str, object]) -> tuple[dict, dict]:
    """(training, inference) hyper-parameters of ``name`` under ``settings``, the model's defaults included, so a
    changed default names a new training and a loaded one forecasts with today's inference defaults."""
    params = neural_model_class(name)(**settings).get_params()
    training = {key: value for key, value in params.items() if key not in INFERENCE_SETTINGS}
    return training, {key: value for key, value in params.items() if key in INFERENCE_SETTINGS}


class NeuralBenchForecaster:
    """A PanelForecaster that trains a neural model once (or at every cutoff) and forecasts every window."""

    takes_cutoff_date = True

    def __init__(
        self,
        name: str,
        *,
        settings: Mapping[str, object],
        refit: bool = False,
        pool: TrainingPool | None = None,
        trained: TrainedModels | None = None,
    ) -> None:
        self.name = name
        self.settings = dict(settings)
        self.refit = refit
        self.pool = pool
        self.trained = trained or TrainedModels()
        self.model = None
        self.train_seconds = 0.0
        self.predict_seconds = 0.0
        self.predicted = 0
        # (series, seconds) of every predict call, to tell the first call's one-off start-up from steady state
        self.calls: list[tuple[int, float]] = []
        self.fits = 0

    def __call__(
        self,
        series: list[np.ndarray],
        horizon: int,
        quantiles: tuple[float, ...],
        X: list[np.ndarray] | None = None,
        X_future: list[np.ndarray] | None = None,
        end: np.datetime64 | None = None,
    ) -> list[Forecast]:
        if self.model is None or self.refit:
            train_series, train_X = (series, X) if self.pool is None else self.pool(end, X is not None)
            self.model, seconds = self.trained.get(self.name, self.settings, train_series, train_X, end)
            self.train_seconds += seconds
            self.fits += 1
        started = time.perf_counter()
        forecasts = self.model.predict(horizon, series, X, X_future, quantiles=quantiles, end=end)
        seconds = time.perf_counter() - started
        self.predict_seconds += seconds
        self.predicted += len(series)
        self.calls.append((len(series), seconds))
        return forecasts

    def summary(self) -> dict:
        """Cost and size of the model for the report."""
        if self.model is None:
            return {}
        log = self.model.training_
        return {
            "parameters": int(self.model.n_parameters_),
            "fits": self.fits,
            "train_seconds": round(self.train_seconds, 2),
            "epochs": log.epochs,
            "best_epoch": log.best_epoch,
            "stopped": log.stopped,
            "train_windows_per_second": round(log.windows_per_second, 1),
            "device": log.device,
            "predict_series_per_second": round(self.predicted / self.predict_seconds, 1)
            if self.predict_seconds > 0
            else None,
            "predict_series_per_second_after_first": _rate(self.calls[1:]),
        }


def _rate(calls: list[tuple[int, float]]) -> float | None:
    """Series per second over predict calls (None without any)."""
    seconds = sum(duration for _, duration in calls)
    return round(sum(count for count, _ in calls) / seconds, 1) if calls and seconds > 0 else None


def train_with_progress(
    name: str,
    settings: Mapping[str, object],
    series: list[np.ndarray],
    X: list[np.ndarray] | None,
    end: np.datetime64 | None,
):
    """A neural model fitted on the series, with an epoch bar on stderr."""
    model = make_neural_model(name, **settings)
    with tqdm(desc=f"train {name}", unit="epoch", file=sys.stderr, leave=False) as bar:

        def progress(log) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{log.validation_losses[-1]:.4f}")

        model.fit(series, X, end=end, progress=progress)
    return model


class NeuralAutoForecaster:
    """auto with neural candidates trained once, out of sample for every internal backtest window."""

    takes_cutoff_date = True

    def __init__(
        self,
        names: tuple[str, ...],
        *,
        auto_params: Mapping[str, object],
        settings: Mapping[str, Mapping[str, object]],
        pool: TrainingPool | None = None,
        final: str = "fresh",
        trained: TrainedModels | None = None,
    ) -> None:
        if final not in ("fresh", "candidate"):
            raise ValueError(f"final must be fresh or candidate, not {final!r}")
        self.names = names
        self.pool = pool
        self.auto_params = dict(auto_params)
        self.settings = settings
        self.final = final
        self.trained = trained or TrainedModels()
        self.models: dict[str, object] = {}
        self.final_models: dict[str, object] = {}
        self.train_seconds = 0.0

    def __call__(
        self,
        series: list[np.ndarray],
        horizon: int,
        quantiles: tuple[float, ...],
        X: list[np.ndarray] | None = None,
        X_future: list[np.ndarray] | None = None,
        end: np.datetime64 | None = None,
    ) -> list[Forecast]:
        if not self.models:
            prototype = AutoForecaster(**self.auto_params)
            span = horizon + (prototype.n_windows - 1) * (prototype.step or horizon)
            training = [values[:-span] for values in series if len(values) > span]
            weekly = str(next(iter(self.settings.values()), {}).get("freq", "D")).upper().startswith("W")
            train_end = None if end is None else end - np.timedelta64(span * (7 if weekly else 1), "D")
            if self.pool is not None:
                training, _ = self.pool(train_end, False)
            for name in self.names:
                self.models[name], seconds = self.trained.get(name, self.settings[name], training, None, train_end)
                self.train_seconds += seconds
            if self.final == "fresh":
                recent = series if self.pool is None else self.pool(end, False)[0]
                for name in self.names:
                    self.final_models[name], seconds = self.trained.get(name, self.settings[name], recent, None, end)
                    self.train_seconds += seconds
        auto = AutoForecaster(**self.auto_params, global_models=self.models, final_models=self.final_models or None)
        results = auto.forecast(series, horizon, quantiles=quantiles, X=X, X_future=X_future, end=end)
        return [result.forecast for result in results]

    def summary(self) -> dict:
        return {
            "train_seconds": round(self.train_seconds, 2),
            "parameters": {name: int(model.n_parameters_) for name, model in self.models.items()},
            "final": self.final,
        }
