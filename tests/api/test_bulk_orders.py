"""POST /api/v1/orders/bulk/: orders with their lines, all or nothing, with row-numbered errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Customer, Order, OrderLine
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders/bulk/"


@pytest.fixture
def products(merchant, other_merchant):
    ProductFactory(merchant=other_merchant, sku="RIVAL-1")
    return [ProductFactory(merchant=merchant, sku=sku) for sku in ("MUG-1", "TEA-2", "POT-3")]


def _body() -> dict:
    return {
        "orders": [
            {
                "order_id": "1001",
                "placed_at": "2024-03-01T10:15:00Z",
                "customer_id": "C-1",
                "channel": "web",
                "status": "paid",
                "lines": [
                    {"sku": "MUG-1", "quantity": 2, "unit_price": "7.50"},
                    {"sku": "TEA-2", "quantity": 1, "unit_price": "4.00", "discount": "0.50"},
                ],
            },
            {
                "order_id": "1002",
                "placed_at": "2024-03-02T09:00:00Z",
                "customer_id": "C-2",
                "lines": [{"sku": "POT-3", "quantity": 1, "unit_price": "25.00"}],
            },
            {
                "order_id": "R-1001",
                "placed_at": "2024-03-05T12:00:00Z",
                "customer_id": "C-1",
                "lines": [{"sku": "MUG-1", "quantity": -1, "unit_price": "7.50"}],
            },
        ]
    }


def test_it_creates_orders_with_their_lines(api_client, merchant, products):
    response = api_client.post(URL, _body(), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["rows_read"] == 4
    orders = {order.external_id: order for order in Order.objects.filter(merchant=merchant)}
    assert set(orders) == {"1001", "1002", "R-1001"}
    first = orders["1001"]
    assert (first.customer.external_id, first.channel, first.status, first.kind) == ("C-1", "web", "paid", "sale")
    assert first.placed_at == dt.datetime(2024, 3, 1, 10, 15, tzinfo=dt.UTC)
    lines = list(OrderLine.objects.filter(order=first).order_by("line_number").select_related("product"))
    assert [(line.product.sku, line.quantity, line.unit_price, line.discount) for line in lines] == [
        ("MUG-1", 2, Decimal("7.5"), Decimal("0")),
        ("TEA-2", 1, Decimal("4"), Decimal("0.5")),
    ]
    returned = OrderLine.objects.get(order=orders["R-1001"])
    assert (orders["R-1001"].kind, returned.kind, returned.quantity) == ("return", "return", 1)
    assert set(Customer.objects.filter(merchant=merchant).values_list("external_id", flat=True)) == {"C-1", "C-2"}


def test_it_changes_nothing_when_the_same_body_is_sent_again(api_client, merchant, products):
    assert api_client.post(URL, _body(), format="json").status_code == 201

    again = api_client.post(URL, _body(), format="json")

    assert again.status_code == 201
    assert Order.objects.filter(merchant=merchant).count() == 3
    assert OrderLine.objects.filter(merchant=merchant).count() == 4


def test_it_numbers_import_errors_by_flattened_line_and_writes_nothing(api_client, merchant, products):
    body = _body()
    body["orders"][1]["lines"][0]["sku"] = "NO-SUCH-SKU"
    body["orders"][2]["lines"][0]["quantity"] = 0

    response = api_client.post(URL, body, format="json")

    assert response.status_code == 400
    errors = sorted(
        (error["row"], error["column"], error["order"], error["line"]) for error in response.json()["errors"]
    )
    assert errors == [(3, "sku", 1, 0), (4, "quantity", 2, 0)]
    assert response.json()["error_count"] == 2
    assert not Order.objects.filter(merchant=merchant).exists()
    assert not Customer.objects.filter(merchant=merchant).exists()


def test_it_numbers_malformed_fields_by_flattened_line_and_writes_nothing(api_client, merchant, products):
    body = _body()
    body["orders"][0]["lines"][1]["quantity"] = "two"
    body["orders"][1]["placed_at"] = "yesterday"
    body["orders"][2]["lines"] = []

    response = api_client.post(URL, body, format="json")

    assert response.status_code == 400
    errors = sorted(
        (error["row"], error["column"], error["order"], error["line"]) for error in response.json()["errors"]
    )
    assert errors == [(2, "quantity", 0, 1), (3, "placed_at", 1, None), (4, "lines", 2, None)]
    assert not Order.objects.filter(merchant=merchant).exists()


def test_it_treats_another_merchants_sku_like_an_unknown_one(api_client, merchant, products):
    messages = {}
    for sku in ("RIVAL-1", "NOPE-1"):
        body = _body()
        body["orders"][0]["lines"][0]["sku"] = sku
        response = api_client.post(URL, body, format="json")
        assert response.status_code == 400
        [error] = response.json()["errors"]
        messages[sku] = (error["row"], error["column"], error["message"].replace(sku, "<sku>"))

    assert messages["RIVAL-1"] == messages["NOPE-1"]
    assert not Order.objects.exists()


def test_it_reports_a_body_without_orders_on_row_0(api_client, merchant):
    response = api_client.post(URL, {"order": []}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 0, "column": "orders", "message": "This field is required.", "order": None, "line": None}
    ]


def test_it_takes_times_without_an_offset_in_the_merchants_time_zone(api_client, merchant, products):
    body = _body()
    body["orders"][0]["placed_at"] = "2024-07-01T10:00:00"

    assert api_client.post(URL, body, format="json").status_code == 201

    placed_at = Order.objects.get(merchant=merchant, external_id="1001").placed_at
    assert merchant.timezone == "Europe/London"
    assert placed_at == dt.datetime(2024, 7, 1, 9, 0, tzinfo=dt.UTC)


def test_it_reports_a_body_that_is_not_json_on_row_0(api_client, merchant):
    response = api_client.post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["row"], error["column"]) == (0, None)
    assert "JSON parse error" in error["message"]
