"""Staff admin of customer-score runs and scores: filters, search, constant queries, re-run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from forecasting.models import CustomerForecastRun
from tests.admin.test_changelists import queries_for_changelist
from tests.api.test_customer_scores import make_run, score
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SCORES = reverse("admin:forecasting_customerscore_changelist")
RUNS = reverse("admin:forecasting_customerforecastrun_changelist")


@pytest.fixture
def runs(merchant, other_merchant):
    older = make_run(merchant, dt.date(2024, 3, 31))
    latest = make_run(merchant, dt.date(2024, 6, 30))
    rival = make_run(other_merchant, dt.date(2024, 6, 30))
    score(older, CustomerFactory(merchant=merchant, external_id="ANNA"), churn_risk=0.4, segment="loyal")
    score(latest, CustomerFactory(merchant=merchant, external_id="BEN"), churn_risk=0.9, segment="lost")
    score(rival, CustomerFactory(merchant=other_merchant, external_id="RIVAL"), churn_risk=0.2, segment="loyal")
    return {"older": older, "latest": latest, "rival": rival}


def listed(response) -> list[str]:
    assert response.status_code == 200
    return [str(score.customer.external_id) for score in response.context["cl"].result_list]


def test_it_lists_every_merchants_scores_riskiest_first_within_the_newest_run(admin_client_, runs):
    assert listed(admin_client_.get(SCORES)) == ["RIVAL", "BEN", "ANNA"]


def test_it_filters_scores_by_segment_run_and_merchant_and_searches_by_customer(admin_client_, merchant, runs):
    assert listed(admin_client_.get(SCORES, {"segment": "loyal"})) == ["RIVAL", "ANNA"]
    assert listed(admin_client_.get(SCORES, {"run__id__exact": runs["older"].pk})) == ["ANNA"]
    assert listed(admin_client_.get(SCORES, {"merchant__id__exact": merchant.pk})) == ["BEN", "ANNA"]
    assert listed(admin_client_.get(SCORES, {"q": "BEN"})) == ["BEN"]


def test_it_renders_the_changelists_in_the_same_number_of_queries_for_more_rows(admin_client_, merchant, runs):
    few = {url: queries_for_changelist(admin_client_, url) for url in (SCORES, RUNS)}
    for index in range(5):
        run = make_run(merchant, dt.date(2024, 1, 1) + dt.timedelta(days=index))
        score(run, CustomerFactory(merchant=merchant), churn_risk=index / 10, segment="promising")

    assert {url: queries_for_changelist(admin_client_, url) for url in (SCORES, RUNS)} == few


def test_it_queues_a_run_again_from_the_changelist(admin_client_, runs, django_capture_on_commit_callbacks):
    CustomerForecastRun.objects.filter(pk=runs["latest"].pk).update(
        status=CustomerForecastRun.Status.FAILED, error="boom", attempts=3
    )

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client_.post(RUNS, {"action": "rerun", "_selected_action": [runs["latest"].pk]}, follow=True)

    assert response.status_code == 200
    assert "1 customer-score run(s) queued again." in response.content.decode()
    run = CustomerForecastRun.objects.get(pk=runs["latest"].pk)
    assert (run.status, run.error, run.attempts) == (CustomerForecastRun.Status.PENDING, "", 0)
    assert len(callbacks) == 1
