"""Forecast accuracy metrics: on arrays, and on the backtest long table.

Conventions (the same as statsforecast/utilsforecast, GluonTS and the M4/M5 competitions):

- Errors are ``forecast - actual``; ``bias`` is relative: ``sum(forecast - actual) / sum(|actual|)``, so +0.1 means
  the forecasts were 10 % too high overall.
- MAPE skips actuals equal to zero (it is undefined there); sMAPE is ``mean(2|e| / (|y| + |f|))`` with 0/0 = 0.
  Both are fractions, not percentages.
- MASE and RMSSE are scaled by the in-sample error of the seasonal naive forecast on the training part only:
  ``scale = mean(|y_t - y_{t-m}|)`` (MASE) or ``mean((y_t - y_{t-m})^2)`` (RMSSE) over the series up to and
  including the cutoff, exactly as utilsforecast's ``mase``/``rmsse`` with ``seasonality=m``. A series whose
  scale is zero (a constant training part) has no defined MASE; it gives NaN and is left out of averages.
  On the long table each (unique_id, cutoff) is scaled by its own training part, then averaged.
- WQL (weighted quantile loss, GluonTS ``mean_wQuantileLoss``, statsforecast's evaluation):
  ``2 * sum(pinball_q) / sum(|y|)`` summed over every row scored, then averaged over the quantile levels.
- Coverage of an interval is the share of actuals inside ``[lower, upper]`` (bounds included); COV80 uses the
  0.1 and 0.9 quantiles.
- MSIS (M4) at level ``1 - alpha``: ``mean(u - l + 2/alpha (l - y)[y < l] + 2/alpha (y - u)[y > u]) / scale``
  with the MASE scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd


def _as_arrays(y: np.ndarray, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    forecast = np.asarray(forecast, dtype=float)
    if y.shape != forecast.shape:
        raise ValueError(f"actuals {y.shape} and forecasts {forecast.shape} differ in shape")
    return y, forecast


def mae(y: np.ndarray, forecast: np.ndarray) -> float:
    y, forecast = _as_arrays(y, forecast)
    return float(np.mean(np.abs(forecast - y)))


def mse(y: np.ndarray, forecast: np.ndarray) -> float:
    y, forecast = _as_arrays(y, forecast)
    return float(np.mean((forecast - y) ** 2))


def rmse(y: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.sqrt(mse(y, forecast)))


def mape(y: np.ndarray, forecast: np.ndarray) -> float:
    y, forecast = _as_arrays(y, forecast)
    nonzero = y != 0
    if not nonzero.any():
        return float("nan")
    return float(np.mean(np.abs(forecast[nonzero] - y[nonzero]) / np.abs(y[nonzero])))


def smape(y: np.ndarray, forecast: np.ndarray) -> float:
    y, forecast = _as_arrays(y, forecast)
    denominator = np.abs(y) + np.abs(forecast)
    ratio = np.divide(2 * np.abs(forecast - y), denominator, out=np.zeros_like(y), where=denominator > 0)
    return float(np.mean(ratio))


def wape(y: np.ndarray, forecast: np.ndarray) -> float:
    y, forecast = _as_arrays(y, forecast)
    total = np.sum(np.abs(y))
    return float(np.sum(np.abs(forecast - y)) / total) if total > 0 else float("nan")


def bias(y: np.ndarray, forecast: np.ndarray) -> float:
    y, forecast = _as_arrays(y, forecast)
    total = np.sum(np.abs(y))
    return float(np.sum(forecast - y) / total) if total > 0 else float("nan")


def r2(y: np.ndarray, forecast: np.ndarray) -> float:
    y, forecast = _as_arrays(y, forecast)
    total = np.sum((y - y.mean()) ** 2)
    return float(1 - np.sum((forecast - y) ** 2) / total) if total > 0 else float("nan")


def seasonal_naive_scale(train: np.ndarray, season_length: int, *, power: int = 1) -> float:
    """Mean |y_t - y_{t-m}| (power=1) or mean squared difference (power=2) over the training part; NaN if undefined."""
    train = np.asarray(train, dtype=float)
    train = train[~np.isnan(train)]
    if train.shape[0] <= season_length:
        return float("nan")
    differences = np.abs(train[season_length:] - train[:-season_length]) ** power
    scale = float(np.mean(differences))
    return scale if scale > 0 else float("nan")


def mase(y: np.ndarray, forecast: np.ndarray, train: np.ndarray, season_length: int) -> float:
    return mae(y, forecast) / seasonal_naive_scale(train, season_length)


def rmsse(y: np.ndarray, forecast: np.ndarray, train: np.ndarray, season_length: int) -> float:
    return float(np.sqrt(mse(y, forecast) / seasonal_naive_scale(train, season_length, power=2)))


def pinball_loss(y: np.ndarray, quantile_forecast: np.ndarray, level: float) -> float:
    """Mean pinball (quantile) loss of one quantile level."""
    y, quantile_forecast = _as_arrays(y, quantile_forecast)
    return float(np.mean(_pinball(y, quantile_forecast, level)))


def _pinball(y: np.ndarray, quantile_forecast: np.ndarray, level: float) -> np.ndarray:
    difference = y - quantile_forecast
    return np.maximum(level * difference, (level - 1) * difference)


def weighted_quantile_loss(y: np.ndarray, quantile_forecasts: np.ndarray, levels: Sequence[float]) -> float:
    """WQL: 2 * sum(pinball) / sum(|y|) per level, averaged over levels. quantile_forecasts is (q, n)."""
    y = np.asarray(y, dtype=float).ravel()
    quantile_forecasts = np.asarray(quantile_forecasts, dtype=float).reshape(len(levels), -1)
    total = np.sum(np.abs(y))
    if total == 0:
        return float("nan")
    losses = [2 * np.sum(_pinball(y, quantile_forecasts[i], level)) / total for i, level in enumerate(levels)]
    return float(np.mean(losses))


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    y, lower = _as_arrays(y, lower)
    upper = np.asarray(upper, dtype=float)
    return float(np.mean((y >= lower) & (y <= upper)))


def msis(
    y: np.ndarray, lower: np.ndarray, upper: np.ndarray, train: np.ndarray, season_length: int, alpha: float = 0.2
) -> float:
    y, lower = _as_arrays(y, lower)
    upper = np.asarray(upper, dtype=float)
    penalties = (upper - lower) + (2 / alpha) * (lower - y) * (y < lower) + (2 / alpha) * (y - upper) * (y > upper)
    return float(np.mean(penalties)) / seasonal_naive_scale(train, season_length)


def quantile_column(level: float) -> str:
    """The long table's column name of a quantile level: 0.1 -> 'q0.1'."""
    return f"q{float(level):g}"


def _training_scales(long_df: pd.DataFrame, train_df: pd.DataFrame, season_length: int) -> pd.DataFrame:
    """Seasonal-naive MAE and MSE scales of every (unique_id, cutoff) from the training part up to the cutoff."""
    history = train_df[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"], kind="stable")
    values = history["y"].to_numpy(dtype=float)
    ids = history["unique_id"].to_numpy()
    lagged = history.groupby("unique_id", sort=False)["y"].shift(season_length).to_numpy(dtype=float)
    difference = values - lagged
    valid = ~np.isnan(difference)
    frame = pd.DataFrame(
        {
            "unique_id": ids,
            "ds": history["ds"].to_numpy(),
            "absolute": np.where(valid, np.abs(difference), 0.0),
            "squared": np.where(valid, difference**2, 0.0),
            "count": valid.astype(float),
        }
    )
    grouped = frame.groupby("unique_id", sort=False)
    for column in ("absolute", "squared", "count"):
        frame[column] = grouped[column].cumsum()
    cutoffs = long_df[["unique_id", "cutoff"]].drop_duplicates()
    merged = pd.merge_asof(
        cutoffs.sort_values("cutoff"),
        frame.sort_values("ds"),
        left_on="cutoff",
        right_on="ds",
        by="unique_id",
        direction="backward",
    )
    count = merged["count"].fillna(0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        mae_scale = np.where(count > 0, merged["absolute"].to_numpy() / count, np.nan)
        mse_scale = np.where(count > 0, merged["squared"].to_numpy() / count, np.nan)
    mae_scale[mae_scale <= 0] = np.nan
    mse_scale[mse_scale <= 0] = np.nan
    return pd.DataFrame(
        {
            "unique_id": merged["unique_id"].to_numpy(),
            "cutoff": merged["cutoff"].to_numpy(),
            "mae_scale": mae_scale,
            "mse_scale": mse_scale,
        }
    )


def _levels_in(long_df: pd.DataFrame, quantiles: Iterable[float] | None) -> list[float]:
    if quantiles is not None:
        return [float(level) for level in quantiles if quantile_column(level) in long_df.columns]
    return sorted(float(column[1:]) for column in long_df.columns if column.startswith("q") and column[1:] != "")


def _score_rows(rows: pd.DataFrame, levels: list[float]) -> dict[str, float]:
    """Every metric over a set of long-table rows that already carry their (unique_id, cutoff) scales."""
    y = rows["y"].to_numpy(dtype=float)
    mean = rows["mean"].to_numpy(dtype=float)
    error = mean - y
    total = float(np.sum(np.abs(y)))
    by_window = rows.assign(abs_error=np.abs(error), sq_error=error**2).groupby(["unique_id", "cutoff"], sort=False)
    window = by_window.agg(
        abs_error=("abs_error", "mean"),
        sq_error=("sq_error", "mean"),
        mae_scale=("mae_scale", "first"),
        mse_scale=("mse_scale", "first"),
    )
    window_mase = window["abs_error"] / window["mae_scale"]
    window_rmsse = np.sqrt(window["sq_error"] / window["mse_scale"])
    scores: dict[str, float] = {
        "MAE": float(np.mean(np.abs(error))),
        "RMSE": float(np.sqrt(np.mean(error**2))),
        "MASE": float(np.nanmean(window_mase)) if window_mase.notna().any() else float("nan"),
        "RMSSE": float(np.nanmean(window_rmsse)) if window_rmsse.notna().any() else float("nan"),
        "WAPE": float(np.sum(np.abs(error)) / total) if total > 0 else float("nan"),
        "sMAPE": smape(y, mean),
        "MAPE": mape(y, mean),
        "bias": float(np.sum(error) / total) if total > 0 else float("nan"),
        "R2": r2(y, mean),
    }
    present = [level for level in levels if rows[quantile_column(level)].notna().all()]
    if present:
        quantile_forecasts = np.vstack([rows[quantile_column(level)].to_numpy(dtype=float) for level in present])
        scores["WQL"] = weighted_quantile_loss(y, quantile_forecasts, present)
    else:
        scores["WQL"] = float("nan")
    lower, upper = quantile_column(0.1), quantile_column(0.9)
    if lower in rows and upper in rows and rows[lower].notna().all() and rows[upper].notna().all():
        lower_values = rows[lower].to_numpy(dtype=float)
        upper_values = rows[upper].to_numpy(dtype=float)
        scores["COV80"] = coverage(y, lower_values, upper_values)
        # one-sided misses: with discrete demand and many zeros (q0.1 = 0 covers every zero) a calibrated
        # forecast covers more than 80 %; these two shares show whether each bound itself means what it says
        scores["below_q0.1"] = float(np.mean(y < lower_values))
        scores["above_q0.9"] = float(np.mean(y > upper_values))
        alpha = 0.2
        penalties = (
            (upper_values - lower_values)
            + (2 / alpha) * (lower_values - y) * (y < lower_values)
            + (2 / alpha) * (y - upper_values) * (y > upper_values)
        )
        window_msis = (
            rows.assign(penalty=penalties).groupby(["unique_id", "cutoff"], sort=False)["penalty"].mean()
            / window["mae_scale"]
        )
        scores["MSIS"] = float(np.nanmean(window_msis)) if window_msis.notna().any() else float("nan")
    else:
        scores["COV80"] = scores["below_q0.1"] = scores["above_q0.9"] = float("nan")
        scores["MSIS"] = float("nan")
    scores["series"] = float(rows["unique_id"].nunique())
    scores["rows"] = float(len(rows))
    return scores


def score_table(
    long_df: pd.DataFrame,
    train_df: pd.DataFrame,
    season_length: int,
    quantiles: Sequence[float] | None = None,
    *,
    by: str | None = None,
    groups: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Score a backtest long table (unique_id, cutoff, ds, y, model, mean, q<level>...) per model.

    train_df is the full panel (unique_id, ds, y); each (unique_id, cutoff) is scaled by its rows up to the
    cutoff. ``by="unique_id"`` scores per model and series; ``groups`` (unique_id -> label, e.g. the demand
    class) adds a ``group`` column and scores per model and label. Rows whose actual is missing are skipped.
    """
    rows = long_df[long_df["y"].notna()]
    levels = _levels_in(rows, quantiles)
    scales = _training_scales(rows, train_df, season_length)
    rows = rows.merge(scales, on=["unique_id", "cutoff"], how="left")
    keys = ["model"]
    if groups is not None:
        rows = rows.assign(group=rows["unique_id"].map(groups).fillna("unknown"))
        keys.append("group")
    if by is not None:
        keys.append(by)
    records = []
    for key, part in rows.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        records.append({**dict(zip(keys, key, strict=True)), **_score_rows(part, levels)})
    return pd.DataFrame.from_records(records)
