"""Mean scaling and quantisation: demand values to a small vocabulary of tokens and back.

A language model needs discrete tokens. Each series (or context window) is divided by its mean absolute value
over observed steps, which puts a slow mover and a best seller on the same footing; the scaled value is then
replaced by the index of its bin on one fixed grid shared by every series. The scale follows the windows of the
neural tier (windows.MIN_SCALE floor; 1 for a context without a sale, which has no unit of its own), so a
series tokenised here and a window cut there see the same numbers.

Demand is non-negative and very often exactly zero, so the vocabulary is:
- PAD (0): a missing value (NaN or infinite: before launch, censored days). It decodes to NaN.
- ZERO (1): exactly zero (negative values, returns in excess of sales, count as zero). It decodes to exactly 0.
- n_bins bin tokens (2 ..): the grid on (0, max_scaled] has edges max_scaled * (i / n_bins) ** power, so bins
  are finest near zero, where counts of 1, 2, 3 of a slow mover land, and widest in the tail. A value decodes
  to its bin centre times the scale, so the round trip error is at most half a bin width times the scale for
  scaled values up to max_scaled; larger ones (bulk orders far above the mean) land in the last bin.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from forecasting.engine.neural.windows import MIN_SCALE, context_scale

PAD = 0
ZERO = 1
N_SPECIAL = 2


@dataclass(frozen=True)
class MeanScaleTokenizer:
    """Tokeniser over a fixed grid; encode/decode work on (..., T) arrays with one scale per row."""

    n_bins: int = 256
    max_scaled: float = 100.0
    power: float = 2.0
    min_scale: float = MIN_SCALE

    def __post_init__(self) -> None:
        if self.n_bins < 1 or self.max_scaled <= 0 or self.power <= 0 or self.min_scale <= 0:
            raise ValueError("n_bins must be >= 1 and max_scaled, power, min_scale > 0")

    @property
    def vocab_size(self) -> int:
        return N_SPECIAL + self.n_bins

    @cached_property
    def edges(self) -> np.ndarray:
        """(n_bins + 1,) bin edges of the scaled values, from 0 to max_scaled."""
        return self.max_scaled * np.linspace(0.0, 1.0, self.n_bins + 1) ** self.power

    @cached_property
    def centres(self) -> np.ndarray:
        """(vocab_size,) scaled value of every token: NaN for PAD, 0 for ZERO, bin centres for the rest."""
        return np.concatenate([[np.nan, 0.0], (self.edges[:-1] + self.edges[1:]) / 2.0])

    def scale_of(self, context: np.ndarray) -> np.ndarray:
        """(...,) the windows' scale of each row (windows.context_scale: outlier-capped mean of the observed
        steps), floored at this tokenizer's min_scale; 1 without sales."""
        scale = context_scale(context)
        return np.where(scale == 1.0, 1.0, np.maximum(scale, self.min_scale))

    def encode(self, values: np.ndarray, scale: np.ndarray | float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(token ids int64 of values' shape, scale (...,)). scale None: each row's own scale_of.

        Pass the context's scale to encode the targets that follow it, so both share one unit.
        """
        values = np.asarray(values, dtype=np.float64)
        scale = self.scale_of(values) if scale is None else np.asarray(scale, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            scaled = values / scale[..., None]
        bins = np.clip(np.searchsorted(self.edges, scaled, side="left") - 1, 0, self.n_bins - 1)
        tokens = np.where(scaled > 0, N_SPECIAL + bins, ZERO)
        tokens = np.where(np.isfinite(scaled), tokens, PAD)
        return tokens.astype(np.int64), scale

    def decode(self, tokens: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
        """Values of tokens (..., T) given each row's scale (...,): bin centre x scale, 0 for ZERO, NaN for PAD."""
        return self.centres[np.asarray(tokens)] * np.asarray(scale, dtype=np.float64)[..., None]
