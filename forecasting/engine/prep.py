"""Data preparation: long table <-> panel, daily/weekly aggregation, gap filling, stock-out masking, outlier
handling and mean scaling. Pure pandas/numpy.

The long table has one row per (unique_id, ds) observation: columns unique_id, ds, y and optional covariates.
A Panel holds the same data on a regular date grid shared by all series: values (n, T), NaN before a series'
first date (left padding, as forecasting.engine.panel expects) and, inside a series, 0 for days without a row
(no sale) or NaN when fill="nan".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ID_COLUMN, DATE_COLUMN, TARGET_COLUMN = "unique_id", "ds", "y"


@dataclass(frozen=True)
class Panel:
    ids: list[str]
    dates: pd.DatetimeIndex
    values: np.ndarray  # (n, T)
    covariates: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (n, T)
    freq: str = "D"

    def series(self) -> list[np.ndarray]:
        """Each series from its first date (leading padding removed)."""
        return [row[self.first_positions[index] :] for index, row in enumerate(self.values)]

    @property
    def first_positions(self) -> np.ndarray:
        started = ~np.isnan(self.values)
        return np.where(started.any(axis=1), np.argmax(started, axis=1), self.values.shape[1])


def period_start(dates: pd.Series, freq: str) -> pd.Series:
    """The start date of the period (day, or week starting on Monday for "W") that contains each date."""
    return pd.to_datetime(dates).dt.to_period(freq).dt.start_time


def long_to_panel(
    frame: pd.DataFrame,
    *,
    freq: str = "D",
    fill: str = "zero",
    covariates: list[str] | None = None,
    end: pd.Timestamp | None = None,
) -> Panel:
    """Panel of the long table, aggregated to `freq` ("D" daily, "W" weekly): y summed per period,
    covariates averaged. Each series starts at its first period; periods without rows up to the last
    period of the table (or `end`) are 0 (fill="zero": no sale) or NaN (fill="nan")."""
    if fill not in ("zero", "nan"):
        raise ValueError("fill must be 'zero' or 'nan'")
    covariates = list(covariates or [])
    table = frame[[ID_COLUMN, DATE_COLUMN, TARGET_COLUMN, *covariates]].copy()
    table[ID_COLUMN] = table[ID_COLUMN].astype(str)
    table[DATE_COLUMN] = period_start(table[DATE_COLUMN], freq)
    aggregations = {TARGET_COLUMN: "sum", **dict.fromkeys(covariates, "mean")}
    grouped = table.groupby([ID_COLUMN, DATE_COLUMN], sort=True).agg(aggregations)
    last = grouped.index.get_level_values(DATE_COLUMN).max() if end is None else pd.Timestamp(end)
    first = grouped.index.get_level_values(DATE_COLUMN).min()
    dates = pd.period_range(first, last, freq=freq).start_time
    ids = sorted(grouped.index.get_level_values(ID_COLUMN).unique())
    row_of = {unique_id: row for row, unique_id in enumerate(ids)}
    rows = grouped.index.get_level_values(ID_COLUMN).map(row_of).to_numpy()
    columns = dates.get_indexer(grouped.index.get_level_values(DATE_COLUMN))
    inside = columns >= 0
    values = np.full((len(ids), len(dates)), np.nan)
    starts = np.full(len(ids), len(dates))
    np.minimum.at(starts, rows[inside], columns[inside])
    started = np.arange(len(dates))[None, :] >= starts[:, None]
    if fill == "zero":
        values[started] = 0.0
    values[rows[inside], columns[inside]] = grouped[TARGET_COLUMN].to_numpy(dtype=np.float64)[inside]
    covariate_values = {}
    for name in covariates:
        matrix = np.full((len(ids), len(dates)), np.nan)
        matrix[rows[inside], columns[inside]] = grouped[name].to_numpy(dtype=np.float64)[inside]
        # Covariates are known every day: carry the last known value over days without a row.
        matrix = pd.DataFrame(matrix.T).ffill().bfill().to_numpy().T
        covariate_values[name] = np.where(started, matrix, np.nan)
    return Panel(ids=ids, dates=pd.DatetimeIndex(dates), values=values, covariates=covariate_values, freq=freq)


def panel_to_long(panel: Panel) -> pd.DataFrame:
    """Long table of the panel (each series from its first date; NaN values kept as NaN rows)."""
    frames = []
    for row, unique_id in enumerate(panel.ids):
        start = panel.first_positions[row]
        columns = {
            ID_COLUMN: unique_id,
            DATE_COLUMN: panel.dates[start:],
            TARGET_COLUMN: panel.values[row, start:],
        }
        for name, matrix in panel.covariates.items():
            columns[name] = matrix[row, start:]
        frames.append(pd.DataFrame(columns))
    if not frames:
        return pd.DataFrame(columns=[ID_COLUMN, DATE_COLUMN, TARGET_COLUMN, *panel.covariates])
    return pd.concat(frames, ignore_index=True)


def aggregate_panel(panel: Panel, freq: str = "W") -> Panel:
    """A daily panel summed into `freq` periods (weeks start on Monday). A period sums its observed days and is
    NaN when none is observed; covariates are averaged."""
    periods = panel.dates.to_period(freq).start_time
    keys, group = np.unique(periods, return_inverse=True)
    observed = ~np.isnan(panel.values)

    def group_sum(matrix: np.ndarray) -> np.ndarray:
        result = np.zeros((matrix.shape[0], len(keys)))
        for column in range(len(keys)):
            result[:, column] = matrix[:, group == column].sum(axis=1)
        return result

    counts = group_sum(observed.astype(np.float64))
    values = np.where(counts > 0, group_sum(np.nan_to_num(panel.values)), np.nan)
    covariates = {}
    for name, matrix in panel.covariates.items():
        present = ~np.isnan(matrix)
        present_counts = group_sum(present.astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            covariates[name] = np.where(present_counts > 0, group_sum(np.nan_to_num(matrix)) / present_counts, np.nan)
    return Panel(ids=list(panel.ids), dates=pd.DatetimeIndex(keys), values=values, covariates=covariates, freq=freq)


def mask_stockouts(values: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Copy of values with censored days (stock-outs: demand unobserved, caller-supplied boolean mask of the
    same shape) set to NaN, so that models treat them as missing rather than as zero demand."""
    values = np.array(values, dtype=np.float64, copy=True)
    values[np.asarray(censored, dtype=bool)] = np.nan
    return values


@dataclass(frozen=True)
class OutlierReport:
    """Per series: the bounds used and each changed day as (position, before, after)."""

    lower: np.ndarray  # (n,)
    upper: np.ndarray  # (n,)
    changes: list[list[tuple[int, float, float]]]

    @property
    def changed_counts(self) -> np.ndarray:
        return np.array([len(changes) for changes in self.changes], dtype=np.int64)


def outlier_bounds(
    values: np.ndarray, *, rule: str = "iqr", threshold: float | None = None, nonzero_only: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) per row. iqr: Q1 - k IQR, Q3 + k IQR (k = 1.5); zscore: mean -/+ z sd (z = 3); robust:
    median -/+ z * 1.4826 MAD (z = 3.5). nonzero_only computes them on the days with demand, so that the zeros
    of an intermittent series do not make every sale an outlier."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    reference = np.where(values > 0, values, np.nan) if nonzero_only else values
    with np.errstate(invalid="ignore"):
        if rule == "iqr":
            k = 1.5 if threshold is None else threshold
            q1, q3 = (
                np.array([np.nanquantile(row, level) if np.isfinite(row).any() else np.nan for row in reference])
                for level in (0.25, 0.75)
            )
            return q1 - k * (q3 - q1), q3 + k * (q3 - q1)
        if rule == "zscore":
            z = 3.0 if threshold is None else threshold
            mean = np.nanmean(reference, axis=1)
            sd = np.nanstd(reference, axis=1)
            return mean - z * sd, mean + z * sd
        if rule == "robust":
            z = 3.5 if threshold is None else threshold
            median = np.nanmedian(reference, axis=1)
            mad = 1.4826 * np.nanmedian(np.abs(reference - median[:, None]), axis=1)
            return median - z * mad, median + z * mad
    raise ValueError(f"unknown outlier rule {rule!r}: use iqr, zscore or robust")


def handle_outliers(
    values: np.ndarray,
    *,
    rule: str = "iqr",
    threshold: float | None = None,
    action: str = "cap",
    side: str = "upper",
    nonzero_only: bool = True,
) -> tuple[np.ndarray, OutlierReport]:
    """Detect outliers with `rule` (see outlier_bounds) and replace them: action "cap" sets them to the violated
    bound, "median" to the row's median (of days with demand when nonzero_only), "nan" marks them missing.
    side "upper" only treats high values (demand spikes such as bulk orders), "both" also low ones."""
    if action not in ("cap", "median", "nan"):
        raise ValueError("action must be 'cap', 'median' or 'nan'")
    values = np.atleast_2d(np.array(values, dtype=np.float64, copy=True))
    lower, upper = outlier_bounds(values, rule=rule, threshold=threshold, nonzero_only=nonzero_only)
    with np.errstate(invalid="ignore"):
        high = values > upper[:, None]
        low = (values < lower[:, None]) & (values > 0 if nonzero_only else True)
        if side == "upper":
            low = np.zeros_like(high)
    reference = np.where(values > 0, values, np.nan) if nonzero_only else values
    with np.errstate(invalid="ignore"):
        medians = np.array([np.nanmedian(row) if np.isfinite(row).any() else 0.0 for row in reference])
    cleaned = values.copy()
    if action == "cap":
        cleaned = np.where(high, upper[:, None], np.where(low, lower[:, None], cleaned))
    elif action == "median":
        cleaned = np.where(high | low, medians[:, None], cleaned)
    else:
        cleaned = np.where(high | low, np.nan, cleaned)
    return cleaned, OutlierReport(lower=lower, upper=upper, changes=_changes(values, cleaned, high | low))


def winsorise(
    values: np.ndarray, *, lower_quantile: float = 0.0, upper_quantile: float = 0.99, nonzero_only: bool = True
) -> tuple[np.ndarray, OutlierReport]:
    """Clip each row to its own quantiles (of the days with demand when nonzero_only; zeros stay zeros)."""
    values = np.atleast_2d(np.array(values, dtype=np.float64, copy=True))
    reference = np.where(values > 0, values, np.nan) if nonzero_only else values
    lower = np.array([np.nanquantile(row, lower_quantile) if np.isfinite(row).any() else np.nan for row in reference])
    upper = np.array([np.nanquantile(row, upper_quantile) if np.isfinite(row).any() else np.nan for row in reference])
    with np.errstate(invalid="ignore"):
        eligible = values > 0 if nonzero_only else ~np.isnan(values)
        outside = eligible & ((values > upper[:, None]) | (values < lower[:, None]))
    cleaned = np.where(outside, np.clip(values, lower[:, None], upper[:, None]), values)
    return cleaned, OutlierReport(lower=lower, upper=upper, changes=_changes(values, cleaned, outside))


def _changes(before: np.ndarray, after: np.ndarray, changed: np.ndarray) -> list[list[tuple[int, float, float]]]:
    return [
        [
            (int(position), float(before[row, position]), float(after[row, position]))
            for position in np.flatnonzero(mask)
        ]
        for row, mask in enumerate(changed)
    ]


def mean_scale(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scaled, scale): each row divided by the mean of its observed absolute values (1 where that is 0 or
    undefined), so that models see comparable magnitudes; multiply by scale[:, None] to invert."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    count = np.sum(~np.isnan(values), axis=1)
    scale = np.nansum(np.abs(values), axis=1) / np.maximum(count, 1)
    scale = np.where(scale > 0, scale, 1.0)
    return values / scale[:, None], scale


def unscale(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Inverse of mean_scale for (n, ...) arrays (forecast means, quantiles or paths per series)."""
    values = np.asarray(values, dtype=np.float64)
    return values * np.asarray(scale, dtype=np.float64).reshape((-1,) + (1,) * (values.ndim - 1))
