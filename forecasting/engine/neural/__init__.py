"""The neural tier: global models trained across a catalogue (torch), following the engine contract.

make_neural_model(name, **params) returns an unfitted model; torch is imported only then, so the statistical
engine stays light. Every model: fit(series, X=None, end=None) on a panel of series ending on the same date,
predict(h, series, X=None, X_future=None, quantiles=..., end=None) -> one Forecast per series, save(path) and
Class.load(path, device=...). Common hyper-parameters (forecasting.engine.neural.base.NeuralModel): horizon,
context_length, season_length, freq, batch_size, max_epochs, steps_per_epoch, learning_rate, patience,
max_seconds, n_paths, init_checkpoint, device ("auto": cuda when present), threads, seed.

Models:
- lstm and gru: DeepAR-style, negative binomial (forecasting.engine.neural.deepar);
- transformer: patch encoder with a direct multi-horizon quantile head and retrievable attention
  (forecasting.engine.neural.transformer);
- gpt: decoder-only Transformer over mean-scaled, quantised tokens, pretrained on a synthetic demand corpus and
  fine-tuned per merchant (forecasting.engine.neural.gpt, tokenizer, synthetic).
"""

from __future__ import annotations

from importlib import import_module

# name -> (module, class) so that importing this package does not import torch
NEURAL_MODELS: dict[str, tuple[str, str]] = {
    "lstm": ("forecasting.engine.neural.deepar", "LstmForecaster"),
    "gru": ("forecasting.engine.neural.deepar", "GruForecaster"),
    "transformer": ("forecasting.engine.neural.transformer", "TransformerForecaster"),
    "gpt": ("forecasting.engine.neural.gpt", "GPTForecaster"),
}
NEURAL_MODEL_NAMES: tuple[str, ...] = tuple(NEURAL_MODELS)


def neural_model_class(name: str) -> type:
    try:
        module, attribute = NEURAL_MODELS[name]
    except KeyError:
        raise KeyError(f"unknown neural model {name!r}; known: {', '.join(NEURAL_MODEL_NAMES)}") from None
    return getattr(import_module(module), attribute)


def make_neural_model(name: str, **params):
    """An unfitted neural model by name; unknown names raise KeyError listing the known ones."""
    return neural_model_class(name)(**params)
