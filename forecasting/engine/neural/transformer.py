"""Transformer forecaster: a patch encoder over the context and a direct multi-horizon quantile head.

Encoder. The context is cut into patches of ``patch_len`` periods (default: the season length, so a daily
patch is one week), right-aligned on the forecast origin and zero-padded on the left, so the last patch always
holds the most recent periods and a given slot of it is always the same distance from every forecast step. A
patch is embedded linearly from its scaled values (clipped, as in deepar), their observed flags and every
period's time features (calendar and covariates concatenated, so the encoder knows which day of a patch was
promoted), plus a learned positional embedding. A learned **forecast token**, carrying the log of the window's
scale, is appended; it reads the patches in every layer but no patch reads it and it does not attend to itself,
so its last-layer attention row is a distribution over the context patches (``attention``: what the forecast
looked at). Patches without an observed period (before launch, left padding) are masked as keys unless the
whole context is unobserved.

Head. Each forecast step gets its own quantiles from the forecast token's output, that step's time features
(calendar and known-future covariates: a promotion flagged on a future day changes that day's forecast), a
learned step embedding, and a **seasonal reference**: the mean observed scaled value at the same season phase
over the last few seasons of the context. The reference gives the head the weekly shape directly instead of
squeezing it through one pooled vector, which a short training run on a small panel would not learn well.

Quantiles. The head outputs a fixed grid of ``QUANTILE_LEVELS`` (0.02, 0.06, .., 0.98: 25 equally spaced
levels, the midpoints of 25 equal slices of probability, which include 0.1, 0.5 and 0.9) of scaled demand as
a free lowest level plus cumulative softplus increments, so they increase by construction, and forecasts are
clipped at zero (so that the low quantiles of intermittent demand can be exactly zero); training minimises
the pinball loss over the grid on every observed target period, each window weighted by its scale (the loss in
units of demand, as WQL weighs a catalogue; ``loss_weighting="window"`` weighs windows alike). Other requested
levels are interpolated on the grid; levels outside [0.02, 0.98] get the end quantiles. The mean is the average
of the grid: the midpoint rule for the integral of the quantile function, so it needs no second head and no second
loss to balance; a mean head trained with squared error would be dragged by bulk orders, which the pinball loss
shrugs off.

Paths. Each path draws one shared normal factor and one independent normal per step, mixed with correlation
``path_correlation`` (a Gaussian copula with equal correlation between all steps), and maps them through each
step's quantile function (linear between grid levels). Every step's marginal is its forecast quantile function;
the shared factor stands for the level uncertainty common to all days of a path (the series sells more or less
than expected for the whole lead time), which daily quantiles cannot express. 0 would make lead-time sums too
narrow (independent days average out), 1 would add daily quantiles up (too wide); the default 0.3 sits between.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from forecasting.engine.base import DEFAULT_QUANTILES, Forecast
from forecasting.engine.neural.base import NeuralModel
from forecasting.engine.neural.training import resolve_device, to_tensors, torch_threads
from forecasting.engine.neural.windows import MAX_SCALED_INPUT

N_LEVELS = 25
QUANTILE_LEVELS: tuple[float, ...] = tuple(round((index + 0.5) / N_LEVELS, 4) for index in range(N_LEVELS))
# seasons of the context averaged into the seasonal reference of a forecast step
REFERENCE_SEASONS = 4
# at initialisation the grid spans about 0 .. this many scales
INITIAL_SPREAD = 3.0
# "scale" (the default): each training window counts by its scale, so the loss is the pinball loss in units of
# demand, the weighting of the WQL a catalogue is judged by; "window": every window counts alike in scaled units
LOSS_WEIGHTINGS = ("window", "scale")


def pinball_loss(target: torch.Tensor, quantiles: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Elementwise quantile loss, averaged over the last axis (levels): target (...), quantiles (..., q)."""
    error = target[..., None] - quantiles
    return torch.maximum(levels * error, (levels - 1.0) * error).mean(dim=-1)


class _EncoderLayer(nn.Module):
    """Pre-norm self-attention + feed-forward block that can hand back its attention weights."""

    def __init__(self, d_model: int, n_heads: int, dim_feedforward: int, dropout: float) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.norm_attention = nn.LayerNorm(d_model)
        self.norm_feedforward = nn.LayerNorm(d_model)
        self.feedforward = nn.Sequential(
            nn.Linear(d_model, dim_feedforward),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(dim_feedforward, d_model),
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, attn_mask: torch.Tensor, key_padding_mask: torch.Tensor, need_weights: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        normed = self.norm_attention(x)
        attended, weights = self.attention(
            normed,
            normed,
            normed,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=need_weights,
            average_attn_weights=True,
        )
        x = x + self.dropout(attended)
        x = x + self.dropout(self.feedforward(self.norm_feedforward(x)))
        return x, weights


class _Network(nn.Module):
    """Patch encoder + forecast token + per-step quantile head; outputs scaled quantiles (B, h, q)."""

    def __init__(
        self,
        *,
        n_features: int,
        context: int,
        horizon: int,
        patch_len: int,
        season_length: int,
        d_model: int,
        n_heads: int,
        num_layers: int,
        dim_feedforward: int,
        dropout: float,
        head_hidden: int,
    ) -> None:
        super().__init__()
        self.context = context
        self.patch_len = patch_len
        self.n_patches = math.ceil(context / patch_len)
        self.embed = nn.Linear(patch_len * (2 + n_features), d_model)
        self.position = nn.Parameter(torch.randn(self.n_patches, d_model) * 0.02)
        self.forecast_token = nn.Parameter(torch.randn(d_model) * 0.02)
        self.embed_scale = nn.Linear(1, d_model)
        self.layers = nn.ModuleList(
            _EncoderLayer(d_model, n_heads, dim_feedforward, dropout) for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        # the head's first layer acts on [summary, step, step inputs]; it is split into its three blocks so the
        # summary is projected once per window and the step embedding once per step, not once per (window, step)
        self.head_summary = nn.Linear(d_model, head_hidden)
        self.head_step = nn.Parameter(torch.randn(horizon, head_hidden) * 0.02)
        self.head_inputs = nn.Linear(n_features + 2, head_hidden, bias=False)
        self.head_output = nn.Sequential(nn.GELU(), nn.Dropout(dropout), nn.Linear(head_hidden, N_LEVELS))
        nn.init.constant_(self.head_output[-1].bias, math.log(math.expm1(INITIAL_SPREAD / N_LEVELS)))
        # the patches may attend to each other only; the forecast token (last) reads the patches, never itself
        tokens = self.n_patches + 1
        mask = torch.zeros(tokens, tokens, dtype=torch.bool)
        mask[:, -1] = True
        self.register_buffer("attn_mask", mask, persistent=False)
        self.register_buffer("reference_index", self._reference_index(season_length, horizon), persistent=False)

    def _reference_index(self, season_length: int, horizon: int) -> torch.Tensor:
        """(horizon, seasons): context columns at the same season phase as each forecast step."""
        season = max(1, min(int(season_length), self.context))
        seasons = max(1, min(REFERENCE_SEASONS, self.context // season))
        steps = torch.arange(horizon)[:, None]
        back = torch.arange(seasons)[None, :]
        return self.context - season + steps % season - back * season

    def encode(
        self,
        values: torch.Tensor,
        observed: torch.Tensor,
        features: torch.Tensor,
        scale: torch.Tensor,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The forecast token's output (B, d) and, when asked, its last-layer attention over patches (B, n)."""
        size = values.shape[0]
        values = values.clamp(max=MAX_SCALED_INPUT)
        pad = self.n_patches * self.patch_len - self.context
        values = F.pad(values, (pad, 0)).reshape(size, self.n_patches, self.patch_len)
        observed = F.pad(observed, (pad, 0)).reshape(size, self.n_patches, self.patch_len)
        features = F.pad(features, (0, 0, pad, 0)).reshape(size, self.n_patches, -1)
        patches = self.embed(torch.cat([values, observed, features], dim=-1)) + self.position
        token = self.forecast_token + self.embed_scale(torch.log1p(scale)[:, None])
        x = torch.cat([patches, token[:, None, :]], dim=1)
        empty = observed.sum(dim=-1) == 0
        empty = empty & ~empty.all(dim=1, keepdim=True)
        key_padding_mask = F.pad(empty, (0, 1))
        weights = None
        for index, layer in enumerate(self.layers):
            last = index == len(self.layers) - 1
            x, weights = layer(x, self.attn_mask, key_padding_mask, need_weights and last)
        summary = self.norm(x[:, -1])
        return summary, None if weights is None else weights[:, -1, : self.n_patches]

    def forward(
        self,
        past_values: torch.Tensor,
        past_observed: torch.Tensor,
        past_features: torch.Tensor,
        future_features: torch.Tensor,
        scale: torch.Tensor,
    ) -> torch.Tensor:
        values = past_values.clamp(max=MAX_SCALED_INPUT)
        summary, _ = self.encode(values, past_observed, past_features, scale)
        h = future_features.shape[1]
        index = self.reference_index[:h]
        seen = past_observed[:, index]
        count = seen.sum(dim=-1)
        reference = (values[:, index] * seen).sum(dim=-1) / count.clamp_min(1.0)
        step_inputs = torch.cat(
            [future_features, reference[..., None], (count > 0).to(values.dtype)[..., None]], dim=-1
        )
        hidden = self.head_summary(summary)[:, None, :] + self.head_step[:h] + self.head_inputs(step_inputs)
        raw = self.head_output(hidden).float()
        # the lowest level is free (it may go below zero in training), the others add softplus steps: monotone
        # by construction, and a forecast clipped at zero can put its low quantiles exactly at zero, where
        # intermittent demand has most of its mass (softplus alone keeps every quantile a little above zero)
        return torch.cat([raw[..., :1], raw[..., :1] + F.softplus(raw[..., 1:]).cumsum(dim=-1)], dim=-1)


class TransformerForecaster(NeuralModel):
    """Patch Transformer with a direct quantile head; see the module docstring.

    patch_len: periods per patch (None: the season length); d_model, n_heads, num_layers, dim_feedforward,
    dropout: the encoder; head_hidden: the per-step head's hidden width; path_correlation: the shared-factor
    correlation of sample paths across steps (0 <= rho < 1); loss_weighting: "scale" or "window" (see
    LOSS_WEIGHTINGS).
    """

    name = "transformer"

    def __init__(
        self,
        *,
        patch_len: int | None = None,
        d_model: int = 64,
        n_heads: int = 4,
        num_layers: int = 2,
        dim_feedforward: int = 128,
        dropout: float = 0.1,
        head_hidden: int = 64,
        path_correlation: float = 0.3,
        loss_weighting: str = "scale",
        **common,
    ) -> None:
        super().__init__(**common)
        if loss_weighting not in LOSS_WEIGHTINGS:
            raise ValueError(f"loss_weighting must be one of {', '.join(LOSS_WEIGHTINGS)}, not {loss_weighting!r}")
        self.loss_weighting = loss_weighting
        self.patch_len = patch_len
        self.d_model = d_model
        self.n_heads = n_heads
        self.num_layers = num_layers
        self.dim_feedforward = dim_feedforward
        self.dropout = dropout
        self.head_hidden = head_hidden
        self.path_correlation = path_correlation

    @property
    def patch_length(self) -> int:
        """Periods per patch: ``patch_len``, or the season length when it is None."""
        length = int(self.season_length if self.patch_len is None else self.patch_len)
        if length < 1:
            raise ValueError(f"patch_len must be >= 1, not {length}")
        return length

    # hooks --------------------------------------------------------------------------------------------------

    def _build_module(self, n_features: int) -> nn.Module:
        if not 0.0 <= self.path_correlation < 1.0:
            raise ValueError(f"path_correlation must be in [0, 1), not {self.path_correlation}")
        return _Network(
            n_features=n_features,
            context=self.context,
            horizon=self.horizon,
            patch_len=self.patch_length,
            season_length=self.season_length,
            d_model=self.d_model,
            n_heads=self.n_heads,
            num_layers=self.num_layers,
            dim_feedforward=self.dim_feedforward,
            dropout=self.dropout,
            head_hidden=self.head_hidden,
        )

    def _loss(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        quantiles = module(
            batch["past_values"],
            batch["past_observed"],
            batch["past_features"],
            batch["future_features"],
            batch["scale"],
        )
        levels = torch.tensor(QUANTILE_LEVELS, device=quantiles.device)
        target = batch["future_values"].float()
        weights = batch["future_observed"]
        if self.loss_weighting == "scale":
            scale = batch["scale"].float()
            weights = weights * (scale / scale.mean().clamp_min(1e-9))[:, None]
        return (pinball_loss(target, quantiles, levels) * weights).sum() / weights.sum().clamp_min(1.0)

    def _forecast(self, module: nn.Module, batch: dict[str, torch.Tensor], h: int, n_paths: int) -> dict:
        scaled = module(
            batch["past_values"],
            batch["past_observed"],
            batch["past_features"],
            batch["future_features"],
            batch["scale"],
        )
        quantiles = scaled.clamp_min(0.0) * batch["scale"][:, None, None]
        return {
            "quantiles": quantiles.transpose(1, 2),
            "levels": QUANTILE_LEVELS,
            "mean": quantiles.mean(dim=-1),
            "paths": self._sample_paths(quantiles, max(int(n_paths), 1)),
        }

    def _sample_paths(self, quantiles: torch.Tensor, n_paths: int) -> torch.Tensor:
        """(B, n_paths, h) draws through each step's quantile function, one shared normal factor per path."""
        size, h, _ = quantiles.shape
        rho = float(self.path_correlation)
        shared = torch.randn(size, n_paths, 1, device=quantiles.device)
        own = torch.randn(size, n_paths, h, device=quantiles.device)
        uniform = torch.special.ndtr(math.sqrt(rho) * shared + math.sqrt(1.0 - rho) * own)
        position = ((uniform - QUANTILE_LEVELS[0]) * N_LEVELS).clamp(0.0, N_LEVELS - 1.0)
        lower = position.floor().long().clamp(max=N_LEVELS - 2)
        fraction = position - lower
        grid = quantiles[:, None, :, :].expand(size, n_paths, h, N_LEVELS)
        below = grid.gather(-1, lower[..., None])[..., 0]
        above = grid.gather(-1, (lower + 1)[..., None])[..., 0]
        return below + fraction * (above - below)

    # contract ------------------------------------------------------------------------------------------------

    def predict(
        self,
        h: int,
        series: Sequence[np.ndarray],
        X: Sequence[np.ndarray] | None = None,
        X_future: Sequence[np.ndarray] | None = None,
        quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
        end: np.datetime64 | None = None,
    ) -> list[Forecast]:
        """As NeuralModel.predict; the head is direct, so h may not exceed the trained horizon."""
        if not 1 <= int(h) <= self.horizon:
            raise ValueError(f"{self.name} forecasts 1 to {self.horizon} periods (its trained horizon), not h={h}")
        return super().predict(h, series, X=X, X_future=X_future, quantiles=quantiles, end=end)

    def attention(
        self,
        series: Sequence[np.ndarray],
        X: Sequence[np.ndarray] | None = None,
        end: np.datetime64 | None = None,
    ) -> np.ndarray:
        """(len(series), n_patches): last-layer attention of the forecast token over the context patches,
        averaged over heads; each row sums to 1. Column j covers the ``patch_length`` periods that end
        (n_patches - 1 - j) * patch_length periods before the forecast origin: the last column is the most
        recent patch. The context is the last ``context`` periods of each series, as in predict."""
        if not hasattr(self, "module_"):
            raise RuntimeError(f"{self.name} is not fitted")
        if self.scaler_.width and X is None:
            raise ValueError(f"{self.name} was trained with {self.scaler_.width} covariates; pass X")
        panel = self._panel(series, X if self.scaler_.width else None, self.horizon, self.scaler_, end)
        windows = panel.prediction()
        module = self.module_
        rows = []
        with torch_threads(self.threads):
            device = resolve_device(self.device)
            module.to(device).eval()
            with torch.no_grad():
                for start in range(0, len(windows), self.predict_batch):
                    batch = to_tensors(windows.subset(slice(start, start + self.predict_batch)), device)
                    _, weights = module.encode(
                        batch["past_values"],
                        batch["past_observed"],
                        batch["past_features"],
                        batch["scale"],
                        need_weights=True,
                    )
                    rows.append(weights.float().cpu().numpy().astype(np.float64))
        return np.concatenate(rows) if rows else np.zeros((0, module.n_patches))
