"""ORM rows -> the tables campaign targeting needs: past recipients with their campaign windows, and the
candidates' latest scores. Each function is one query (transactions come from forecasting.customer_io)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from customers.models import Campaign, CampaignRecipient
from ecomforecast.models import Merchant
from forecasting.models import CustomerForecastRun, CustomerScore

# A purchase up to this many days after a campaign ends still counts as its response (late readers of a mail,
# coupons used on the last day and delivered after).
RESPONSE_GRACE_DAYS = 7
CHUNK_ROWS = 20_000


def past_recipients(*, merchant: Merchant, as_of: dt.date, exclude: Campaign) -> pd.DataFrame:
    """customer_id, campaign_id, treated, sent_on, window_end of every recipient of the merchant's other
    campaigns whose response window (send day .. end + RESPONSE_GRACE_DAYS) closed by `as_of`."""
    rows = list(
        CampaignRecipient.objects.filter(
            merchant=merchant, campaign__ends_on__lte=as_of - dt.timedelta(days=RESPONSE_GRACE_DAYS)
        )
        .exclude(campaign=exclude)
        .order_by("campaign_id", "customer_id")
        .values_list("customer_id", "campaign_id", "group", "sent_on", "campaign__ends_on")
        .iterator(chunk_size=CHUNK_ROWS)
    )
    return pd.DataFrame(
        {
            "customer_id": np.array([row[0] for row in rows], dtype=np.int64),
            "campaign_id": np.array([row[1] for row in rows], dtype=np.int64),
            "treated": np.array([row[2] == CampaignRecipient.Group.TREATMENT for row in rows], dtype=bool),
            # The engine's times are merchant-local and naive, like the transactions table.
            "sent_on": pd.to_datetime([row[3] for row in rows]),
            "window_end": pd.to_datetime([row[4] + dt.timedelta(days=RESPONSE_GRACE_DAYS + 1) for row in rows]),
        }
    )


def candidate_scores(*, merchant: Merchant, run: CustomerForecastRun, segment: str | None) -> pd.DataFrame:
    """customer_id, external_id, segment, p_purchase_30d, days_since_last_order, orders, total_spend of every
    customer scored in `run` (in `segment` when given)."""
    scores = CustomerScore.objects.filter(merchant=merchant, run=run)
    if segment is not None:
        scores = scores.filter(segment=segment)
    columns = [
        "customer_id",
        "external_id",
        "segment",
        "p_purchase_30d",
        "days_since_last_order",
        "orders",
        "total_spend",
    ]
    rows = scores.order_by("customer_id").values_list(
        "customer_id",
        "customer__external_id",
        "segment",
        "p_purchase_30d",
        "days_since_last_order",
        "orders",
        "total_spend",
    )
    return pd.DataFrame.from_records(list(rows.iterator(chunk_size=CHUNK_ROWS)), columns=columns)
