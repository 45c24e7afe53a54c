"""Lead-time laws and lead-time demand from sample paths.

Demand over the protection interval (lead time L plus review period R) is the sum of each sample path's first
L + R days, with L drawn per path from the supplier's law; its quantiles are quantiles of those sums. Summing
daily quantiles instead would assume every day is at its P90 at once and overstate the P90 of the total.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LeadTimeLaw:
    """Days from order to receipt: empirical samples (purchase-order history) or a mean and std (supplier terms).

    With samples, draws are a bootstrap of the history; otherwise a gamma law with that mean and std (lead
    times are positive and right-skewed), or the mean itself when the std is 0. Draws are whole days >= 1.
    """

    mean_days: float
    std_days: float = 0.0
    samples: tuple[float, ...] = ()

    @classmethod
    def from_history(cls, lead_times: list[float] | tuple[float, ...] | np.ndarray) -> LeadTimeLaw:
        values = np.asarray(lead_times, dtype=float)
        if values.size == 0:
            raise ValueError("no lead times in the history")
        return cls(
            mean_days=float(values.mean()),
            std_days=float(values.std(ddof=1)) if values.size > 1 else 0.0,
            samples=tuple(sorted(float(value) for value in values)),  # draws independent of the query order
        )

    @classmethod
    def generated_for(cls, sku: str, *, low_days: int = 7, high_days: int = 21, std_share: float = 0.2) -> LeadTimeLaw:
        """A deterministic stand-in for data without suppliers: mean in [low, high] by a hash of the SKU."""
        mean = low_days + zlib.crc32(sku.encode()) % (high_days - low_days + 1)
        return cls(mean_days=float(mean), std_days=std_share * mean)

    @property
    def source(self) -> str:
        return "purchase-order history" if self.samples else "supplier terms"

    def draw(self, size: int, rng: np.random.Generator) -> np.ndarray:
        if self.samples:
            raw = rng.choice(np.asarray(self.samples, dtype=float), size=size, replace=True)
        elif self.std_days > 0 and self.mean_days > 0:
            shape = (self.mean_days / self.std_days) ** 2
            raw = rng.gamma(shape, self.mean_days / shape, size=size)
        else:
            raw = np.full(size, self.mean_days)
        return np.maximum(np.rint(raw), 1).astype(int)

    def quantile(self, level: float) -> int:
        """A lead time this law exceeds with probability 1 - level, in whole days (from 4,000 seeded draws)."""
        draws = self.draw(4000, np.random.default_rng(0))
        return math.ceil(np.quantile(draws, level))

    def max_days(self) -> int:
        """The longest lead time the planner provisions for: the 99.9% quantile."""
        return max(self.quantile(0.999), math.ceil(self.mean_days))


def protection_demand(
    paths: np.ndarray, *, lead_times: np.ndarray, review_days: int, start_offset: int = 0
) -> np.ndarray:
    """Per path: total demand over days [start_offset, start_offset + L_i + R) of path i.

    paths is (n, h) daily demand; lead_times (n,) whole days, one per path. The horizon must cover the
    longest protection interval: padding with guesses would make the tail up.
    """
    paths = np.asarray(paths, dtype=float)
    n_paths, horizon = paths.shape
    lengths = np.asarray(lead_times, dtype=int) + int(review_days)
    if lengths.shape != (n_paths,):
        raise ValueError("lead_times needs one value per path")
    if start_offset + lengths.max() > horizon:
        raise ValueError(f"paths cover {horizon} days; the protection interval needs {start_offset + lengths.max()}")
    cumulative = np.concatenate([np.zeros((n_paths, 1)), np.cumsum(paths, axis=1)], axis=1)
    rows = np.arange(n_paths)
    return cumulative[rows, start_offset + lengths] - cumulative[rows, start_offset]
