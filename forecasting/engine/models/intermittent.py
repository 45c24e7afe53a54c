"""Intermittent-demand models, vectorised over a panel: Croston, SBA, TSB, ADIDA, IMAPA.

Missing days are dropped before the demand events are read (a censored day is neither a zero nor a sale).
- croston: SES (fixed alpha) of the non-zero sizes z and of the intervals p between them; forecast z / p.
  The first interval counts from the first observed day (as statsforecast does).
- sba: croston times (1 - alpha / 2), the Syntetos-Boylan bias correction.
- tsb: SES of the demand indicator (alpha_p, updated every day) times SES of the sizes (alpha_d).
- adida: the series summed into buckets of its mean inter-demand interval (rounded), SES with alpha optimised in
  [0.1, 0.3] on the buckets, divided by the bucket length.
- imapa: the mean of the ADIDA forecasts over every bucket length from 1 to that interval.

Law (CountLaw, a documented bootstrap): each future day has demand with probability 1/p (croston, sba), the
smoothed probability (tsb) or the observed share of days with demand (adida, imapa); a day's size is drawn from
the series' observed non-zero sizes rescaled so that the law's mean equals the point forecast.

Kept parameters (apply_panel): croston, sba and tsb estimate nothing (their alphas are hyper-parameters), so they
re-run; adida keeps its aggregation level and alpha, imapa its aggregation level and the alpha of every bucket
length; the smoothed levels, the share of days with demand and the observed sizes follow the data.
"""

from __future__ import annotations

import numpy as np

from forecasting.engine.models.common import PanelModel, right_align, state_infos
from forecasting.engine.models.laws import CountLaw
from forecasting.engine.models.smoothing import optimise_alpha, smooth, smooth_fixed


def demand_events(panel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Right-aligned observed values (n, T), non-zero sizes (n, k) and intervals (n, k), NaN-padded on the left."""
    aligned = right_align(panel)
    length = aligned.shape[1]
    has_demand = aligned > 0
    sizes = right_align(np.where(has_demand, aligned, np.nan))
    first_observed = length - np.sum(~np.isnan(aligned), axis=1)
    positions = right_align(np.where(has_demand, np.arange(length, dtype=np.float64)[None, :], np.nan))
    previous = np.concatenate([np.full((len(panel), 1), np.nan), positions[:, :-1]], axis=1)
    previous = np.where(np.isnan(previous), first_observed[:, None] - 1.0, previous)
    intervals = np.where(np.isnan(positions), np.nan, positions - previous)
    width = max(int(has_demand.sum(axis=1).max(initial=0)), 1)
    return aligned, sizes[:, -width:], intervals[:, -width:]


def constant_mean(level: np.ndarray, h: int) -> np.ndarray:
    return np.repeat(level[:, None], h, axis=1)


class Croston(PanelModel):
    name = "croston"
    bias_correction = False

    def __init__(self, *, alpha: float = 0.1, season_length: int = 7, n_paths: int = 200, seed: int = 0) -> None:
        super().__init__(season_length=season_length, n_paths=n_paths, seed=seed)
        self.alpha = alpha

    def fit_panel(self, panel: np.ndarray) -> dict[str, np.ndarray]:
        _, sizes, intervals = demand_events(panel)
        size = np.nan_to_num(smooth_fixed(sizes, self.alpha))
        interval = np.nan_to_num(smooth_fixed(intervals, self.alpha), nan=np.inf)
        rate = np.where(np.isfinite(interval), size / np.maximum(interval, 1e-12), 0.0)
        if self.bias_correction:
            rate = rate * (1.0 - self.alpha / 2.0)
        probability = np.where(np.isfinite(interval), 1.0 / np.maximum(interval, 1.0), 0.0)
        return {
            "size": size,
            "interval": interval,
            "rate": rate,
            "probability": probability,
            "sizes": sizes,
            "alpha": np.full(len(panel), float(self.alpha)),
        }

    def law_panel(self, state: dict[str, np.ndarray], h: int) -> CountLaw:
        return CountLaw(
            mean=constant_mean(state["rate"], h),
            prob=state["probability"],
            sizes=state["sizes"],
            info=state_infos(state, ("alpha", "size", "interval", "rate")),
        )


class CrostonSBA(Croston):
    name = "sba"
    bias_correction = True


class TSB(PanelModel):
    name = "tsb"

    def __init__(
        self,
        *,
        alpha_d: float = 0.1,
        alpha_p: float = 0.1,
        season_length: int = 7,
        n_paths: int = 200,
        seed: int = 0,
    ) -> None:
        super().__init__(season_length=season_length, n_paths=n_paths, seed=seed)
        self.alpha_d = alpha_d
        self.alpha_p = alpha_p

    def fit_panel(self, panel: np.ndarray) -> dict[str, np.ndarray]:
        aligned, sizes, _ = demand_events(panel)
        indicator = np.where(np.isnan(aligned), np.nan, (aligned > 0).astype(np.float64))
        probability = np.clip(np.nan_to_num(smooth_fixed(indicator, self.alpha_p)), 0.0, 1.0)
        size = np.nan_to_num(smooth_fixed(sizes, self.alpha_d))
        return {"probability": probability, "size": size, "rate": probability * size, "sizes": sizes}

    def law_panel(self, state: dict[str, np.ndarray], h: int) -> CountLaw:
        return CountLaw(
            mean=constant_mean(state["rate"], h),
            prob=state["probability"],
            sizes=state["sizes"],
            info=state_infos(state, ("probability", "size", "rate")),
        )


# Smoothing of the aggregated series is kept slow, as in the ADIDA literature (and statsforecast): a bucket is
# a noisy sum and a high alpha would chase single bulk orders.
AGGREGATE_ALPHA_BOUNDS = (0.1, 0.3)


def bucket_sums(aligned: np.ndarray, length: int) -> np.ndarray:
    """Right-aligned rows summed into consecutive buckets of `length` days ending at the last day; buckets
    touching a missing day are NaN."""
    total = aligned.shape[1]
    count = total // length
    if count == 0:
        return np.full((len(aligned), 1), np.nan)
    sums = np.concatenate([np.zeros((len(aligned), 1)), np.cumsum(np.nan_to_num(aligned), axis=1)], axis=1)
    seen = np.concatenate([np.zeros((len(aligned), 1)), np.cumsum(~np.isnan(aligned), axis=1)], axis=1)
    ends = total - length * np.arange(count)[::-1]
    starts = ends - length
    complete = (seen[:, ends] - seen[:, starts]) == length
    return np.where(complete, sums[:, ends] - sums[:, starts], np.nan)


def aggregated_ses_rate(
    aligned: np.ndarray, length: int, alpha: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-day rate (n,) and alpha (n,) of SES on buckets of `length` days, alpha optimised unless given."""
    buckets = bucket_sums(aligned, length)
    if alpha is None:
        alpha, level, _ = optimise_alpha(buckets, bounds=AGGREGATE_ALPHA_BOUNDS)
    else:
        level = smooth(buckets, alpha[:, None])[0][:, 0]
    has_bucket = ~np.isnan(buckets).all(axis=1)
    fallback = np.nanmean(np.where(np.isnan(aligned).all(axis=1, keepdims=True), 0.0, aligned), axis=1)
    return np.where(has_bucket, level / length, fallback), alpha


class ADIDA(PanelModel):
    name = "adida"
    average_levels = False
    parameters = ("aggregation_level", "alpha")

    def fit_panel(self, panel: np.ndarray) -> dict[str, np.ndarray]:
        aligned, sizes, intervals = demand_events(panel)
        mean_interval = np.nanmean(np.where(np.isnan(intervals).all(axis=1, keepdims=True), 1.0, intervals), axis=1)
        aggregation = np.maximum(np.round(mean_interval), 1).astype(np.int64)
        return self._state(aligned, sizes, aggregation, None)

    def apply_panel(self, state: dict[str, np.ndarray], panel: np.ndarray) -> dict[str, np.ndarray]:
        aligned, sizes, _ = demand_events(panel)
        return self._state(aligned, sizes, state["aggregation_level"].astype(np.int64), state)

    def _state(
        self, aligned: np.ndarray, sizes: np.ndarray, aggregation: np.ndarray, kept: dict[str, np.ndarray] | None
    ) -> dict[str, np.ndarray]:
        """The fitted state from the demand events, with alphas optimised or, from `kept`, given."""
        if self.average_levels:
            rate, alphas = self._imapa_rates(aligned, aggregation, None if kept is None else kept["level_alphas"])
            fitted = {"level_alphas": alphas}
        else:
            rate = np.zeros(len(aligned))
            alpha = np.full(len(aligned), np.nan)
            for length in np.unique(aggregation):
                members = np.flatnonzero(aggregation == length)
                given = None if kept is None else kept["alpha"][members]
                rate[members], alpha[members] = aggregated_ses_rate(aligned[members], int(length), given)
            fitted = {"alpha": alpha}
        observed = np.sum(~np.isnan(aligned), axis=1)
        has_demand = np.sum(aligned > 0, axis=1)
        probability = np.where(observed > 0, has_demand / np.maximum(observed, 1), 0.0)
        rate = np.where(has_demand > 0, rate, 0.0)
        return {
            "rate": rate,
            "aggregation_level": aggregation.astype(np.float64),
            **fitted,
            "probability": probability,
            "sizes": sizes,
        }

    def _imapa_rates(
        self, aligned: np.ndarray, aggregation: np.ndarray, kept_alphas: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean per-day rate (n,) over bucket lengths 1..aggregation, and the alpha of each length (n, max length)."""
        longest = int(aggregation.max(initial=1))
        total = np.zeros(len(aligned))
        alphas = np.full((len(aligned), longest), np.nan)
        for length in range(1, longest + 1):
            members = np.flatnonzero(aggregation >= length)
            given = None if kept_alphas is None else kept_alphas[members, length - 1]
            level_rate, alphas[members, length - 1] = aggregated_ses_rate(aligned[members], length, given)
            total[members] += level_rate
        return total / aggregation, alphas

    def law_panel(self, state: dict[str, np.ndarray], h: int) -> CountLaw:
        keys = ("rate", "aggregation_level") if self.average_levels else ("rate", "aggregation_level", "alpha")
        return CountLaw(
            mean=constant_mean(state["rate"], h),
            prob=state["probability"],
            sizes=state["sizes"],
            info=state_infos(state, keys),
        )


class IMAPA(ADIDA):
    name = "imapa"
    average_levels = True
    parameters = ("aggregation_level", "level_alphas")
