from __future__ import annotations

import pandas as pd

from forecasting.engine.customer.rfm import SEGMENTS, rfm_segments, segment_of


def test_it_names_every_recency_and_value_score_pair():
    assert segment_of([5, 4, 3, 5, 3, 2, 1, 2, 1], [5, 4, 3, 2, 1, 5, 3, 1, 1]).tolist() == [
        "champions", "champions", "loyal", "promising", "promising", "at risk", "at risk", "hibernating", "lost",
    ]  # fmt: skip


def test_it_segments_hand_made_customers():
    customers = pd.Index([f"c{number}" for number in range(10)])
    # c0..c1 recent and heavy, c2..c3 recent and light, c6..c7 long gone but heavy, c8..c9 long gone and light.
    days_since_last = pd.Series([1, 2, 3, 4, 50, 60, 200, 210, 300, 310], index=customers)
    purchases = pd.Series([40, 35, 1, 1, 8, 7, 30, 25, 1, 1], index=customers)
    mean_spend = pd.Series([90, 80, 5, 6, 40, 45, 70, 95, 4, 3], index=customers)

    scores = rfm_segments(days_since_last, purchases, mean_spend)

    assert scores.loc["c0", ["r", "f", "m"]].tolist() == [5, 5, 5]
    assert scores["segment"].to_dict() == {
        "c0": "champions", "c1": "champions", "c2": "promising", "c3": "promising", "c4": "loyal",
        "c5": "loyal", "c6": "at risk", "c7": "at risk", "c8": "lost", "c9": "lost",
    }  # fmt: skip
    assert set(scores["segment"]) <= set(SEGMENTS)
