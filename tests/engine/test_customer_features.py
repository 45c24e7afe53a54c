from __future__ import annotations

import pandas as pd
import pytest

from forecasting.engine.customer.features import behaviour_features, holdout_outcomes, repeat_purchase_summary

CUTOFF = pd.Timestamp("2024-04-01")


def transactions() -> pd.DataFrame:
    rows = [
        ("ann", "2024-01-01", 10.0, False),
        ("ann", "2024-01-11", 30.0, False),
        ("ann", "2024-01-15", -5.0, True),
        ("ann", "2024-03-01", 50.0, False),
        ("ann", "2024-04-10", 20.0, False),  # holdout
        ("bob", "2024-03-22", 15.0, False),
        ("bob", "2024-03-30", -15.0, True),
        ("cy", "2024-04-02", 99.0, False),  # first seen in the holdout
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "is_return"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


def test_it_summarises_repeat_purchases_before_the_cutoff():
    summary = repeat_purchase_summary(transactions(), cutoff=CUTOFF)

    assert list(summary.index) == ["ann", "bob"]
    assert summary.loc["ann", ["frequency", "recency", "T", "monetary_value"]].tolist() == [2.0, 60.0, 91.0, 40.0]
    assert summary.loc["bob", ["frequency", "recency", "T", "monetary_value"]].tolist() == [0.0, 0.0, 10.0, 0.0]


def test_it_counts_holdout_purchases_of_known_customers_only():
    outcomes = holdout_outcomes(transactions(), cutoff=CUTOFF, horizon_days=30, customers=pd.Index(["ann", "bob"]))

    assert outcomes["purchases"].to_dict() == {"ann": 1, "bob": 0}
    assert outcomes["purchased"].to_dict() == {"ann": True, "bob": False}


def test_it_builds_behaviour_features_from_history_and_events():
    events = pd.DataFrame(
        {
            "customer_id": ["bob", "bob", "ann", "bob"],
            "timestamp": pd.to_datetime(["2024-03-25", "2024-03-28", "2023-01-01", "2024-04-05"]),
            "kind": ["view", "cart", "view", "view"],
        }
    )

    features = behaviour_features(transactions(), events, cutoff=CUTOFF)

    ann, bob = features.loc["ann"], features.loc["bob"]
    assert ann["days_since_last"] == 31.0
    assert ann["purchases"] == 3.0
    assert ann["gap_mean"] == pytest.approx(30.0)
    assert ann["purchases_90d"] == 2.0
    assert ann["return_rate"] == pytest.approx(1 / 3)
    assert bob["returned_value_share"] == pytest.approx(1.0)
    assert bob["events_view_30d"] == 1.0
    assert bob["events_cart_30d"] == 1.0
    assert bob["days_since_last_event"] == 4.0
    assert ann["events_view_90d"] == 0.0
