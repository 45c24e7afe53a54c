"""The at-risk customers page, "compute scores now", and the scores panel of the customer page."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.urls import reverse

from forecasting.models import CustomerForecastRun
from tests.api.test_customer_scores import make_run, score
from tests.factories import CustomerFactory, MembershipFactory, OrderFactory
from tests.ui.helpers import metrics_in, queries_to_get

pytestmark = pytest.mark.django_db

PAGE = "/forecasts/customers/"


@pytest.fixture
def scored(merchant):
    anna = CustomerFactory(merchant=merchant, external_id="ANNA", name="Anna")
    ben = CustomerFactory(merchant=merchant, external_id="BEN")
    cleo = CustomerFactory(merchant=merchant, external_id="CLEO")
    older = make_run(merchant, dt.date(2024, 3, 31))
    score(older, anna, churn_risk=0.5, segment="loyal")
    latest = make_run(merchant, dt.date(2024, 6, 30))
    score(latest, anna, churn_risk=0.2, segment="champions", clv_12m=900.0)
    score(latest, ben, churn_risk=0.9, segment="lost", clv_12m=15.0)
    score(latest, cleo, churn_risk=0.7, segment="lost", clv_12m=300.0)
    CustomerForecastRun.objects.filter(pk=latest.pk).update(customers_total=3)
    return {"older": older, "latest": latest, "anna": anna, "ben": ben, "cleo": cleo}


def rows_of(response) -> list[str]:
    assert response.status_code == 200
    table = response.content.decode().split('<table id="customer-scores">')[1].split("</table>")[0]
    return re.findall(r'<td class="mono"><a href="/customers/\d+/">([^<]+)</a>', table)


def chart(response, data_id: str) -> dict:
    html = response.content.decode()
    return json.loads(re.search(rf'<script id="{data_id}" type="application/json">(.*?)</script>', html, re.S)[1])


def test_it_lists_the_latest_scores_riskiest_first_with_the_segment_chart(owner_client, scored):
    response = owner_client.get(PAGE)

    assert rows_of(response) == ["BEN", "CLEO", "ANNA"]
    html = response.content.decode()
    assert "history up to 2024-06-30, 3 customers" in html
    assert '<td class="num">90%</td>' in html
    figure = chart(response, "segment-chart-data")
    bars, risk = figure["data"]
    assert bars["x"] == ["Champions", "Lost"]
    assert bars["y"] == [1, 2]
    assert risk["y"] == [0.2, 0.8]
    assert 'href="/api/v1/customer-scores/export.csv?ordering=-churn_risk"' in html
    assert 'aria-current="page">At-risk customers</a>' in html


def test_it_filters_by_segment_and_minimum_churn_risk_and_exports_the_same(owner_client, scored):
    response = owner_client.get(PAGE, {"segment": "lost", "min_churn_risk": "0.8"})

    assert rows_of(response) == ["BEN"]
    assert (
        'href="/api/v1/customer-scores/export.csv?segment=lost&amp;min_churn_risk=0.8&amp;ordering=-churn_risk"'
        in response.content.decode()
    )
    export = owner_client.get("/api/v1/customer-scores/export.csv?segment=lost&min_churn_risk=0.8")
    assert b"".join(export.streaming_content).decode().splitlines()[1].startswith("BEN,")


def test_it_sorts_by_a_column_both_ways(owner_client, scored):
    assert rows_of(owner_client.get(PAGE, {"ordering": "-clv_12m"})) == ["ANNA", "CLEO", "BEN"]
    ascending = owner_client.get(PAGE, {"ordering": "clv_12m"})
    assert rows_of(ascending) == ["BEN", "CLEO", "ANNA"]
    assert 'href="?ordering=-clv_12m" aria-sort="ascending">CLV, 12 m ↑</a>' in ascending.content.decode()


def test_it_explains_filters_it_cannot_apply(owner_client, scored):
    response = owner_client.get(PAGE, {"segment": "vip", "min_churn_risk": "7", "ordering": "email"})

    html = response.content.decode()
    assert rows_of(response) == ["BEN", "CLEO", "ANNA"]
    assert "Unknown segment “vip”" in html
    assert "Minimum churn risk must be a number from 0 to 1, not “7”" in html
    assert "Cannot sort by “email”" in html


def test_it_pages_the_list_keeping_filters_and_order(owner_client, merchant, scored):
    for index in range(55):
        score(scored["latest"], CustomerFactory(merchant=merchant), churn_risk=0.3 + index / 1000, segment="loyal")

    first = owner_client.get(PAGE, {"segment": "loyal", "ordering": "churn_risk"})
    second = owner_client.get(PAGE, {"segment": "loyal", "ordering": "churn_risk", "page": 2})

    assert len(rows_of(first)) == 50
    assert len(rows_of(second)) == 5
    assert "?segment=loyal&amp;ordering=churn_risk&amp;page=2" in first.content.decode()


def test_it_renders_the_list_in_the_same_number_of_queries_for_more_rows(owner_client, merchant, scored):
    few = queries_to_get(owner_client, PAGE)
    for index in range(10):
        score(scored["latest"], CustomerFactory(merchant=merchant), churn_risk=index / 10, segment="promising")

    assert queries_to_get(owner_client, PAGE) == few


def test_it_shows_another_merchants_owner_nothing_of_ours(client, other_merchant, scored):
    client.force_login(MembershipFactory(merchant=other_merchant).user)

    response = client.get(PAGE)

    html = response.content.decode()
    assert "No customer scores yet." in html
    assert "ANNA" not in html
    progress = reverse("customer-scores-run-progress", args=[scored["latest"].pk])
    assert client.get(progress).status_code == 404


def test_it_computes_scores_on_request_for_an_owner(owner_client, merchant, django_capture_on_commit_callbacks):
    OrderFactory(merchant=merchant, placed_at=dt.datetime(2024, 6, 30, 12, tzinfo=dt.UTC))

    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(reverse("customer-scores-run-request"), follow=True)

    run = CustomerForecastRun.objects.get(merchant=merchant)
    assert run.data_cutoff == dt.date(2024, 6, 30)
    assert len(callbacks) == 1
    html = response.content.decode()
    assert f"Scoring customers on history up to 2024-06-30 (run {run.pk})." in html
    assert f'data-progress-url="/forecasts/customers/runs/{run.pk}/progress/"' in html
    assert 'id="run-customer-scores" disabled' in html
    progress = owner_client.get(reverse("customer-scores-run-progress", args=[run.pk])).json()
    assert progress == {
        "id": run.pk,
        "status": "pending",
        "progress": 0.0,
        "stage": "",
        "customers_total": 0,
        "error": "",
    }


def test_it_refuses_computing_scores_to_a_viewer(client, merchant, django_capture_on_commit_callbacks):
    client.force_login(MembershipFactory(merchant=merchant, role="viewer").user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("customer-scores-run-request"), follow=True)

    assert "Your role can view customer scores but not compute them." in response.content.decode()
    assert not CustomerForecastRun.objects.exists()
    assert callbacks == []
    assert 'id="run-customer-scores"' not in client.get(PAGE).content.decode()


def test_it_shows_the_latest_scores_and_their_history_on_the_customer_page(owner_client, scored):
    OrderFactory(merchant=scored["anna"].merchant, customer=scored["anna"])

    response = owner_client.get(reverse("customer-detail", args=[scored["anna"].pk]))

    metrics = metrics_in(response.content.decode())
    assert metrics["Churn risk"] == "20%"
    assert metrics["P(alive)"] == "90%"
    assert metrics["CLV, 12 months"] == "900.00"
    assert metrics["Segment"] == "Champions"
    history = chart(response, "score-history-chart-data")
    assert history["data"][0]["x"] == ["2024-03-31", "2024-06-30"]
    assert history["data"][0]["y"] == [0.5, 0.2]


def test_it_says_when_the_latest_scores_do_not_include_the_customer(owner_client, merchant, scored):
    newcomer = CustomerFactory(merchant=merchant)

    response = owner_client.get(reverse("customer-detail", args=[newcomer.pk]))

    assert "The latest scores (history up to 2024-06-30) do not include this customer" in response.content.decode()
