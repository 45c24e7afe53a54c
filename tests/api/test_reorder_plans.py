"""The reorder-plan endpoints: latest plan, lines with filters, approval, supplier CSV export, tenancy."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from ecomforecast.services import api_key_create
from inventory import services
from inventory.models import PurchaseOrder, ReorderLine
from tests.factories import SupplierFactory
from tests.inventory.plans import constant, forecast_run_by_hand
from tests.inventory.test_reorder_plan import stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(merchant):
    north, south = (SupplierFactory(merchant=merchant, code=code) for code in ("NORTH", "SOUTH"))
    products = {
        stocked(merchant, sku="A", on_hand=0, supplier=north, lead_days=3): constant(10.0),
        stocked(merchant, sku="B", on_hand=0, supplier=south, lead_days=3, price="60.00"): constant(2.0),
        stocked(merchant, sku="IDLE", on_hand=5000, supplier=south, lead_days=3): constant(1.0),
    }
    run = forecast_run_by_hand(merchant=merchant, products=products)
    return services.reorder_plan_build(merchant=merchant, forecast_run_id=run.pk)


def test_it_serves_the_latest_plan(api_client, plan):
    body = api_client.get("/api/v1/reorder-plans/latest/").json()

    assert body["id"] == plan.pk
    assert (body["lines_total"], body["lines_to_order"], body["units_to_order"]) == (3, 2, 120)
    assert body["status"] == "draft"


def test_it_answers_404_for_the_latest_plan_before_any(api_client, merchant):
    assert api_client.get("/api/v1/reorder-plans/latest/").status_code == 404


def test_it_lists_a_plans_lines_in_priority_order_with_filters(api_client, plan):
    url = f"/api/v1/reorder-plans/{plan.pk}/lines/"
    south = plan.lines.get(product__sku="B").supplier_id

    everything = api_client.get(url).json()
    urgent = api_client.get(url, {"urgency": "now"}).json()
    of_south = api_client.get(url, {"supplier": south}).json()
    by_risk = api_client.get(url, {"ordering": "-revenue_at_risk"}).json()

    assert [row["sku"] for row in everything["results"]] == ["B", "A", "IDLE"]
    assert [row["priority"] for row in everything["results"]] == [1, 2, 3]
    assert {row["sku"] for row in urgent["results"]} == {"A", "B"}
    assert {row["sku"] for row in of_south["results"]} == {"B", "IDLE"}
    assert by_risk["results"][0]["sku"] == "B"
    line_a = everything["results"][1]
    assert line_a["final_quantity"] == 100
    assert line_a["reorder_point"] == pytest.approx(100.0)
    assert line_a["explanation"].startswith("Order 100 units")


def test_it_approves_within_budget_and_creates_draft_orders_per_supplier(api_client, plan):
    line_a = plan.lines.get(product__sku="A")

    response = api_client.post(
        f"/api/v1/reorder-plans/{plan.pk}/approve/",
        {"quantities": {str(line_a.pk): 110}, "create_purchase_orders": True},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ordered"
    orders = PurchaseOrder.objects.filter(merchant=plan.merchant).order_by("supplier__code")
    assert [(order.supplier.code, order.status) for order in orders] == [("NORTH", "draft"), ("SOUTH", "draft")]
    assert list(orders[0].lines.values_list("product__sku", "quantity")) == [("A", 110)]
    assert list(orders[1].lines.values_list("product__sku", "quantity")) == [("B", 20)]


def test_it_rejects_approving_lines_of_another_plan(api_client, plan, other_merchant):
    response = api_client.post(f"/api/v1/reorder-plans/{plan.pk}/approve/", {"lines": [999_999]}, format="json")

    assert response.status_code == 400
    assert "999999" in response.json()["lines"][0]
    assert not plan.lines.filter(status=ReorderLine.Status.APPROVED).exists()


def test_it_exports_a_suppliers_lines_as_csv(api_client, plan):
    north = plan.lines.get(product__sku="A").supplier_id

    response = api_client.get(f"/api/v1/reorder-plans/{plan.pk}/export.csv", {"supplier": north})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="reorder-plan-{plan.pk}.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["supplier_code"], row["sku"], row["quantity"], row["line_cost"]) for row in rows] == [
        ("NORTH", "A", "100", "400.00")
    ]


def test_it_rejects_a_malformed_export_filter(api_client, plan):
    assert api_client.get(f"/api/v1/reorder-plans/{plan.pk}/export.csv", {"supplier": "x"}).status_code == 400
    assert api_client.get(f"/api/v1/reorder-plans/{plan.pk}/export.csv", {"status": "lost"}).status_code == 400


def test_it_hides_a_plan_from_another_merchant_on_every_endpoint(plan, other_api_client):
    for url in (
        f"/api/v1/reorder-plans/{plan.pk}/",
        f"/api/v1/reorder-plans/{plan.pk}/lines/",
        f"/api/v1/reorder-plans/{plan.pk}/export.csv",
        f"/api/v1/reorder-plans/{plan.pk}/export.csv/",
    ):
        assert other_api_client.get(url).status_code == 404, url
    assert other_api_client.post(f"/api/v1/reorder-plans/{plan.pk}/approve/", {}, format="json").status_code == 404
    assert other_api_client.get("/api/v1/reorder-plans/latest/").status_code == 404
    assert other_api_client.get("/api/v1/reorder-lines/").json()["count"] == 0
    assert not plan.lines.exclude(status=ReorderLine.Status.PROPOSED).exists()


def test_it_lets_a_viewer_read_plans_but_not_approve(plan, merchant):
    _key, raw = api_key_create(merchant=merchant, name="viewer", role="viewer")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")

    assert client.get(f"/api/v1/reorder-plans/{plan.pk}/lines/").status_code == 200
    assert client.post(f"/api/v1/reorder-plans/{plan.pk}/approve/", {}, format="json").status_code == 403
