"""Customer tables at a cutoff: the (x, t_x, T, m_x) summary, behaviour features and holdout outcomes.

Input tables (pandas):
- transactions: customer_id, timestamp, amount, is_return — one row per purchase occasion (an order/invoice)
  or return. Returns never count as purchases; they feed the return-rate features.
- events (optional): customer_id, timestamp, kind — activity such as views or carts.

Everything strictly before the cutoff is history; outcomes are purchases in [cutoff, cutoff + horizon). Times are
in days (float). A customer exists at a cutoff once they have made a purchase before it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY = pd.Timedelta(days=1)
ACTIVITY_WINDOWS_DAYS = (30, 90, 180, 365)
SEASONAL_WINDOWS_DAYS = (30, 90)
TRANSACTION_COLUMNS = ("customer_id", "timestamp", "amount", "is_return")
EVENT_COLUMNS = ("customer_id", "timestamp", "kind")


def validate_transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    missing = set(TRANSACTION_COLUMNS) - set(transactions.columns)
    if missing:
        raise ValueError(f"transactions lack columns: {', '.join(sorted(missing))}")
    frame = transactions.loc[:, list(TRANSACTION_COLUMNS)].copy()
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").fillna(0.0).astype(float)
    frame["is_return"] = frame["is_return"].astype(bool)
    return frame.sort_values(["customer_id", "timestamp"], kind="stable", ignore_index=True)


def _purchases_before(transactions: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    return transactions[(~transactions["is_return"]) & (transactions["timestamp"] < cutoff)]


def repeat_purchase_summary(transactions: pd.DataFrame, *, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Per customer: frequency (repeat purchases), recency (first to last purchase), T (first purchase to cutoff),
    all in days, and monetary_value (mean value of the repeat purchases; 0 without any)."""
    cutoff = pd.Timestamp(cutoff)
    purchases = _purchases_before(validate_transactions(transactions), cutoff)
    grouped = purchases.groupby("customer_id", sort=True)
    first = grouped["timestamp"].min()
    last = grouped["timestamp"].max()
    count = grouped.size()
    first_amount = grouped["amount"].first()
    total = grouped["amount"].sum()
    frequency = (count - 1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat_mean = ((total - first_amount) / frequency).where(frequency > 0, 0.0)
    return pd.DataFrame(
        {
            "frequency": frequency,
            "recency": (last - first) / DAY,
            "T": (cutoff - first) / DAY,
            "monetary_value": repeat_mean.astype(float),
            "days_since_last": (cutoff - last) / DAY,
            "total_spend": total.astype(float),
        }
    )


def holdout_outcomes(
    transactions: pd.DataFrame, *, cutoff: pd.Timestamp, horizon_days: float, customers: pd.Index
) -> pd.DataFrame:
    """Per customer in `customers`: purchases and spend in [cutoff, cutoff + horizon)."""
    cutoff = pd.Timestamp(cutoff)
    frame = validate_transactions(transactions)
    window = frame[
        (~frame["is_return"]) & (frame["timestamp"] >= cutoff) & (frame["timestamp"] < cutoff + horizon_days * DAY)
    ]
    grouped = window.groupby("customer_id")
    outcomes = pd.DataFrame({"purchases": grouped.size(), "spend": grouped["amount"].sum()})
    outcomes = outcomes.reindex(customers).fillna(0.0)
    outcomes["purchases"] = outcomes["purchases"].astype(int)
    outcomes["purchased"] = outcomes["purchases"] > 0
    return outcomes


def behaviour_features(
    transactions: pd.DataFrame, events: pd.DataFrame | None = None, *, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Per customer with a purchase before the cutoff: recency/frequency/monetary, tenure, inter-purchase
    statistics, purchase and spend counts in trailing windows, return counts and rates, and event counts."""
    cutoff = pd.Timestamp(cutoff)
    frame = validate_transactions(transactions)
    history = frame[frame["timestamp"] < cutoff]
    purchases = history[~history["is_return"]].copy()
    returns = history[history["is_return"]]
    grouped = purchases.groupby("customer_id", sort=True)
    customers = grouped.size().index

    features = pd.DataFrame(index=customers)
    features["days_since_last"] = (cutoff - grouped["timestamp"].max()) / DAY
    features["tenure_days"] = (cutoff - grouped["timestamp"].min()) / DAY
    features["purchases"] = grouped.size().astype(float)
    features["total_spend"] = grouped["amount"].sum()
    features["mean_spend"] = grouped["amount"].mean()
    features["max_spend"] = grouped["amount"].max()
    features["purchases_per_30d"] = features["purchases"] / np.maximum(features["tenure_days"], 1.0) * 30.0

    purchases["gap_days"] = grouped["timestamp"].diff() / DAY
    gaps = purchases.groupby("customer_id", sort=True)["gap_days"]
    features["gap_mean"] = gaps.mean()
    features["gap_std"] = gaps.std()
    features["gap_last"] = gaps.last()
    # How overdue the next purchase is relative to the customer's own rhythm.
    features["overdue_ratio"] = features["days_since_last"] / features["gap_mean"]

    for window in ACTIVITY_WINDOWS_DAYS:
        recent = purchases[purchases["timestamp"] >= cutoff - window * DAY].groupby("customer_id")
        features[f"purchases_{window}d"] = recent.size().reindex(customers).fillna(0.0)
        features[f"spend_{window}d"] = recent["amount"].sum().reindex(customers).fillna(0.0)

    # Seasonal retailers: what the customer did in the same weeks one year earlier.
    for window in SEASONAL_WINDOWS_DAYS:
        start = cutoff - 365 * DAY
        last_year = purchases[(purchases["timestamp"] >= start) & (purchases["timestamp"] < start + window * DAY)]
        last_year = last_year.groupby("customer_id")
        features[f"purchases_next_{window}d_last_year"] = last_year.size().reindex(customers).fillna(0.0)
        features[f"spend_next_{window}d_last_year"] = last_year["amount"].sum().reindex(customers).fillna(0.0)

    returned = returns.groupby("customer_id")
    features["returns"] = returned.size().reindex(customers).fillna(0.0)
    features["return_rate"] = features["returns"] / features["purchases"]
    returned_value = returned["amount"].sum().abs().reindex(customers).fillna(0.0)
    features["returned_value_share"] = returned_value / np.maximum(features["total_spend"].abs(), 1e-9)

    if events is not None and len(events):
        missing = set(EVENT_COLUMNS) - set(events.columns)
        if missing:
            raise ValueError(f"events lack columns: {', '.join(sorted(missing))}")
        activity = events.loc[:, list(EVENT_COLUMNS)].copy()
        activity["timestamp"] = pd.to_datetime(activity["timestamp"])
        # Kinds come from the whole table so that every cutoff yields the same columns.
        kinds = sorted(activity["kind"].astype(str).unique())
        activity = activity[activity["timestamp"] < cutoff]
        for window in (30, 90):
            recent = activity[activity["timestamp"] >= cutoff - window * DAY]
            counts = recent.groupby(["customer_id", recent["kind"].astype(str)]).size().unstack(fill_value=0)
            for kind in kinds:
                column = counts[kind] if kind in counts.columns else pd.Series(dtype=float)
                features[f"events_{kind}_{window}d"] = column.reindex(customers).fillna(0.0)
        last_event = activity.groupby("customer_id")["timestamp"].max()
        features["days_since_last_event"] = ((cutoff - last_event) / DAY).reindex(customers)
    return features.astype(float)
