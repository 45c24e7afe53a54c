"""Staff admin of campaign evaluations: filters, search, read-only lines inline, constant queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from forecasting.models import CampaignForecast
from tests.admin.test_changelists import queries_for_changelist
from tests.api.test_campaign_forecasts_api import evaluation
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:forecasting_campaignforecast_changelist")


@pytest.fixture
def evaluations(merchant, other_merchant):
    summer = CampaignFactory(merchant=merchant, name="Summer sale")
    winter = CampaignFactory(merchant=merchant, name="Winter clearance")
    rival = CampaignFactory(merchant=other_merchant, name="Rival summer")
    return {
        "summer plan": evaluation(summer),
        "summer readout": evaluation(summer, kind="readout"),
        "winter failed": evaluation(winter, status="failed", lines=0),
        "rival plan": evaluation(rival),
    }


def listed(response) -> set[int]:
    assert response.status_code == 200
    return {forecast.pk for forecast in response.context["cl"].result_list}


def test_it_filters_by_kind_status_and_merchant_and_searches_by_campaign_name(admin_client_, merchant, evaluations):
    ids = {name: forecast.pk for name, forecast in evaluations.items()}

    assert listed(admin_client_.get(CHANGELIST)) == set(ids.values())
    assert listed(admin_client_.get(CHANGELIST, {"kind__exact": "readout"})) == {ids["summer readout"]}
    assert listed(admin_client_.get(CHANGELIST, {"status__exact": "failed"})) == {ids["winter failed"]}
    assert listed(admin_client_.get(CHANGELIST, {"merchant__id__exact": merchant.pk})) == {
        ids["summer plan"],
        ids["summer readout"],
        ids["winter failed"],
    }
    assert listed(admin_client_.get(CHANGELIST, {"q": "summer"})) == {
        ids["summer plan"],
        ids["summer readout"],
        ids["rival plan"],
    }


def test_it_shows_an_evaluation_with_its_lines_read_only(admin_client_, evaluations):
    forecast = evaluations["summer plan"]

    response = admin_client_.get(reverse("admin:forecasting_campaignforecast_change", args=[forecast.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    for line in forecast.lines.select_related("product"):
        assert line.product.sku in html
    assert 'name="lines-0-shortfall"' not in html
    assert 'name="lines-MAX_NUM_FORMS" value="0"' in html


def test_it_renders_the_changelist_in_the_same_number_of_queries_for_more_rows(admin_client_, merchant, evaluations):
    few = queries_for_changelist(admin_client_, CHANGELIST)
    for index in range(5):
        evaluation(CampaignFactory(merchant=merchant, name=f"More {index}"), lines=1)

    assert queries_for_changelist(admin_client_, CHANGELIST) == few


def test_it_queues_selected_evaluations_again_from_scratch(
    admin_client_, evaluations, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("forecasting.tasks.campaign_forecast_run.delay", queued.append)
    plan, failed = evaluations["summer plan"], evaluations["winter failed"]
    CampaignForecast.objects.filter(pk=failed.pk).update(error="boom", attempts=3, stage="reading sales")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(
            CHANGELIST, {"action": "rerun", "_selected_action": [plan.pk, failed.pk]}, follow=True
        )

    assert response.status_code == 200
    assert "2 campaign evaluation(s) queued again." in response.content.decode()
    for forecast in (plan, failed):
        forecast.refresh_from_db()
        assert (forecast.status, forecast.attempts, forecast.error, forecast.stage, forecast.progress) == (
            CampaignForecast.Status.PENDING,
            0,
            "",
            "",
            0.0,
        )
        assert forecast.finished_at is None
    assert sorted(queued) == sorted([plan.pk, failed.pk])
    # the other evaluations are left as they were
    assert CampaignForecast.objects.get(pk=evaluations["summer readout"].pk).status == (
        CampaignForecast.Status.SUCCEEDED
    )
