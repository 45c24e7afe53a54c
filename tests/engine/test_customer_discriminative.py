"""The gradient-boosting purchase model on histories that leave whole features without a value."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.engine.customer.discriminative import PurchaseClassifier

CUTOFF = pd.Timestamp("2023-10-01")


def test_it_trains_when_a_feature_has_no_value_for_any_customer():
    """Activity tracking started after the training snapshots: "days since the last event" is missing for every
    training row (the booster's binning cannot take a column without a single value)."""
    rng = np.random.default_rng(4)
    rows = []
    for number in range(300):
        first = pd.Timestamp("2022-01-01") + pd.Timedelta(days=int(rng.integers(0, 300)))
        gap = 90 if number % 2 else 400  # half come back every quarter, half hardly at all
        day = first
        while day < CUTOFF + pd.Timedelta(days=120):
            rows.append((f"c{number}", day, 25.0, False))
            day += pd.Timedelta(days=gap)
    shop = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "is_return"])
    events = pd.DataFrame(
        {
            "customer_id": [f"c{number}" for number in range(300)],
            "timestamp": [CUTOFF - pd.Timedelta(days=int(days)) for days in rng.integers(1, 20, size=300)],
            "kind": "view",
        }
    )

    model = PurchaseClassifier(horizon_days=90, training_snapshots=2, max_iter=30, min_samples_leaf=20)
    predicted = model.fit(shop, events, cutoff=CUTOFF).predict(shop, events, cutoff=CUTOFF)

    assert "days_since_last_event" not in model.feature_names_
    assert predicted["p_purchase"].between(0, 1).all()
    regular = predicted.loc[[f"c{number}" for number in range(1, 300, 2)], "p_purchase_raw"].mean()
    rare = predicted.loc[[f"c{number}" for number in range(0, 300, 2)], "p_purchase_raw"].mean()
    assert regular > rare
