"""Reads of campaign evaluations (pre-campaign forecasts and readouts); every query takes the merchant."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery

from customers.models import Campaign
from ecomforecast.models import Merchant
from forecasting.models import CampaignForecast, CampaignForecastLine
from inventory.campaign_needs import CampaignStockNeed


def campaign_forecast_list(*, merchant: Merchant) -> QuerySet[CampaignForecast]:
    return CampaignForecast.objects.filter(merchant=merchant).select_related("campaign")


def campaign_forecast_latest(*, merchant: Merchant, campaign_id: int, kind: str) -> CampaignForecast | None:
    """The campaign's latest succeeded evaluation of this kind (one lookup on the campaign/kind/status index)."""
    return (
        campaign_forecast_list(merchant=merchant)
        .filter(campaign_id=campaign_id, kind=kind, status=CampaignForecast.Status.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )


def campaign_forecast_active(*, merchant: Merchant, campaign_id: int, kind: str) -> CampaignForecast | None:
    """An evaluation of this kind that is queued or running, for the progress indicator."""
    return (
        campaign_forecast_list(merchant=merchant)
        .filter(
            campaign_id=campaign_id,
            kind=kind,
            status__in=[CampaignForecast.Status.PENDING, CampaignForecast.Status.RUNNING],
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def campaign_forecast_lines(*, merchant: Merchant, forecast: CampaignForecast) -> QuerySet[CampaignForecastLine]:
    return CampaignForecastLine.objects.filter(merchant=merchant, forecast=forecast).select_related(
        "product", "product__category"
    )


def campaigns_with_evaluations(*, merchant: Merchant) -> QuerySet[Campaign]:
    """The merchant's campaigns, each with ``latest_evaluations``: its latest succeeded evaluation of each kind, newest
    first, with ``no_evidence`` (the plan's features without evidence, see campaign_services). Three queries whatever
    the number of campaigns and of their past evaluations."""
    # evaluations accumulate nightly: a correlated subquery keeps one per (campaign, kind) in the database
    latest_of_kind = (
        CampaignForecast.objects.filter(
            campaign_id=OuterRef("campaign_id"), kind=OuterRef("kind"), status=CampaignForecast.Status.SUCCEEDED
        )
        .order_by("-finished_at", "-pk")
        .values("pk")[:1]
    )
    # a list needs the totals only: the chart, effects and config of an evaluation would be dead weight
    latest = (
        CampaignForecast.objects.filter(
            merchant=merchant, status=CampaignForecast.Status.SUCCEEDED, pk=Subquery(latest_of_kind)
        )
        .annotate(no_evidence=F("effects__no_evidence"))
        .defer("daily", "effects", "config", "campaign_snapshot", "timings")
        .order_by("-finished_at", "-pk")
    )
    return (
        Campaign.objects.filter(merchant=merchant)
        .prefetch_related(Prefetch("forecasts", queryset=latest, to_attr="latest_evaluations"))
        .order_by("-starts_on", "-pk")
    )


def campaign_stock_needs(*, merchant: Merchant, data_cutoff: dt.date) -> list[CampaignStockNeed]:
    """What the campaigns not yet over need in stock, per product, from each one's latest succeeded plan made at this
    data cutoff (its demand counts from the day after it, a reorder plan's date). Two queries."""
    plans = (
        CampaignForecast.objects.filter(
            merchant=merchant,
            kind=CampaignForecast.Kind.PLAN,
            status=CampaignForecast.Status.SUCCEEDED,
            data_cutoff=data_cutoff,
            campaign__ends_on__gt=data_cutoff,
        )
        .order_by("campaign_id", "-finished_at", "-pk")
        .values_list("pk", "campaign_id")
    )
    latest: dict[int, int] = {}
    for forecast_id, campaign_id in plans:
        latest.setdefault(campaign_id, forecast_id)
    lines = (
        CampaignForecastLine.objects.filter(
            merchant=merchant, forecast_id__in=latest.values(), demand_to_end_p90__isnull=False
        )
        .select_related("forecast")
        .order_by("forecast__campaign_id", "product_id")
    )
    needs = []
    for line in lines:
        snapshot = line.forecast.campaign_snapshot
        needs.append(
            CampaignStockNeed(
                product_id=line.product_id,
                campaign_id=line.forecast.campaign_id,
                campaign_name=str(snapshot.get("name", "")),
                starts_on=dt.date.fromisoformat(snapshot["starts_on"]),
                ends_on=dt.date.fromisoformat(snapshot["ends_on"]),
                demand_to_end_p90=float(line.demand_to_end_p90),
                demand_to_end_mean=float(line.demand_to_end_mean or 0.0),
                forecast_start=data_cutoff + dt.timedelta(days=1),
            )
        )
    return needs
