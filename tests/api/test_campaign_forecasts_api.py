"""GET / POST /api/v1/campaigns/{id}/forecast/ and .../readout/: latest evaluation with lines, requests, tenancy."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from forecasting.models import CampaignForecast, CampaignForecastLine
from tests.factories import CampaignFactory, MembershipFactory, ProductFactory

pytestmark = pytest.mark.django_db

PLAN = CampaignForecast.Kind.PLAN
READOUT = CampaignForecast.Kind.READOUT


def url(campaign, kind: str = "forecast") -> str:
    return f"/api/v1/campaigns/{campaign.pk}/{kind}/"


def evaluation(campaign, *, kind=PLAN, status="succeeded", lines: int = 2, key: str = "", **fields) -> CampaignForecast:
    forecast = CampaignForecast.objects.create(
        merchant=campaign.merchant,
        campaign=campaign,
        kind=kind,
        status=status,
        idempotency_key=key or f"{campaign.pk}-{kind}-{status}-{CampaignForecast.objects.count()}",
        data_cutoff=dt.date(2024, 6, 30),
        finished_at=timezone.now() if status == "succeeded" else None,
        **{
            "lift_pct": 0.4,
            "roi": 1.5,
            "estimates": {"lift_pct": {"mean": 0.4, "lower": 0.2, "upper": 0.6}},
            "daily": {"dates": ["2024-07-01"], "baseline_mean": [3.0], "campaign_mean": [4.2]},
            **fields,
        },
    )
    for index in range(lines):
        CampaignForecastLine.objects.create(
            merchant=campaign.merchant,
            forecast=forecast,
            product=ProductFactory(merchant=campaign.merchant, sku=f"P{forecast.pk}-{index}"),
            baseline_units=10,
            campaign_units=14,
            lift_units=4 + index,
            shortfall=3.5 if index == 0 else 0,
            needed_by=dt.date(2024, 7, 8) if index == 0 else None,
        )
    return forecast


@pytest.fixture
def campaign(merchant):
    return CampaignFactory(merchant=merchant, starts_on=dt.date(2024, 7, 8), ends_on=dt.date(2024, 7, 14))


def test_it_returns_the_latest_succeeded_plan_with_its_lines_and_the_active_one(client_of_merchant, campaign):
    evaluation(campaign, lift_pct=0.1)
    latest = evaluation(campaign, lift_pct=0.4)
    running = evaluation(campaign, status="running", lines=0, progress=0.3, stage="forecasting")
    evaluation(campaign, kind=READOUT, lift_pct=0.9)

    response = client_of_merchant.get(url(campaign))

    assert response.status_code == 200
    body = response.json()
    assert (body["latest"]["id"], body["latest"]["kind"], body["latest"]["lift_pct"]) == (latest.pk, "plan", 0.4)
    assert body["latest"]["estimates"]["lift_pct"] == {"mean": 0.4, "lower": 0.2, "upper": 0.6}
    assert [line["lift_units"] for line in body["lines"]] == [5.0, 4.0]
    assert body["lines"][1]["shortfall"] == 3.5
    assert body["lines"][1]["needed_by"] == "2024-07-08"
    assert body["lines"][0]["sku"] == f"P{latest.pk}-1"
    assert body["active"] == {
        "id": running.pk,
        "status": "running",
        "progress": 0.3,
        "stage": "forecasting",
        "data_cutoff": "2024-06-30",
        "attempts": 0,
        "created_at": body["active"]["created_at"],
        "started_at": None,
    }
    readout = client_of_merchant.get(url(campaign, "readout")).json()
    assert (readout["latest"]["kind"], readout["latest"]["lift_pct"], readout["active"]) == ("readout", 0.9, None)


def test_it_carries_the_features_a_plan_has_no_evidence_for(api_client, campaign):
    evaluation(campaign, effects={"no_evidence": ["campaign", "discount"]}, lift_pct=0.0, p_positive=None)
    evaluation(campaign, kind=READOUT)

    plan = api_client.get(url(campaign)).json()["latest"]
    readout = api_client.get(url(campaign, "readout")).json()["latest"]

    assert (plan["no_evidence"], plan["p_positive"]) == (["campaign", "discount"], None)
    assert plan["effects"]["no_evidence"] == ["campaign", "discount"]
    assert readout["no_evidence"] == []


def test_it_answers_404_with_a_message_before_any_evaluation_succeeded(api_client, campaign):
    response = api_client.get(url(campaign))
    assert response.status_code == 404
    assert response.json() == {"detail": "No pre-campaign forecast of this campaign has succeeded yet.", "active": None}

    pending = evaluation(campaign, status="pending", lines=0)
    response = api_client.get(url(campaign, "readout"))
    assert response.json()["detail"] == "No post-campaign readout of this campaign has succeeded yet."
    body = api_client.get(url(campaign)).json()
    assert body["detail"] == "No pre-campaign forecast of this campaign has succeeded yet. One is pending."
    assert body["active"]["id"] == pending.pk


def test_it_requests_a_plan_once_and_answers_202_with_the_row(
    api_client, merchant, campaign, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        first = api_client.post(url(campaign), {}, format="json")
        again = api_client.post(url(campaign), {}, format="json")

    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["id"] == again.json()["id"]
    assert (first.json()["status"], first.json()["kind"]) == ("pending", "plan")
    assert len(callbacks) == 1
    forecast = CampaignForecast.objects.get(pk=first.json()["id"])
    assert (forecast.merchant_id, forecast.campaign_id) == (merchant.pk, campaign.pk)
    assert forecast.campaign_snapshot["starts_on"] == "2024-07-08"


def test_it_refuses_a_readout_before_the_post_window_ended_and_a_bad_cutoff(api_client, campaign):
    response = api_client.post(url(campaign, "readout"), {"data_cutoff": "2024-07-20"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "A readout needs the campaign and its 14-day post window to have ended by the data cutoff: "
        "they end on 2024-07-28, the data ends on 2024-07-20."
    }
    response = api_client.post(url(campaign, "readout"), {"data_cutoff": "July"}, format="json")
    assert response.status_code == 400
    assert "data_cutoff" in response.json()
    accepted = api_client.post(url(campaign, "readout"), {"data_cutoff": "2024-08-31"}, format="json")
    assert (accepted.status_code, accepted.json()["data_cutoff"]) == (202, "2024-08-31")
    assert not CampaignForecast.objects.exclude(pk=accepted.json()["id"]).exists()


def test_it_hides_another_merchants_campaign_and_evaluations(other_api_client, api_client, campaign, other_merchant):
    evaluation(campaign)
    rival = CampaignFactory(merchant=other_merchant)
    evaluation(rival)

    for kind in ("forecast", "readout"):
        assert other_api_client.get(url(campaign, kind)).status_code == 404
        assert other_api_client.post(url(campaign, kind), {}, format="json").status_code == 404
        assert api_client.get(url(rival, kind)).json() == {"detail": "No Campaign matches the given query."}
    assert other_api_client.get(url(campaign)).json() == {"detail": "No Campaign matches the given query."}
    assert CampaignForecast.objects.filter(campaign=campaign).count() == 1


def test_it_needs_a_member_and_a_writing_role(campaign, merchant):
    assert APIClient().get(url(campaign)).status_code in (401, 403)
    viewer = MembershipFactory(merchant=merchant, role="viewer").user
    client = APIClient()
    client.force_login(viewer)
    evaluation(campaign)
    assert client.get(url(campaign)).status_code == 200
    assert client.post(url(campaign), {}, format="json").status_code == 403
    assert not CampaignForecast.objects.filter(status="pending").exists()


def test_it_reads_an_evaluation_in_the_same_number_of_queries_whatever_its_lines(
    api_client, campaign, django_assert_max_num_queries
):
    evaluation(campaign, lines=2)
    with CaptureQueriesContext(connection) as baseline:
        assert api_client.get(url(campaign)).status_code == 200

    evaluation(campaign, lines=12)
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = api_client.get(url(campaign))

    assert len(response.json()["lines"]) == 12
