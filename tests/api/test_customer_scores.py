"""GET /api/v1/customer-scores/ (filters, ordering, run), its CSV export and a customer's latest scores."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forecasting.models import CustomerForecastRun, CustomerScore
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customer-scores/"


def make_run(merchant, cutoff: dt.date, *, status=CustomerForecastRun.Status.SUCCEEDED) -> CustomerForecastRun:
    return CustomerForecastRun.objects.create(
        merchant=merchant,
        idempotency_key=uuid.uuid4().hex,
        data_cutoff=cutoff,
        status=status,
        finished_at=timezone.now() if status == CustomerForecastRun.Status.SUCCEEDED else None,
    )


def score(run, customer, *, churn_risk: float, segment: str, clv_12m: float = 100.0) -> CustomerScore:
    return CustomerScore.objects.create(
        merchant=run.merchant,
        run=run,
        customer=customer,
        p_alive=1 - churn_risk / 2,
        p_purchase_30d=(1 - churn_risk) / 2,
        expected_orders_90d=3 * (1 - churn_risk),
        churn_risk=churn_risk,
        clv_12m=clv_12m,
        segment=segment,
        rfm="333",
        model="bg_nbd",
        orders=5,
        days_since_last_order=10 + 100 * churn_risk,
        total_spend=250.0,
    )


@pytest.fixture
def scored(merchant):
    """An older run and the latest one; the latest scores three customers, one of them with a formula-like name."""
    anna = CustomerFactory(merchant=merchant, external_id="ANNA", name="Anna")
    ben = CustomerFactory(merchant=merchant, external_id="BEN", name='=HYPERLINK("x")')
    cleo = CustomerFactory(merchant=merchant, external_id="CLEO", name="Cleo")
    older = make_run(merchant, dt.date(2024, 3, 31))
    score(older, anna, churn_risk=0.5, segment="loyal")
    latest = make_run(merchant, dt.date(2024, 6, 30))
    score(latest, anna, churn_risk=0.2, segment="champions", clv_12m=900.0)
    score(latest, ben, churn_risk=0.9, segment="lost", clv_12m=15.0)
    score(latest, cleo, churn_risk=0.7, segment="at risk", clv_12m=300.0)
    make_run(merchant, dt.date(2024, 7, 31), status=CustomerForecastRun.Status.RUNNING)
    return {"older": older, "latest": latest, "anna": anna, "ben": ben, "cleo": cleo}


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["customer_external_id"] for row in response.json()["results"]]


def test_it_lists_the_latest_succeeded_run_riskiest_first(api_client, scored):
    response = api_client.get(URL)

    assert ids(response) == ["BEN", "CLEO", "ANNA"]
    first = response.json()["results"][0]
    assert first["run"] == scored["latest"].pk
    assert first["data_cutoff"] == "2024-06-30"
    assert first["churn_risk"] == 0.9
    assert first["segment"] == "lost"
    assert first["customer"] == scored["ben"].pk


def test_it_lists_an_earlier_run_on_request(api_client, scored):
    response = api_client.get(URL, {"run": scored["older"].pk})

    assert ids(response) == ["ANNA"]
    assert response.json()["results"][0]["churn_risk"] == 0.5


def test_it_filters_by_segment_and_minimum_churn_risk(api_client, scored):
    assert ids(api_client.get(URL, {"segment": "at risk"})) == ["CLEO"]
    assert ids(api_client.get(URL, {"min_churn_risk": "0.7"})) == ["BEN", "CLEO"]
    assert ids(api_client.get(URL, {"min_churn_risk": "0.7", "segment": "lost"})) == ["BEN"]
    assert ids(api_client.get(URL, {"customer": "ANNA"})) == ["ANNA"]


def test_it_orders_by_any_score(api_client, scored):
    assert ids(api_client.get(URL, {"ordering": "-clv_12m"})) == ["ANNA", "CLEO", "BEN"]
    assert ids(api_client.get(URL, {"ordering": "churn_risk"})) == ["ANNA", "CLEO", "BEN"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_churn_risk": "2"}, "min_churn_risk"),
        ({"min_churn_risk": "high"}, "min_churn_risk"),
        ({"segment": "vip"}, "segment"),
        ({"ordering": "password"}, "ordering"),
        ({"run": "latest"}, "run"),
    ],
)
def test_it_answers_bad_parameters_with_a_clear_400(api_client, scored, params, field):
    response = api_client.get(URL, params)

    assert response.status_code == 400
    assert field in response.json()


def test_it_exports_the_filtered_list_as_csv_safe_for_spreadsheets(api_client, scored):
    response = api_client.get(f"{URL}export.csv", {"min_churn_risk": "0.5"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="customer-scores-2024-06-30.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["customer_external_id"] for row in rows] == ["BEN", "CLEO"]
    assert rows[0]["name"] == '\'=HYPERLINK("x")'
    assert rows[0]["churn_risk"] == "0.9000"
    assert rows[1]["segment"] == "at risk"
    assert rows[1]["clv_12m"] == "300.00"
    assert rows[1]["data_cutoff"] == "2024-06-30"


def test_it_serves_the_export_with_and_without_the_trailing_slash_and_for_accept_csv(api_client, scored):
    with_slash = api_client.get(f"{URL}export.csv/", HTTP_ACCEPT="text/csv")

    assert with_slash.status_code == 200
    assert b"".join(with_slash.streaming_content).decode().count("\n") == 4


def test_it_shows_a_customers_latest_scores_and_history(api_client, scored):
    response = api_client.get(f"/api/v1/customers/{scored['anna'].pk}/scores/")

    assert response.status_code == 200
    body = response.json()
    assert body["customer_external_id"] == "ANNA"
    assert body["latest"]["churn_risk"] == 0.2
    assert body["latest"]["run"] == scored["latest"].pk
    assert [row["data_cutoff"] for row in body["history"]] == ["2024-03-31", "2024-06-30"]


def test_it_shows_no_latest_scores_for_a_customer_the_latest_run_did_not_know(api_client, merchant, scored):
    newcomer = CustomerFactory(merchant=merchant)

    body = api_client.get(f"/api/v1/customers/{newcomer.pk}/scores/").json()

    assert body["latest"] is None
    assert body["history"] == []


def test_it_hides_every_score_from_another_merchant(other_api_client, scored):
    assert other_api_client.get(URL).json()["count"] == 0
    assert other_api_client.get(URL, {"run": scored["latest"].pk}).status_code == 404
    assert other_api_client.get(f"{URL}{scored['latest'].scores.first().pk}/").status_code == 404
    assert other_api_client.get(f"/api/v1/customers/{scored['anna'].pk}/scores/").status_code == 404
    export = other_api_client.get(f"{URL}export.csv")
    assert b"".join(export.streaming_content).decode().count("\n") == 1


def test_it_turns_anonymous_callers_away(client, scored):
    assert client.get(URL).status_code in {401, 403}
    assert client.get(f"{URL}export.csv").status_code in {401, 403}
    assert client.get(f"/api/v1/customers/{scored['anna'].pk}/scores/").status_code in {401, 403}


def test_it_lists_without_a_query_per_row(api_client, merchant, scored):
    with CaptureQueriesContext(connection) as baseline:
        assert len(ids(api_client.get(URL))) == 3
    for index in range(6):
        score(scored["latest"], CustomerFactory(merchant=merchant), churn_risk=index / 10, segment="promising")

    with CaptureQueriesContext(connection) as more_rows:
        assert len(ids(api_client.get(URL))) == 9

    assert len(more_rows.captured_queries) == len(baseline.captured_queries)


def test_it_exports_without_a_query_per_row(api_client, merchant, scored):
    def export_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            b"".join(api_client.get(f"{URL}export.csv").streaming_content)
        return len(captured.captured_queries)

    baseline = export_queries()
    for index in range(6):
        score(scored["latest"], CustomerFactory(merchant=merchant), churn_risk=index / 10, segment="promising")

    assert export_queries() == baseline


def test_it_includes_the_latest_scores_in_the_customer_detail_but_not_the_list(api_client, merchant, scored):
    detail = api_client.get(f"/api/v1/customers/{scored['anna'].pk}/").json()
    newcomer = api_client.get(f"/api/v1/customers/{CustomerFactory(merchant=merchant).pk}/").json()
    listed = api_client.get("/api/v1/customers/").json()["results"]

    assert detail["latest_scores"]["churn_risk"] == 0.2
    assert detail["latest_scores"]["run"] == scored["latest"].pk
    assert detail["latest_scores"]["data_cutoff"] == "2024-06-30"
    assert newcomer["latest_scores"] is None
    assert all("latest_scores" not in row for row in listed)
