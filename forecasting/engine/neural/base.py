"""NeuralModel: the engine contract for global models, shared by the LSTM/GRU, Transformer and GPT forecasters.

A subclass declares its architecture's hyper-parameters in ``__init__`` (passing the common ones on), and
implements three hooks:

- ``_build_module(n_features) -> nn.Module`` (n_features = calendar features + covariates per period);
- ``_loss(module, batch) -> scalar tensor`` on a batch of windows (see windows.Windows / training.to_tensors);
- ``_forecast(module, batch, h, n_paths) -> dict`` with, in original units, "paths" (B, n_paths, h) and
  optionally "mean" (B, h) (the paths' mean otherwise) and "draws" (B, n, h), more draws of each step than the
  paths hold, for the daily quantiles (the paths' otherwise), or "quantiles" (B, q, h) at "levels" for a model with a
  direct quantile head (paths are then optional).

The base does the rest the same way for every model: windows and scaling, covariate standardisation, the
training loop with validation and early stopping (training.train_module), fine-tuning from a checkpoint
(``init_checkpoint``), training and batched prediction under a fixed seed inside ``torch.random.fork_rng`` (every
cuda device's generator included: ``torch.manual_seed`` reseeds them all), so the caller's random state is
untouched, non-negative forecasts, quantiles of the requested levels and cumulative quantiles from the
paths, and checkpoint save/load.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from forecasting.engine.base import DEFAULT_QUANTILES, Forecast, GlobalModel, quantile_function
from forecasting.engine.neural.training import (
    TrainingLog,
    load_checkpoint,
    resolve_device,
    save_checkpoint,
    to_tensors,
    torch_threads,
    train_module,
)
from forecasting.engine.neural.windows import CALENDAR_FEATURES, CovariateScaler, PanelWindows, Windows

# Validation uses the last horizon of at most this many series (seeded choice), to bound each epoch's cost.
MAX_VALIDATION_SERIES = 4096


class NeuralModel(GlobalModel):
    """Common hyper-parameters and the fit / predict / save / load machinery of every neural forecaster."""

    name = ""

    def __init__(
        self,
        *,
        horizon: int = 28,
        context_length: int | None = None,
        season_length: int = 7,
        freq: str = "D",
        batch_size: int = 128,
        max_epochs: int = 50,
        steps_per_epoch: int = 50,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        patience: int = 5,
        max_seconds: float | None = None,
        n_paths: int = 200,
        predict_batch: int = 512,
        amp: bool = True,
        init_checkpoint: str | None = None,
        device: str = "auto",
        threads: int | None = None,
        seed: int = 0,
    ) -> None:
        self.horizon = horizon
        self.context_length = context_length
        self.season_length = season_length
        self.freq = freq
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.steps_per_epoch = steps_per_epoch
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.patience = patience
        self.max_seconds = max_seconds
        self.n_paths = n_paths
        self.predict_batch = predict_batch
        self.amp = amp
        self.init_checkpoint = init_checkpoint
        self.device = device
        self.threads = threads
        self.seed = seed

    # hooks --------------------------------------------------------------------------------------------------

    def _build_module(self, n_features: int) -> nn.Module:
        raise NotImplementedError

    def _loss(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def _forecast(self, module: nn.Module, batch: dict[str, torch.Tensor], h: int, n_paths: int) -> dict:
        raise NotImplementedError

    # contract ------------------------------------------------------------------------------------------------

    @property
    def context(self) -> int:
        if self.context_length:
            return int(self.context_length)
        return max(2 * self.horizon, 2 * self.season_length)

    def fit(
        self,
        series: Sequence[np.ndarray],
        X: Sequence[np.ndarray] | None = None,
        end: np.datetime64 | None = None,
        progress: Callable[[TrainingLog], None] | None = None,
    ) -> NeuralModel:
        """Train on every window of the panel; the last ``horizon`` periods of each series validate."""
        with torch_threads(self.threads), torch.random.fork_rng(devices=range(torch.cuda.device_count())):
            device = resolve_device(self.device)
            torch.manual_seed(self.seed)
            scaler = CovariateScaler.fit(X)
            panel = self._panel(series, X, self.horizon, scaler, end)
            module = self._build_module(CALENDAR_FEATURES + scaler.width)
            if self.init_checkpoint:
                module.load_state_dict(load_checkpoint(self.init_checkpoint)["state_dict"])
            validation = self._validation(panel)
            holdout = self.horizon
            if validation is None or panel.sample_training(np.random.default_rng(0), 1, holdout=holdout) is None:
                validation, holdout = None, 0

            def sample_batch(rng: np.random.Generator) -> Windows | None:
                return panel.sample_training(rng, self.batch_size, holdout=holdout)

            log = train_module(
                module,
                sample_batch=sample_batch,
                loss=self._loss,
                validation=validation,
                device=device,
                seed=self.seed,
                max_epochs=self.max_epochs,
                steps_per_epoch=self.steps_per_epoch,
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
                patience=self.patience,
                max_seconds=self.max_seconds,
                amp=self.amp,
                progress=progress,
            )
        self.module_ = module
        self.scaler_ = scaler
        self.training_ = log
        self.n_parameters_ = sum(parameter.numel() for parameter in module.parameters())
        return self

    def predict(
        self,
        h: int,
        series: Sequence[np.ndarray],
        X: Sequence[np.ndarray] | None = None,
        X_future: Sequence[np.ndarray] | None = None,
        quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
        end: np.datetime64 | None = None,
    ) -> list[Forecast]:
        """One Forecast per context in ``series``: mean, quantiles and (where the model samples) paths, all >= 0."""
        if not hasattr(self, "module_"):
            raise RuntimeError(f"{self.name} is not fitted")
        if self.scaler_.width and (X is None or X_future is None):
            raise ValueError(f"{self.name} was trained with {self.scaler_.width} covariates; pass X and X_future")
        quantiles = tuple(sorted(float(level) for level in quantiles))
        panel = self._panel(series, X if self.scaler_.width else None, h, self.scaler_, end, X_future)
        windows = panel.prediction()
        module = self.module_
        results: list[Forecast] = []
        with torch_threads(self.threads):
            device = resolve_device(self.device)
            module.to(device).eval()
            with torch.random.fork_rng(devices=range(torch.cuda.device_count())), torch.no_grad():
                torch.manual_seed(self.seed)
                for start in range(0, len(windows), self.predict_batch):
                    part = windows.subset(slice(start, start + self.predict_batch))
                    output = self._forecast(module, to_tensors(part, device), h, self.n_paths)
                    results.extend(self._assemble(output, quantiles, h))
        return results

    def save(self, path: str | Path) -> Path:
        """Weights, hyper-parameters and the covariate scaling, loadable on any device."""
        if not hasattr(self, "module_"):
            raise RuntimeError(f"{self.name} is not fitted")
        meta = {
            "scaler_mean": list(self.scaler_.mean),
            "scaler_std": list(self.scaler_.std),
            "training": self.training_.as_dict(),
            "n_parameters": self.n_parameters_,
        }
        return save_checkpoint(path, name=self.name, params=self.get_params(), meta=meta, module=self.module_)

    @classmethod
    def load(cls, path: str | Path, **overrides) -> NeuralModel:
        """A fitted model from a checkpoint; ``overrides`` replace saved hyper-parameters (device, threads...)."""
        payload = load_checkpoint(path)
        if payload["name"] != cls.name:
            raise ValueError(f"{path} holds a {payload['name']!r} model, not {cls.name!r}")
        model = cls(**{**payload["params"], **overrides})
        meta = payload["meta"]
        model.scaler_ = CovariateScaler(tuple(meta["scaler_mean"]), tuple(meta["scaler_std"]))
        module = model._build_module(CALENDAR_FEATURES + model.scaler_.width)
        module.load_state_dict(payload["state_dict"])
        module.eval()
        model.module_ = module
        model.training_ = TrainingLog(
            **{key: value for key, value in meta["training"].items() if key != "windows_per_second"}
        )
        model.n_parameters_ = int(meta["n_parameters"])
        return model

    # helpers -------------------------------------------------------------------------------------------------

    def _panel(
        self,
        series: Sequence[np.ndarray],
        X: Sequence[np.ndarray] | None,
        horizon: int,
        scaler: CovariateScaler,
        end: np.datetime64 | None,
        X_future: Sequence[np.ndarray] | None = None,
    ) -> PanelWindows:
        return PanelWindows(
            series,
            X,
            context=self.context,
            horizon=horizon,
            scaler=scaler,
            end=end,
            freq=self.freq,
            season_length=self.season_length,
            X_future=X_future,
        )

    def _validation(self, panel: PanelWindows) -> Windows | None:
        validation = panel.validation()
        if validation is None or len(validation) <= MAX_VALIDATION_SERIES:
            return validation
        rows = np.sort(np.random.default_rng(self.seed).choice(len(validation), MAX_VALIDATION_SERIES, replace=False))
        return validation.subset(rows)

    def _assemble(self, output: dict, quantiles: tuple[float, ...], h: int) -> list[Forecast]:
        paths = output.get("paths")
        paths = None if paths is None else np.clip(paths.float().cpu().numpy().astype(np.float64), 0.0, None)
        if "mean" in output:
            mean = np.clip(output["mean"].float().cpu().numpy().astype(np.float64), 0.0, None)
        else:
            mean = paths.mean(axis=1)
        if "quantiles" in output:
            levels = np.asarray(output["levels"], dtype=np.float64)
            grid = np.clip(output["quantiles"].float().cpu().numpy().astype(np.float64), 0.0, None)
            grid = np.sort(grid, axis=1)
            size, _, steps = grid.shape
            # every (window, step) is one column of a quantile function known on the grid
            columns = np.moveaxis(grid, 1, 0).reshape(len(levels), size * steps)
            wanted = np.broadcast_to(np.asarray(quantiles, dtype=np.float64)[:, None], (len(quantiles), size * steps))
            daily = np.moveaxis(quantile_function(columns, levels, wanted).reshape(len(quantiles), size, steps), 0, 1)
        else:
            draws = output.get("draws")
            draws = paths if draws is None else np.clip(draws.float().cpu().numpy().astype(np.float64), 0.0, None)
            daily = np.moveaxis(np.quantile(draws, quantiles, axis=1), 0, 1)
        return [
            Forecast(
                mean=mean[row, :h],
                quantile_levels=quantiles,
                quantiles=daily[row, :, :h],
                paths=None if paths is None else paths[row, :, :h],
                info={"model": self.name},
            )
            for row in range(mean.shape[0])
        ]
