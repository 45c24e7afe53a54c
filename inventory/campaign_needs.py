"""What a planned campaign needs in stock, per product: the figures a pre-campaign forecast hands to the reorder
plan (read by ``forecasting.campaign_selectors.campaign_stock_needs``, applied by
``inventory.services.reorder_plan_apply_campaign_needs``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class CampaignStockNeed:
    product_id: int
    campaign_id: int
    campaign_name: str
    starts_on: dt.date
    ends_on: dt.date
    demand_to_end_p90: float  # units from forecast_start to ends_on, with the campaign, at P90
    demand_to_end_mean: float
    forecast_start: dt.date  # the first day the demand figures count from
