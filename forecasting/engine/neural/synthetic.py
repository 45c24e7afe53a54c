"""Synthetic retail demand for pretraining the neural tier.

A merchant's own panel is often a few hundred short, noisy series: too little to teach a Transformer what demand
looks like. generate_corpus draws any number of series that carry the patterns the real panels carry, so a model
can be pretrained on them and fine-tuned on the merchant's data:

- a level (log-uniform, 0.05 to 2 a day on intermittent items, 1 to 200 on the others), a trend that may be
  damped, and sometimes a permanent level shift (a competitor, a listing change);
- weekly (daily data only) and yearly seasonality, each a random mix of two Fourier harmonics with random
  strength and phase, multiplicative on the level;
- promotions: short periods flagged in a binary covariate, with a multiplicative lift and a dip right after
  (customers bought ahead);
- counts: on smooth series a negative binomial around the intensity; on intermittent ones a Bernoulli
  occurrence (TSB-like) and a size of 1 + negative binomial, so that the expected demand still equals the
  intensity. A promotion raises the occurrence probability as well as the size;
- occasional bulk orders (B2B outliers) far above the usual size;
- launches (NaN before the first day on sale, then a ramp-up) and discontinuations (zeros to the end).

Every series is drawn from its own random stream spawned from the seed, so series i is the same whatever
n_series is, and the corpus is a pure function of (n_series, length, freq, seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Steps per week and per year of each supported frequency; weekly data has no within-week pattern.
FREQUENCIES: dict[str, tuple[int | None, float]] = {"D": (7, 365.25), "W": (None, 365.25 / 7.0)}


@dataclass(frozen=True)
class SeriesParams:
    """The draw behind one synthetic series, kept so a test or a benchmark can explain what it sees.

    level: mean demand per step before trend, seasonality and promotions; trend: log growth per step at the
    start, multiplied by damping every step (damping 1 = undamped); shift_at / shift_factor: a permanent
    multiplicative level shift (shift_at None = none). occurrence: probability of a day with demand outside
    promotions (1 = smooth series); dispersion: negative binomial shape (smaller = noisier). launch_at: first
    observed step (0 = on sale from the start); discontinued_at: first step of the trailing zeros (None = never).
    """

    level: float
    trend: float
    damping: float
    shift_at: int | None
    shift_factor: float
    weekly_strength: float
    weekly_phase: float
    yearly_strength: float
    yearly_phase: float
    occurrence: float
    dispersion: float
    promo_lift: float
    promo_dip: float
    n_promotions: int
    n_bulk_orders: int
    launch_at: int
    discontinued_at: int | None

    @property
    def intermittent(self) -> bool:
        return self.occurrence < 1.0


@dataclass(frozen=True)
class SyntheticCorpus:
    """series: (length,) float arrays of counts, NaN before launch; covariates: (length, 1) promotion flags."""

    series: list[np.ndarray]
    covariates: list[np.ndarray]
    params: list[SeriesParams]
    freq: str

    def __len__(self) -> int:
        return len(self.series)


def generate_corpus(n_series: int, length: int, *, freq: str = "D", seed: int = 0) -> SyntheticCorpus:
    """n_series synthetic demand series of `length` steps at freq "D" (daily) or "W" (weekly)."""
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {sorted(FREQUENCIES)}, not {freq!r}")
    if n_series < 0 or length < 1:
        raise ValueError("n_series must be >= 0 and length >= 1")
    streams = np.random.SeedSequence(seed).spawn(n_series)
    series, covariates, params = [], [], []
    for stream in streams:
        values, flags, drawn = _generate_series(np.random.default_rng(stream), length, freq)
        series.append(values)
        covariates.append(flags[:, None])
        params.append(drawn)
    return SyntheticCorpus(series=series, covariates=covariates, params=params, freq=freq)


def _generate_series(rng: np.random.Generator, length: int, freq: str) -> tuple[np.ndarray, np.ndarray, SeriesParams]:
    week, year = FREQUENCIES[freq]
    steps_per_day = 1.0 if week else 7.0
    time = np.arange(length, dtype=np.float64)
    intermittent = rng.random() < 0.4
    # Intermittent items sell rarely; weekly buckets hold seven days of demand.
    level = float(np.exp(rng.uniform(np.log(0.05), np.log(2.0)) if intermittent else rng.uniform(0.0, np.log(200.0))))
    level *= steps_per_day
    occurrence = float(rng.uniform(0.05, 0.6)) if intermittent else 1.0

    trend, damping = float(rng.normal(0.0, 1.0 / length)), float(rng.choice([1.0, rng.uniform(0.95, 0.999)]))
    log_trend = trend * (np.cumsum(damping**time) - 1.0)
    shift_at = int(rng.integers(length // 4, length)) if rng.random() < 0.2 and length >= 8 else None
    shift_factor = float(np.exp(rng.normal(0.0, 0.4))) if shift_at is not None else 1.0
    if shift_at is not None:
        log_trend[shift_at:] += np.log(shift_factor)

    weekly_strength = float(rng.uniform(0.0, 0.5)) if week else 0.0
    weekly_phase = float(rng.uniform(0, 2 * np.pi))
    yearly_strength, yearly_phase = float(rng.uniform(0.0, 0.6)), float(rng.uniform(0, 2 * np.pi))
    log_season = _harmonics(rng, time, year, yearly_strength, yearly_phase)
    if week:
        log_season += _harmonics(rng, time, week, weekly_strength, weekly_phase)

    promo_lift, promo_dip = float(np.exp(rng.uniform(np.log(1.3), np.log(3.0)))), float(rng.uniform(0.5, 0.95))
    flags, promo_factor = _promotions(rng, length, week is not None, promo_lift, promo_dip)

    intensity = level * np.exp(log_trend + log_season)
    launch_at = int(rng.integers(1, max(2, int(0.6 * length)))) if rng.random() < 0.3 and length > 2 else 0
    ramp_steps = rng.uniform(7.0, 60.0) / steps_per_day
    intensity = intensity * np.where(time >= launch_at, 1.0 - np.exp(-(time - launch_at + 1.0) / ramp_steps), 0.0)

    dispersion = float(np.exp(rng.uniform(np.log(0.5), np.log(20.0))))
    values = _counts(rng, intensity * promo_factor, occurrence, promo_factor, dispersion)
    n_bulk_orders = int(rng.poisson(length / 365.25 * steps_per_day)) if rng.random() < 0.25 else 0
    bulk_days = rng.integers(launch_at, length, size=n_bulk_orders)
    values[bulk_days] += np.round(level * rng.uniform(10.0, 50.0, size=n_bulk_orders) + 5.0)

    discontinued_at = None
    if rng.random() < 0.15 and length - launch_at > 8:
        discontinued_at = int(rng.integers(launch_at + (length - launch_at) // 2, length))
        values[discontinued_at:] = 0.0
        flags[discontinued_at:] = 0.0
    values[:launch_at] = np.nan
    flags[:launch_at] = 0.0
    params = SeriesParams(
        level=level,
        trend=trend,
        damping=damping,
        shift_at=shift_at,
        shift_factor=shift_factor,
        weekly_strength=weekly_strength,
        weekly_phase=weekly_phase,
        yearly_strength=yearly_strength,
        yearly_phase=yearly_phase,
        occurrence=occurrence,
        dispersion=dispersion,
        promo_lift=promo_lift,
        promo_dip=promo_dip,
        n_promotions=int(_count_runs(flags)),
        n_bulk_orders=n_bulk_orders,
        launch_at=launch_at,
        discontinued_at=discontinued_at,
    )
    return values, flags, params


def _harmonics(rng: np.random.Generator, time: np.ndarray, period: float, strength: float, phase: float) -> np.ndarray:
    """Log seasonal effect: a first harmonic of amplitude `strength` plus a second of random relative size."""
    second = rng.uniform(0.0, 0.6)
    second_phase = rng.uniform(0, 2 * np.pi)
    angle = 2 * np.pi * time / period
    return strength * (np.cos(angle + phase) + second * np.cos(2 * angle + second_phase))


def _promotions(
    rng: np.random.Generator, length: int, daily: bool, lift: float, dip: float
) -> tuple[np.ndarray, np.ndarray]:
    """Promotion flags (length,) and the multiplicative effect on demand: lift while on, dip just after."""
    flags = np.zeros(length)
    factor = np.ones(length)
    # Roughly one promotion a quarter on items that are promoted at all.
    rate = rng.choice([0.0, rng.uniform(2.0, 8.0)]) * length / (365.25 if daily else 365.25 / 7.0)
    for _ in range(int(rng.poisson(rate))):
        duration = int(rng.integers(3, 15)) if daily else int(rng.integers(1, 3))
        start = int(rng.integers(0, length))
        end = min(start + duration, length)
        after = min(end + max(1, duration // 2), length)
        flags[start:end] = 1.0
        factor[end:after] = np.minimum(factor[end:after], dip)
    factor[flags == 1.0] = lift
    return flags, factor


def _counts(
    rng: np.random.Generator, intensity: np.ndarray, occurrence: float, promo_factor: np.ndarray, dispersion: float
) -> np.ndarray:
    """Counts whose expectation is `intensity`: negative binomial, or occurrence x (1 + negative binomial).

    A promotion multiplies the odds of a sale as well as the size: the occurrence probability becomes
    1 - (1 - p) ** factor, and the size mean is rescaled so that the expectation stays on the intensity.
    """
    if occurrence >= 1.0:
        return _negative_binomial(rng, intensity, dispersion)
    probability = np.clip(1.0 - (1.0 - occurrence) ** promo_factor, 1e-6, 1.0)
    occurs = rng.random(intensity.shape) < probability
    size = 1.0 + _negative_binomial(rng, np.maximum(intensity / probability - 1.0, 0.0), dispersion)
    return np.where(occurs & (intensity > 0), size, 0.0)


def _negative_binomial(rng: np.random.Generator, mean: np.ndarray, dispersion: float) -> np.ndarray:
    success = dispersion / (dispersion + np.maximum(mean, 0.0))
    return rng.negative_binomial(dispersion, success).astype(np.float64)


def _count_runs(flags: np.ndarray) -> int:
    """Number of separate promotion periods (runs of 1) in the flags."""
    return int(np.sum(np.diff(np.concatenate([[0.0], flags])) == 1.0))
