"""A campaign plan requested through the API and computed on a real Celery worker (real Redis and Postgres)."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker

from ecomforecast.celery import app
from forecasting.models import CampaignForecast
from tests.forecasting.campaign_shop import PROMOTED, make_campaign_shop, planned_campaign

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def purged_queues():
    app.control.purge()
    yield
    app.control.purge()


def test_it_computes_a_requested_plan_on_the_forecast_cpu_worker(merchant, api_client, purged_queues):
    campaign = planned_campaign(merchant, make_campaign_shop(merchant))

    with start_worker(app, queues=["forecast_cpu"], concurrency=1, perform_ping_check=False):
        response = api_client.post(f"/api/v1/campaigns/{campaign.pk}/forecast/", {}, format="json")
        assert response.status_code == 202
        forecast = CampaignForecast.objects.get(pk=response.json()["id"])
        deadline = time.monotonic() + 180
        while forecast.status not in {"succeeded", "failed"} and time.monotonic() < deadline:
            time.sleep(0.25)
            forecast.refresh_from_db()

    assert forecast.status == CampaignForecast.Status.SUCCEEDED, forecast.error
    assert (forecast.attempts, forecast.products_total, forecast.lines.count()) == (1, PROMOTED, PROMOTED)
    body = api_client.get(f"/api/v1/campaigns/{campaign.pk}/forecast/").json()
    assert (body["latest"]["id"], len(body["lines"]), body["active"]) == (forecast.pk, PROMOTED, None)
    assert body["latest"]["lift_pct"] > 0.3
