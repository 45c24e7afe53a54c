"""RFM segments.

Each customer gets three scores from 1 to 5 by quintile among the customers scored together:
R from days since the last purchase (more recent = higher), F from the number of purchases, M from the mean
spend per purchase. Ties share a score (percentile rank with the average method, so a quarter of customers with
a single purchase all land in the same F quintile). F and M combine into a value score FM = round((F + M) / 2)
(half rounds up). The first rule that matches names the segment:

==============  ===============================  ==================================================
segment         rule                             meaning
==============  ===============================  ==================================================
champions       R >= 4 and FM >= 4               bought recently, buy often and spend much
loyal           R >= 3 and FM >= 3               regular, valuable, not necessarily the latest
promising       R >= 3                           recent but few or small purchases so far
at risk         R <= 2 and FM >= 3               used to buy often or much, not for a while
hibernating     R == 2                           low value, lapsing
lost            R == 1                           low value, longest gone
==============  ===============================  ==================================================

The rules cover every (R, FM) pair, so each customer has exactly one segment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEGMENTS = ("champions", "loyal", "promising", "at risk", "hibernating", "lost")


def quintile_score(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    ranks = values.rank(method="average", pct=True, ascending=higher_is_better)
    return np.clip(np.ceil(ranks * 5.0), 1, 5).astype(int)


def segment_of(recency_score: np.ndarray, value_score: np.ndarray) -> np.ndarray:
    r = np.asarray(recency_score)
    fm = np.asarray(value_score)
    return np.select(
        [(r >= 4) & (fm >= 4), (r >= 3) & (fm >= 3), r >= 3, (r <= 2) & (fm >= 3), r == 2],
        list(SEGMENTS[:5]),
        default=SEGMENTS[5],
    )


def rfm_segments(days_since_last: pd.Series, purchases: pd.Series, mean_spend: pd.Series) -> pd.DataFrame:
    """Per customer (aligned series, same index): r, f, m, fm scores and the segment name."""
    scores = pd.DataFrame(
        {
            "r": quintile_score(days_since_last, higher_is_better=False),
            "f": quintile_score(purchases),
            "m": quintile_score(mean_spend),
        }
    )
    scores["fm"] = np.floor((scores["f"] + scores["m"]) / 2.0 + 0.5).astype(int)
    scores["segment"] = segment_of(scores["r"].to_numpy(), scores["fm"].to_numpy())
    return scores
