"""LSTM and GRU forecasters: DeepAR-style autoregressive global models with a negative binomial likelihood.

Every period of a window is one step of a recurrent network whose input is the previous period's scaled demand
and its observed flag, the demand one season earlier (so the weekly rhythm need not be carried in the hidden
state), the period's calendar and covariate features, and the log of the window's scale. The output at each step
is the negative binomial law of that period's demand in units: mean ``softplus(a) x scale`` and dispersion
``softplus(b)`` (variance = mean + dispersion x mean^2), which fits counts, zeros and bulk orders better than a
Gaussian. Training maximises the likelihood of every observed period of the window (context and horizon, teacher
forcing); forecasting runs the network over the context, then samples ``n_paths`` paths one period at a time,
each sampled value fed back as the next input, so paths carry the serial dependence that lead-time sums need.
The daily quantiles use ``draws_per_path`` draws per path from each step's law (the network runs once per path;
the extra draws cost only the sampling), so the default 10 paths x 10 draws give quantiles about as steady as 100
paths at a tenth of the network passes; lead-time sums come from the 10 paths. On the development windows of the
Online Retail benchmark 10 x 10 scored like 16 x 6 (lstm WQL 0.813 vs 0.815, gru 0.752 vs 0.752, the same MASE)
at about 1.3 times the speed.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from forecasting.engine.neural.base import NeuralModel
from forecasting.engine.neural.windows import MAX_SCALED_INPUT

MIN_DISPERSION = 1e-4


def negative_binomial_nll(y: torch.Tensor, mean: torch.Tensor, dispersion: torch.Tensor) -> torch.Tensor:
    """Elementwise negative log-likelihood of counts y under NB(mean, dispersion); y may be non-integer."""
    r = 1.0 / dispersion
    log_ratio = torch.log1p(mean * dispersion)
    log_likelihood = (
        torch.lgamma(y + r)
        - torch.lgamma(r)
        - torch.lgamma(y + 1.0)
        - r * log_ratio
        + y * (torch.log(mean * dispersion + 1e-12) - log_ratio)
    )
    return -log_likelihood


def sample_negative_binomial(mean: torch.Tensor, dispersion: torch.Tensor) -> torch.Tensor:
    """One draw per element, as a gamma-Poisson mixture (uses torch's global generator: callers seed it)."""
    r = 1.0 / dispersion
    rate = torch.distributions.Gamma(r, r / mean.clamp_min(1e-8)).sample()
    return torch.poisson(rate)


def sample_negative_binomial_block(
    mean: torch.Tensor, dispersion: torch.Tensor, shape: tuple[int, ...]
) -> torch.Tensor:
    """Draws of shape ``shape`` from NB laws broadcast from (mean, dispersion), as sample_negative_binomial.

    On a CPU the draws come from a numpy generator seeded off torch's global generator (deterministic under the
    base's seeding): its gamma draws take about half the time of torch's, which were a third of the lstm/gru
    inference time for the daily quantiles' extra draws."""
    if mean.device.type != "cpu":
        return sample_negative_binomial(mean.expand(shape), dispersion.expand(shape))
    generator = np.random.default_rng(int(torch.randint(0, 2**62, (1,)).item()))
    r = (1.0 / dispersion).float().numpy()
    scale = mean.clamp_min(1e-8).float().numpy() / r
    rate = generator.standard_gamma(np.broadcast_to(r, shape), dtype=np.float32) * np.broadcast_to(scale, shape)
    return torch.from_numpy(generator.poisson(rate).astype(np.float32))


class _Network(nn.Module):
    def __init__(self, cell: str, n_features: int, hidden_size: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        recurrent = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = recurrent(
            input_size=4 + n_features,
            hidden_size=hidden_size,
            num_layers=num_layers,
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.head = nn.Linear(hidden_size, 2)

    def law(self, hidden: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw = self.head(hidden).float()
        mean = F.softplus(raw[..., 0]) * scale + 1e-6
        dispersion = F.softplus(raw[..., 1]) + MIN_DISPERSION
        return mean, dispersion


class DeepAR(NeuralModel):
    """Autoregressive recurrent forecaster (``cell`` "lstm" or "gru"); see the module docstring."""

    cell = "lstm"

    def __init__(
        self,
        *,
        hidden_size: int = 40,
        num_layers: int = 2,
        dropout: float = 0.1,
        n_paths: int = 10,
        draws_per_path: int = 10,
        **common,
    ) -> None:
        super().__init__(n_paths=n_paths, **common)
        if int(draws_per_path) < 1:
            raise ValueError(f"draws_per_path must be >= 1, not {draws_per_path}")
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.draws_per_path = draws_per_path

    def _build_module(self, n_features: int) -> nn.Module:
        return _Network(self.cell, n_features, self.hidden_size, self.num_layers, self.dropout)

    def _inputs(
        self, values: torch.Tensor, observed: torch.Tensor, features: torch.Tensor, scale: torch.Tensor
    ) -> torch.Tensor:
        """Per-step inputs for a sequence whose step t predicts values[:, t]: lag 1, its flag, lag season."""
        lag = self.season_length if self.season_length > 1 else 1
        clipped = values.clamp(max=MAX_SCALED_INPUT)
        previous = F.pad(clipped, (1, 0))[:, :-1]
        previous_observed = F.pad(observed, (1, 0))[:, :-1]
        seasonal = F.pad(clipped, (lag, 0))[:, : values.shape[1]]
        log_scale = torch.log1p(scale)[:, None].expand_as(values)
        return torch.cat(
            [previous[..., None], previous_observed[..., None], seasonal[..., None], log_scale[..., None], features],
            dim=-1,
        )

    def _loss(self, module: nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        values = torch.cat([batch["past_values"], batch["future_values"]], dim=1)
        observed = torch.cat([batch["past_observed"], batch["future_observed"]], dim=1)
        features = torch.cat([batch["past_features"], batch["future_features"]], dim=1)
        scale = batch["scale"]
        hidden, _ = module.rnn(self._inputs(values, observed, features, scale))
        mean, dispersion = module.law(hidden, scale[:, None])
        # the first step has no previous value to condition on
        weights = observed.clone()
        weights[:, 0] = 0.0
        nll = negative_binomial_nll(values * scale[:, None], mean, dispersion)
        return (nll * weights).sum() / weights.sum().clamp_min(1.0)

    def _forecast(self, module: nn.Module, batch: dict[str, torch.Tensor], h: int, n_paths: int) -> dict:
        n_paths = max(int(n_paths), 1)
        scale = batch["scale"]
        past_values, past_observed = batch["past_values"], batch["past_observed"]
        inputs = self._inputs(past_values, past_observed, batch["past_features"], scale)
        _, state = module.rnn(inputs)
        size = past_values.shape[0]

        def repeat(tensor: torch.Tensor, dim: int = 0) -> torch.Tensor:
            return tensor.repeat_interleave(n_paths, dim=dim)

        state = tuple(repeat(part, 1) for part in state) if isinstance(state, tuple) else repeat(state, 1)
        path_scale = repeat(scale)
        log_scale = torch.log1p(path_scale)[:, None]
        lag = self.season_length if self.season_length > 1 else 1
        # the last `lag` context values, then each sampled value: step t's seasonal input is recent[:, t]
        tail = past_values[:, -lag:].clamp(max=MAX_SCALED_INPUT)
        recent = torch.zeros(size * n_paths, lag + h, device=past_values.device, dtype=past_values.dtype)
        recent[:, lag - tail.shape[1] : lag] = repeat(tail)
        last_value, last_observed = recent[:, lag - 1], repeat(past_observed[:, -1])
        future_features = repeat(batch["future_features"])
        samples, means, dispersions = [], [], []
        for step in range(h):
            step_input = torch.cat(
                [
                    last_value[:, None],
                    last_observed[:, None],
                    recent[:, step, None],
                    log_scale,
                    future_features[:, step],
                ],
                dim=-1,
            )[:, None, :]
            output, state = module.rnn(step_input, state)
            mean, dispersion = module.law(output[:, 0], path_scale)
            draw = sample_negative_binomial(mean, dispersion)
            samples.append(draw)
            means.append(mean)
            dispersions.append(dispersion)
            last_value = (draw / path_scale).clamp(max=MAX_SCALED_INPUT)
            last_observed = torch.ones_like(last_value)
            recent[:, lag + step] = last_value
        paths = torch.stack(samples, dim=1).reshape(size, n_paths, h)
        path_means = torch.stack(means, dim=1)
        mean = path_means.reshape(size, n_paths, h).mean(dim=1)
        output = {"paths": paths, "mean": mean}
        extra = int(self.draws_per_path) - 1
        if extra > 0:
            # more draws of each step from each path's own law at that step: the same marginal as the path's
            # draw (the law is conditional on the path's history), so the daily quantiles get n_paths x
            # draws_per_path draws for the cost of n_paths network passes; the paths stay as sampled
            shape = (size * n_paths, extra, h)
            more = sample_negative_binomial_block(
                path_means[:, None, :], torch.stack(dispersions, dim=1)[:, None, :], shape
            ).to(paths.dtype)
            draws = torch.cat([paths, more.reshape(size, n_paths * extra, h)], dim=1)
            output["draws"] = draws
        return output


class LstmForecaster(DeepAR):
    name = "lstm"
    cell = "lstm"


class GruForecaster(DeepAR):
    name = "gru"
    cell = "gru"
