"""Writes of the campaign planner: a campaign defined or changed on its page."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction

from customers.models import Campaign
from ecomforecast.models import Merchant
from inventory.models import Category, Product


def campaign_external_id_new(*, merchant: Merchant) -> str:
    """An id no campaign of the merchant has yet, for a campaign defined without one."""
    while True:
        external_id = f"planned-{secrets.token_hex(4)}"
        if not Campaign.objects.filter(merchant=merchant, external_id=external_id).exists():
            return external_id


@transaction.atomic
def campaign_save(
    *,
    merchant: Merchant,
    campaign: Campaign | None,
    name: str,
    external_id: str,
    starts_on: dt.date,
    ends_on: dt.date,
    discount_pct: Decimal,
    channel: str,
    cost: Decimal,
    products: Sequence[Product],
    categories: Sequence[Category],
) -> Campaign:
    """Creates the campaign (``campaign`` None) or changes it, and sets its products and categories (the merchant's;
    the caller checked them). A blank ``external_id`` keeps the campaign's, or makes one up for a new campaign."""
    if campaign is None:
        campaign = Campaign(merchant=merchant)
    else:
        campaign = Campaign.objects.select_for_update().get(merchant=merchant, pk=campaign.pk)
    campaign.name = name
    campaign.external_id = external_id or campaign.external_id or campaign_external_id_new(merchant=merchant)
    campaign.starts_on = starts_on
    campaign.ends_on = ends_on
    campaign.discount_pct = discount_pct
    campaign.channel = channel
    campaign.cost = cost
    campaign.full_clean()
    campaign.save()
    campaign.products.set(products)
    campaign.categories.set(categories)
    return campaign
