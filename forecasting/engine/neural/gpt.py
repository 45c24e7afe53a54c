"""GPT forecaster: a decoder-only causal Transformer over demand tokens, pretrained on synthetic retail demand.

Every period of a window (context, then horizon) is one position of the sequence. The windows arrive mean-scaled
(windows.PanelWindows); each scaled value becomes a token of the tokenizer.MeanScaleTokenizer grid (PAD for a
missing period, ZERO for exactly no demand, otherwise its bin). The input at position t is the token of period
t - 1 (PAD at t = 0) plus a projection of period t's own time features (calendar, known-future covariates such as
promotion flags) and of the window's log scale, plus a sinusoidal position; the output at t is a distribution
over the tokens of period t. Feeding the previous value and the current period's features is what lets a causal
model use covariates that are known in advance without ever seeing the value it must predict.

Training minimises the next-token cross-entropy over every observed period of the window (teacher forcing).
Forecasting runs the context once, shares its attention keys and values among n_paths paths (BranchedCache: one
read of the context per window and step, whatever the number of paths), then samples one token per path and
period at temperature 1 and feeds it back (a key/value cache keeps each step linear in the sequence length). Paths
are the tokens' bin centres times the scale, so they are non-negative by construction; the mean is the average
over paths of each step's expected value under the predicted distribution, which has far less noise than the
paths' mean. The daily quantiles are read the same way: off the mixture, over paths, of each step's predicted
distribution (the step's marginal law, with the paths' histories integrated out), at the levels 0.01 .. 0.99,
instead of off n_paths sampled tokens; a handful of paths then gives steady quantiles, so the default is 4 paths.
On the development windows of the Online Retail benchmark, one set of weights scored WQL 0.742 / 0.743 / 0.744 /
0.746 with 20 / 8 / 4 / 2 paths, at 244 / 385 / 805 / 940 series per second (a second training: 0.761 / 0.762 with
20 / 4 paths). Those runs used 512 bins; 256 (the default since) scored better there in two trainings each
(docs/neural.md, "The GPT tokeniser and the synthetic corpus").

``pretrain`` fits the model on a synthetic corpus (synthetic.generate_corpus) plus any operator series and saves
a checkpoint; ``from_pretrained`` returns a model that starts from it and fine-tunes on a merchant's panel with
a tenth of the learning rate and a fifth of the epochs (the base's ``init_checkpoint``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from forecasting.engine.neural.base import NeuralModel
from forecasting.engine.neural.synthetic import SyntheticCorpus, generate_corpus
from forecasting.engine.neural.tokenizer import N_SPECIAL, PAD, ZERO, MeanScaleTokenizer
from forecasting.engine.neural.training import TrainingLog, load_checkpoint

# Sequences (windows x paths) sampled together: bounds the key/value cache, which holds every path's history.
MAX_SEQUENCES_PER_PASS = 8192
# Levels at which each step's daily quantiles are read off the paths' mixed token distribution (0.01 .. 0.99)
MIXTURE_LEVELS: tuple[float, ...] = tuple(round(index / 100, 2) for index in range(1, 100))


def sinusoidal_positions(start: int, length: int, d_model: int, device: torch.device) -> torch.Tensor:
    """(length, d_model) fixed codes of positions start..start+length-1 (d_model even; any length, no training)."""
    positions = torch.arange(start, start + length, device=device, dtype=torch.float32)[:, None]
    frequencies = torch.exp(
        torch.arange(0, d_model, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / d_model)
    )
    codes = torch.zeros(length, d_model, device=device)
    codes[:, 0::2] = torch.sin(positions * frequencies)
    codes[:, 1::2] = torch.cos(positions * frequencies)
    return codes


class KeyValueCache:
    """Keys and values of every layer for up to ``length`` positions, preallocated at the first write.

    Sampling writes each new position in place; growing the cache by concatenation would copy the whole history
    at every step (quadratic in the horizon, and most of the sampling time on a CPU)."""

    def __init__(self, n_layers: int, length: int) -> None:
        self.length = length
        self.keys: list[torch.Tensor | None] = [None] * n_layers
        self.values: list[torch.Tensor | None] = [None] * n_layers
        self.filled = 0

    def write(self, layer: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Store (N, heads, L, width) keys and values after the filled positions; all keys and values so far."""
        if self.keys[layer] is None:
            size, heads, _, width = key.shape
            self.keys[layer] = key.new_empty((size, heads, self.length, width))
            self.values[layer] = value.new_empty((size, heads, self.length, width))
        end = self.filled + key.shape[2]
        self.keys[layer][:, :, self.filled : end] = key
        self.values[layer][:, :, self.filled : end] = value
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def attend(self, layer: int, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """Attention of the (N, heads, L, width) queries to the positions so far and to their own, whose keys and
        values are written in; causal when L > 1 (a context pass into an empty cache)."""
        if query.shape[2] > 1 and self.filled:
            raise ValueError("several positions at once only into an empty cache (the context pass)")
        key, value = self.write(layer, key, value)
        return F.scaled_dot_product_attention(query, key, value, is_causal=query.shape[2] > 1)

    def advance(self, positions: int) -> None:
        self.filled += positions

    def branch(self, n_paths: int) -> BranchedCache:
        """A cache for n_paths sample paths per sequence that continue from the positions written so far."""
        return BranchedCache(self, n_paths)


class BranchedCache:
    """The keys and values of a context shared by its n_paths sample paths, plus each path's own positions.

    Sequence i's paths are rows i x n_paths .. (i + 1) x n_paths - 1. Each sampling step attends to the context
    once per sequence for all its paths (a batched product with the paths as query rows) and to the path's own
    positions, under one softmax over both: the same attention as a cache holding a copy of the context per path,
    without reading n_paths copies of it at every step, which was most of the sampling time on a CPU."""

    def __init__(self, shared: KeyValueCache, n_paths: int) -> None:
        self.shared = shared
        self.n_paths = n_paths
        self.own = KeyValueCache(len(shared.keys), shared.length - shared.filled)

    @property
    def filled(self) -> int:
        return self.shared.filled + self.own.filled

    def advance(self, positions: int) -> None:
        self.own.advance(positions)

    def attend(self, layer: int, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """Attention of one new position per path ((N x n_paths, heads, 1, width) queries)."""
        if query.shape[2] != 1:
            raise ValueError("a branched cache takes one position per step")
        own_keys, own_values = self.own.write(layer, key, value)
        shared_keys = self.shared.keys[layer][:, :, : self.shared.filled]
        shared_values = self.shared.values[layer][:, :, : self.shared.filled]
        size, heads, context, width = shared_keys.shape
        paths, steps = self.n_paths, own_keys.shape[2]
        scaling = width**-0.5
        # (size, heads, paths, width): the paths of a sequence as the query rows of one product with its context
        grouped = query.reshape(size, paths, heads, width).transpose(1, 2)
        shared_scores = grouped @ shared_keys.transpose(-1, -2)
        own_scores = (query @ own_keys.transpose(-1, -2)).reshape(size, paths, heads, steps).transpose(1, 2)
        weights = torch.softmax(torch.cat([shared_scores, own_scores], dim=-1) * scaling, dim=-1)
        attended = (weights[..., :context] @ shared_values).transpose(1, 2).reshape(size * paths, heads, 1, width)
        own_weights = weights[..., context:].transpose(1, 2).reshape(size * paths, heads, 1, steps)
        return attended + own_weights @ own_values


class _CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor, cache: KeyValueCache | BranchedCache | None, layer: int) -> torch.Tensor:
        """Attention of x's positions to themselves and to the positions already in ``cache``, which all precede
        them; x's keys and values are written into the cache after those. Masked causally when x has several
        positions (the context pass); one new position (a sampling step) may see all."""
        size, length, width = x.shape
        query, key, value = (
            part.view(size, length, self.n_heads, width // self.n_heads).transpose(1, 2)
            for part in self.qkv(x).split(width, dim=-1)
        )
        if cache is None:
            attended = F.scaled_dot_product_attention(
                query, key, value, dropout_p=self.dropout if self.training else 0.0, is_causal=length > 1
            )
        else:
            attended = cache.attend(layer, query, key, value)
        return self.out(attended.transpose(1, 2).reshape(size, length, width))


class _Block(nn.Module):
    def __init__(self, d_model: int, n_heads: int, dim_feedforward: int, dropout: float) -> None:
        super().__init__()
        self.attention_norm = nn.LayerNorm(d_model)
        self.attention = _CausalSelfAttention(d_model, n_heads, dropout)
        self.feedforward_norm = nn.LayerNorm(d_model)
        self.feedforward = nn.Sequential(
            nn.Linear(d_model, dim_feedforward), nn.GELU(), nn.Linear(dim_feedforward, d_model)
        )
        self.residual_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, cache: KeyValueCache | BranchedCache | None, layer: int) -> torch.Tensor:
        x = x + self.residual_dropout(self.attention(self.attention_norm(x), cache, layer))
        return x + self.residual_dropout(self.feedforward(self.feedforward_norm(x)))


class _Network(nn.Module):
    """Token embedding + conditioning projection + positions -> pre-norm causal blocks -> logits over tokens."""

    def __init__(
        self,
        tokenizer: MeanScaleTokenizer,
        n_conditioning: int,
        d_model: int,
        n_heads: int,
        n_layers: int,
        dim_feedforward: int,
        dropout: float,
    ) -> None:
        super().__init__()
        self.d_model = d_model
        self.n_bins = tokenizer.n_bins
        self.token_embedding = nn.Embedding(tokenizer.vocab_size, d_model)
        self.conditioning = nn.Linear(n_conditioning, d_model)
        self.input_dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(_Block(d_model, n_heads, dim_feedforward, dropout) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, tokenizer.vocab_size)
        # derived from the hyper-parameters, so kept out of the checkpoint
        self.register_buffer("edges", torch.tensor(tokenizer.edges, dtype=torch.float32), persistent=False)
        centres = np.nan_to_num(tokenizer.centres, nan=0.0)
        self.register_buffer("centres", torch.tensor(centres, dtype=torch.float32), persistent=False)

    def tokens(self, scaled: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
        """Tokens of scaled values: the tokenizer's encode with scale 1, on tensors."""
        bins = (torch.bucketize(scaled, self.edges) - 1).clamp(0, self.n_bins - 1) + N_SPECIAL
        tokens = torch.where(scaled > 0, bins, torch.full_like(bins, ZERO))
        return torch.where(observed > 0, tokens, torch.full_like(tokens, PAD))

    def forward(
        self,
        tokens: torch.Tensor,
        conditioning: torch.Tensor,
        cache: KeyValueCache | BranchedCache | None = None,
        last_only: bool = False,
    ) -> torch.Tensor:
        """Logits (N, L, vocab) for the L positions after those already in ``cache`` (from 0 without one); their
        keys and values are added to the cache. ``last_only``: the logits of the last position only (N, 1, vocab),
        as sampling needs after the context pass, without projecting every context position onto the tokens."""
        start = 0 if cache is None else cache.filled
        x = self.token_embedding(tokens) + self.conditioning(conditioning)
        x = self.input_dropout(x + sinusoidal_positions(start, tokens.shape[1], self.d_model, tokens.device))
        for index, block in enumerate(self.blocks):
            x = block(x, cache, index)
        if cache is not None:
            cache.advance(tokens.shape[1])
        if last_only:
            x = x[:, -1:]
        return self.head(self.norm(x)).float()

    def cache(self, length: int) -> KeyValueCache:
        """An empty key/value cache for up to ``length`` positions."""
        return KeyValueCache(len(self.blocks), length)


def sample_tokens(probabilities: torch.Tensor) -> torch.Tensor:
    """(N, 1) one token per row of (N, vocab) probabilities, by inverting each row's cumulative distribution at a
    uniform draw (torch's global generator: callers seed it); several times faster than torch.multinomial on a
    CPU for a few hundred tokens."""
    cumulative = probabilities.cumsum(dim=-1)
    uniform = torch.rand(probabilities.shape[0], 1, device=probabilities.device, dtype=cumulative.dtype)
    token = torch.searchsorted(cumulative, uniform * cumulative[:, -1:], right=True)
    return token.clamp_max(probabilities.shape[1] - 1)


class GPTForecaster(NeuralModel):
    """Decoder-only Transformer over mean-scaled, quantised demand; see the module docstring."""

    name = "gpt"

    def __init__(
        self,
        *,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        dim_feedforward: int | None = None,
        dropout: float = 0.1,
        n_bins: int = 256,
        max_scaled: float = 100.0,
        bin_power: float = 2.0,
        n_paths: int = 4,
        **common,
    ) -> None:
        # a few paths by default: the daily quantiles come from the paths' mixed distributions, not their draws
        super().__init__(n_paths=n_paths, **common)
        self.d_model = d_model
        self.n_heads = n_heads
        self.n_layers = n_layers
        self.dim_feedforward = dim_feedforward
        self.dropout = dropout
        self.n_bins = n_bins
        self.max_scaled = max_scaled
        self.bin_power = bin_power

    @property
    def tokenizer(self) -> MeanScaleTokenizer:
        return MeanScaleTokenizer(n_bins=self.n_bins, max_scaled=self.max_scaled, power=self.bin_power)

    def _build_module(self, n_features: int) -> nn.Module:
        if self.d_model % (2 * self.n_heads):
            raise ValueError("d_model must be a multiple of 2 x n_heads")
        return _Network(
            self.tokenizer,
            n_features + 1,
            self.d_model,
            self.n_heads,
            self.n_layers,
            self.dim_feedforward or 4 * self.d_model,
            self.dropout,
        )

    @staticmethod
    def _conditioning(features: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """Per-position features and the window's log scale (slow and fast movers may behave differently)."""
        log_scale = torch.log1p(scale)[:, None, None].expand(-1, features.shape[1], 1)
        return torch.cat([features, log_scale], dim=-1)

    def _loss(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        values = torch.cat([batch["past_values"], batch["future_values"]], dim=1)
        observed = torch.cat([batch["past_observed"], batch["future_observed"]], dim=1)
        features = torch.cat([batch["past_features"], batch["future_features"]], dim=1)
        targets = module.tokens(values, observed)
        inputs = F.pad(targets, (1, 0), value=PAD)[:, :-1]
        logits = module(inputs, self._conditioning(features, batch["scale"]))
        total = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=PAD, reduction="sum")
        return total / (targets != PAD).sum().clamp_min(1)

    def _forecast(self, module: nn.Module, batch: dict[str, torch.Tensor], h: int, n_paths: int) -> dict:
        n_paths = max(int(n_paths), 1)
        chunk = max(1, MAX_SEQUENCES_PER_PASS // n_paths)
        size = batch["scale"].shape[0]
        parts = [
            self._sample(module, {key: value[start : start + chunk] for key, value in batch.items()}, h, n_paths)
            for start in range(0, size, chunk)
        ]
        output = {key: torch.cat([part[key] for part in parts]) for key in ("paths", "mean", "quantiles")}
        return {**output, "levels": MIXTURE_LEVELS}

    def _sample(self, module: nn.Module, batch: dict[str, torch.Tensor], h: int, n_paths: int) -> dict:
        """n_paths sampled token paths per window, decoded; uses torch's global generator (the base seeds it)."""
        scale = batch["scale"]
        size, context = batch["past_values"].shape
        features = torch.cat([batch["past_features"], batch["future_features"]], dim=1)
        conditioning = self._conditioning(features, scale)
        inputs = F.pad(module.tokens(batch["past_values"], batch["past_observed"]), (1, 0), value=PAD)
        cache = module.cache(context + h)
        logits = module(inputs, conditioning[:, : context + 1], cache, last_only=True)[:, -1]
        logits = logits.repeat_interleave(n_paths, dim=0)
        cache = cache.branch(n_paths)
        conditioning = conditioning.repeat_interleave(n_paths, dim=0)
        draws, expected, mixed = [], [], []
        levels = torch.tensor(MIXTURE_LEVELS, device=logits.device)
        for step in range(h):
            logits[:, PAD] = -torch.inf
            probabilities = torch.softmax(logits, dim=-1)
            token = sample_tokens(probabilities)
            draws.append(token[:, 0])
            expected.append(probabilities @ module.centres)
            mixed.append(self._mixture_tokens(probabilities.float().reshape(size, n_paths, -1).mean(dim=1), levels))
            if step + 1 < h:
                position = context + 1 + step
                logits = module(token, conditioning[:, position : position + 1], cache)[:, -1]
        path_scale = scale.repeat_interleave(n_paths)[:, None]
        paths = (module.centres[torch.stack(draws, dim=1)] * path_scale).reshape(size, n_paths, h)
        mean = (torch.stack(expected, dim=1) * path_scale).reshape(size, n_paths, h).mean(dim=1)
        quantiles = module.centres[torch.stack(mixed, dim=-1)] * scale[:, None, None]
        return {"paths": paths, "mean": mean, "quantiles": quantiles}

    @staticmethod
    def _mixture_tokens(probabilities: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        """(S, q) token at each level of every row's distribution (S, vocab): the first whose cumulative
        probability reaches the level. Tokens are ordered by value (PAD, which has none, has probability 0)."""
        cumulative = probabilities.cumsum(dim=-1)
        cumulative = cumulative / cumulative[:, -1:].clamp_min(1e-12)
        index = torch.searchsorted(cumulative.contiguous(), levels.expand(len(cumulative), -1).contiguous())
        return index.clamp(max=probabilities.shape[-1] - 1)


def pretrain(
    path: str | Path,
    *,
    corpus: SyntheticCorpus | None = None,
    n_series: int = 2000,
    length: int = 730,
    series: Sequence[np.ndarray] = (),
    X: Sequence[np.ndarray] | None = None,
    with_promotions: bool = False,
    progress: Callable[[TrainingLog], None] | None = None,
    **params,
) -> GPTForecaster:
    """Fit a GPTForecaster(**params) on a synthetic corpus plus operator ``series`` and save it at ``path``.

    corpus: the synthetic series (default: generate_corpus(n_series, length) at the model's freq and seed).
    with_promotions: train with the corpus' promotion flag as one covariate; operator series then need X with one
    column each (zeros when absent). A checkpoint with the flag fine-tunes only on panels with one covariate, and
    one without it (the default: nightly runs train on demand alone) only on panels without covariates.
    """
    model = GPTForecaster(**params)
    if corpus is None:
        corpus = generate_corpus(n_series, length, freq=model.freq, seed=model.seed)
    panel = list(corpus.series) + [np.asarray(values, dtype=np.float64) for values in series]
    covariates = None
    if with_promotions:
        operator = list(X) if X is not None else [np.zeros((len(values), 1)) for values in series]
        if any(np.asarray(block).reshape(len(block), -1).shape[1] != 1 for block in operator):
            raise ValueError("with_promotions needs exactly one covariate column per operator series")
        covariates = list(corpus.covariates) + operator
    model.fit(panel, covariates, progress=progress)
    model.save(path)
    return model


def from_pretrained(path: str | Path, **overrides) -> GPTForecaster:
    """An unfitted GPTForecaster with the checkpoint's architecture whose fit starts from the checkpoint's weights.

    Fine-tuning defaults: a tenth of the pretraining learning rate and a fifth of its epochs; ``overrides`` win.
    """
    params = load_checkpoint(path)["params"]
    fine_tuning = {
        "learning_rate": params["learning_rate"] / 10.0,
        "max_epochs": max(1, params["max_epochs"] // 5),
        "init_checkpoint": str(path),
    }
    return GPTForecaster(**{**params, **fine_tuning, **overrides})
