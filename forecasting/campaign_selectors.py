"""Reads of campaign evaluations (pre-campaign forecasts and readouts); every query takes the merchant."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from customers.models import Campaign
from ecomforecast.models import Merchant
from forecasting.models import CampaignForecast, CampaignForecastLine


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
    """The merchant's campaigns, each with ``latest_evaluations``: its succeeded evaluations, newest first (take the
    first of each kind). Three queries whatever the number of campaigns."""
    succeeded = CampaignForecast.objects.filter(merchant=merchant, status=CampaignForecast.Status.SUCCEEDED).order_by(
        "-finished_at", "-pk"
    )
    return (
        Campaign.objects.filter(merchant=merchant)
        .prefetch_related(Prefetch("forecasts", queryset=succeeded, to_attr="latest_evaluations"))
        .order_by("-starts_on", "-pk")
    )
