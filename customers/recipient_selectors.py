"""Reads of campaign recipients (treatment and hold-out audiences); every query is merchant-scoped."""

from __future__ import annotations

from django.db.models import QuerySet

from customers.models import CampaignRecipient
from ecomforecast.models import Merchant


def campaign_recipient_list(*, merchant: Merchant) -> QuerySet[CampaignRecipient]:
    return CampaignRecipient.objects.filter(merchant=merchant).select_related("campaign", "customer")
