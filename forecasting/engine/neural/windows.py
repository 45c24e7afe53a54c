"""Panel -> training and prediction windows for the global (neural) models. Pure numpy; tensors are made later.

A panel here is a list of 1-D demand series that all end on the same date (leading NaN: not launched yet, interior
NaN: missing or censored periods), with optional known-future covariates per series (len(y) rows, k columns).
Every window is the ``context`` periods before a forecast origin and the ``horizon`` periods after it:

- values are divided by the window's **scale** (``context_scale``), the mean of the observed context values with
  each value capped at ``OUTLIER_FACTOR`` x the median of the context's positive values, so that one bulk order
  does not set the level of the whole forecast (floored at ``MIN_SCALE``; 1 for a context with no sale). One
  network then serves SKUs selling 0.1 and 1,000 a day; the scale is returned so forecasts can be multiplied back,
  and its log is an input (the network may still treat slow and fast movers differently). Scaled context values
  are clipped at ``MAX_SCALED_INPUT`` so that a 10,000x order cannot blow up a network's state;
- missing values are 0 with an ``observed`` flag of 0, so the loss can skip them and the inputs stay finite;
- **time features** per period: calendar (weekly and yearly phase, sine and cosine; real dates when the caller
  gives the panel's end date, otherwise the phase counted back from the end with the season length) and the
  covariates standardised with the panel's mean and standard deviation (``CovariateScaler``, stored with a
  checkpoint so that prediction uses the training statistics).

Training windows are drawn at random (seeded) among the (series, origin) pairs whose target window lies inside
the training part of the panel and whose context holds at least one observed period; validation windows are the
last ``horizon`` periods of every series, so early stopping judges forecasts of a period the gradient never saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_SCALE = 1e-2
OUTLIER_FACTOR = 10.0
MAX_SCALED_INPUT = 50.0
CALENDAR_FEATURES = 4
YEAR_DAYS = 365.25


def context_scale(context: np.ndarray) -> np.ndarray:
    """(...,) scale of each row of ``context`` (..., C): the mean of its finite values, each capped at
    OUTLIER_FACTOR x the median of the row's positive values, floored at MIN_SCALE; 1 for a row without a sale."""
    values = np.asarray(context, dtype=np.float64)
    observed = np.isfinite(values)
    positive = np.where(observed & (values > 0), values, np.nan)
    has_sale = (positive == positive).any(axis=-1)
    typical = np.nanmedian(np.where(has_sale[..., None], positive, 1.0), axis=-1)
    capped = np.minimum(np.where(observed, np.abs(values), 0.0), OUTLIER_FACTOR * typical[..., None])
    count = observed.sum(axis=-1)
    mean = np.divide(capped.sum(axis=-1), count, out=np.zeros(count.shape), where=count > 0)
    return np.where(mean > 0, np.maximum(mean, MIN_SCALE), 1.0)


@dataclass(frozen=True)
class Windows:
    """A batch of windows, float32 arrays: B windows, C context periods, H horizon periods, F time features."""

    past_values: np.ndarray  # (B, C) scaled, 0 where missing
    past_observed: np.ndarray  # (B, C) 1 observed, 0 missing or before launch
    past_features: np.ndarray  # (B, C, F)
    future_features: np.ndarray  # (B, H, F)
    scale: np.ndarray  # (B,)
    future_values: np.ndarray | None = None  # (B, H) scaled targets (training and validation only)
    future_observed: np.ndarray | None = None  # (B, H)

    def __len__(self) -> int:
        return int(self.scale.shape[0])

    def subset(self, rows: slice | np.ndarray) -> Windows:
        return Windows(
            self.past_values[rows],
            self.past_observed[rows],
            self.past_features[rows],
            self.future_features[rows],
            self.scale[rows],
            None if self.future_values is None else self.future_values[rows],
            None if self.future_observed is None else self.future_observed[rows],
        )


@dataclass(frozen=True)
class CovariateScaler:
    """Per-covariate mean and standard deviation of the training panel (1 where a covariate is constant)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, X: Sequence[np.ndarray] | None) -> CovariateScaler:
        if not X:
            return cls((), ())
        stacked = np.vstack([_columns(block) for block in X])
        mean = np.nan_to_num(np.nanmean(stacked, axis=0)) if stacked.size else np.zeros(stacked.shape[1])
        std = np.nan_to_num(np.nanstd(stacked, axis=0)) if stacked.size else np.ones(stacked.shape[1])
        std = np.where(std > 1e-9, std, 1.0)
        return cls(tuple(float(value) for value in mean), tuple(float(value) for value in std))

    @property
    def width(self) -> int:
        return len(self.mean)

    def transform(self, block: np.ndarray) -> np.ndarray:
        values = (_columns(block) - self.mean) / self.std
        return np.nan_to_num(values).astype(np.float32)


def _columns(block: np.ndarray) -> np.ndarray:
    """A covariate block as (rows, k) float64; a 1-D block is one covariate. Unlike reshape(len, -1) this also
    accepts a block with no rows (a series without history), whose column count cannot be inferred."""
    block = np.asarray(block, dtype=np.float64)
    if block.ndim == 1:
        return block[:, None]
    return block.reshape(block.shape[0], int(np.prod(block.shape[1:])))


def calendar_features(offsets: np.ndarray, *, end: np.datetime64 | None, freq: str, season_length: int) -> np.ndarray:
    """(len(offsets), 4): sine and cosine of the season phase and of the year phase of periods at ``offsets``
    from the panel's last period (0 = the last observed period, 1 = the first forecast period)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    weekly = freq.upper().startswith("W")
    if end is not None:
        step = np.timedelta64(7 if weekly else 1, "D")
        dates = np.datetime64(end, "D") + offsets * step
        days = dates.astype(np.int64)
        # 1970-01-01 was a Thursday: +3 makes Monday phase 0
        season_phase = ((days + 3) % 7) / 7.0 if not weekly else (days % 364) / 364.0
        year_phase = (days % YEAR_DAYS) / YEAR_DAYS
    else:
        length = max(int(season_length), 1)
        season_phase = (offsets % length) / length
        year_period = 52 if weekly else 364
        year_phase = (offsets % year_period) / year_period
    angles = 2.0 * np.pi * np.column_stack([season_phase, year_phase])
    return np.column_stack(
        [np.sin(angles[:, 0]), np.cos(angles[:, 0]), np.sin(angles[:, 1]), np.cos(angles[:, 1])]
    ).astype(np.float32)


class PanelWindows:
    """A panel laid right-aligned on one grid, from which training, validation and prediction windows are cut."""

    def __init__(
        self,
        series: Sequence[np.ndarray],
        X: Sequence[np.ndarray] | None,
        *,
        context: int,
        horizon: int,
        scaler: CovariateScaler,
        end: np.datetime64 | None,
        freq: str,
        season_length: int,
        X_future: Sequence[np.ndarray] | None = None,
    ) -> None:
        self.context = int(context)
        self.horizon = int(horizon)
        lengths = np.array([len(values) for values in series], dtype=np.int64)
        self.length = int(lengths.max()) if lengths.size else 0
        n = len(series)
        # columns: `context` periods of padding, the panel, `horizon` future periods
        width = self.context + self.length + self.horizon
        self.values = np.full((n, width), np.nan, dtype=np.float32)
        for row, values in enumerate(series):
            cleaned = np.asarray(values, dtype=np.float64).reshape(-1).copy()
            cleaned[~np.isfinite(cleaned)] = np.nan
            np.clip(cleaned, 0.0, None, out=cleaned)
            self.values[row, self.context + self.length - len(cleaned) : self.context + self.length] = cleaned
        observed = ~np.isnan(self.values)
        self.first_observed = np.where(observed.any(axis=1), observed.argmax(axis=1), width)
        offsets = np.arange(width) - (self.context + self.length - 1)
        # the calendar is the same for every row: kept once per column, joined to a batch's rows when it is cut,
        # so that memory grows with the panel's values (and covariates, if any), not n x width x features
        self.calendar = calendar_features(offsets, end=end, freq=freq, season_length=season_length)
        self.covariates = None
        if scaler.width:
            self.covariates = np.zeros((n, width, scaler.width), dtype=np.float32)
            for row, values in enumerate(series):
                start = self.context + self.length - len(values)
                if X is not None and len(X[row]):
                    self.covariates[row, start : self.context + self.length] = scaler.transform(X[row])
                if X_future is not None and len(X_future[row]):
                    block = scaler.transform(X_future[row])[: self.horizon]
                    self.covariates[row, self.context + self.length : self.context + self.length + len(block)] = block

    def _features(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """(B, L, F) time features of the given rows at the given (B, L) columns: calendar, then covariates."""
        calendar = self.calendar[columns]
        if self.covariates is None:
            return calendar
        return np.concatenate([calendar, self.covariates[rows[:, None], columns]], axis=-1)

    @property
    def origin(self) -> int:
        """Column of the first period after the panel (the forecast origin of prediction windows)."""
        return self.context + self.length

    def cut(self, rows: np.ndarray, origins: np.ndarray, *, with_targets: bool) -> Windows:
        """Windows of the given rows whose first forecast period is at the given columns."""
        rows = np.asarray(rows, dtype=np.int64)
        origins = np.asarray(origins, dtype=np.int64)
        past_columns = origins[:, None] + np.arange(-self.context, 0)[None, :]
        future_columns = origins[:, None] + np.arange(self.horizon)[None, :]
        past = self.values[rows[:, None], past_columns]
        past_observed = ~np.isnan(past)
        scale = context_scale(past).astype(np.float32)
        scaled = np.minimum(np.where(past_observed, past, 0.0) / scale[:, None], MAX_SCALED_INPUT)
        windows = {
            "past_values": scaled.astype(np.float32),
            "past_observed": past_observed.astype(np.float32),
            "past_features": self._features(rows, past_columns),
            "future_features": self._features(rows, future_columns),
            "scale": scale,
        }
        if with_targets:
            future = self.values[rows[:, None], future_columns]
            future_observed = ~np.isnan(future)
            windows["future_values"] = (np.where(future_observed, future, 0.0) / scale[:, None]).astype(np.float32)
            windows["future_observed"] = future_observed.astype(np.float32)
        return Windows(**windows)

    def training_pairs(self, *, holdout: int) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the range [low, high) of origins whose target window ends before the last ``holdout`` periods
        and whose context holds an observed period."""
        last_origin = self.origin - holdout - self.horizon
        low = self.first_observed + 1
        high = np.full_like(low, last_origin + 1)
        return low, np.maximum(high, low)

    def sample_training(self, rng: np.random.Generator, size: int, *, holdout: int) -> Windows | None:
        """``size`` random training windows, uniform over the valid (series, origin) pairs; None when none exist."""
        low, high = self.training_pairs(holdout=holdout)
        counts = high - low
        total = counts.sum()
        if total <= 0:
            return None
        picks = rng.integers(0, total, size=size)
        cumulative = np.cumsum(counts)
        rows = np.searchsorted(cumulative, picks, side="right")
        origins = low[rows] + picks - (cumulative[rows] - counts[rows])
        return self.cut(rows, origins, with_targets=True)

    def validation(self) -> Windows | None:
        """The last ``horizon`` periods of every series that has an observed period before them."""
        origin = self.origin - self.horizon
        rows = np.flatnonzero(self.first_observed < origin)
        if rows.size == 0:
            return None
        return self.cut(rows, np.full(rows.size, origin), with_targets=True)

    def prediction(self) -> Windows:
        """One window per series whose context ends on the panel's last period."""
        rows = np.arange(self.values.shape[0])
        return self.cut(rows, np.full(rows.size, self.origin), with_targets=False)
