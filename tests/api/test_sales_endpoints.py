"""Orders, stock levels, purchase orders, activity and campaigns: nested rows, filters and campaign writes."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import Campaign, Order, OrderLine
from inventory.models import PurchaseOrder
from tests.factories import (
    ActivityEventFactory,
    CampaignFactory,
    CategoryFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    StockLevelFactory,
    SupplierFactory,
)

pytestmark = pytest.mark.django_db


def _at(day: int) -> dt.datetime:
    return dt.datetime(2024, 3, day, 12, tzinfo=dt.UTC)


def _values(response, key: str) -> list:
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


def test_it_shows_orders_with_their_lines(api_client, merchant):
    order = OrderFactory(merchant=merchant, external_id="1001", customer__external_id="C-1", placed_at=_at(1))
    OrderLineFactory(order=order, line_number=1, product__sku="MUG-1", quantity=2)
    OrderLineFactory(order=order, line_number=2, product__sku="TEA-1", quantity=1, kind=OrderLine.Kind.RETURN)

    body = api_client.get(f"/api/v1/orders/{order.pk}/").json()

    assert (body["external_id"], body["customer_external_id"], body["kind"]) == ("1001", "C-1", "sale")
    assert [(line["line_number"], line["sku"], line["kind"], line["quantity"]) for line in body["lines"]] == [
        (1, "MUG-1", "sale", 2),
        (2, "TEA-1", "return", 1),
    ]


def test_it_filters_orders_by_date_range_customer_kind_status_and_sku(api_client, merchant):
    alice = CustomerFactory(merchant=merchant, external_id="ALICE")
    mug = ProductFactory(merchant=merchant, sku="MUG-1")
    OrderLineFactory(order=OrderFactory(merchant=merchant, external_id="1", customer=alice, placed_at=_at(1)))
    OrderLineFactory(order=OrderFactory(merchant=merchant, external_id="2", placed_at=_at(5)), product=mug)
    returned = OrderFactory(
        merchant=merchant, external_id="3", placed_at=_at(9), kind=Order.Kind.RETURN, status=Order.Status.REFUNDED
    )
    OrderLineFactory(order=returned, product=mug, line_number=1)
    OrderLineFactory(order=returned, product=mug, line_number=2)

    url = "/api/v1/orders/"
    assert _values(api_client.get(url, {"placed_from": "2024-03-02T00:00:00Z"}), "external_id") == ["3", "2"]
    assert _values(api_client.get(url, {"placed_to": "2024-03-05T00:00:00Z"}), "external_id") == ["1"]
    assert _values(api_client.get(url, {"customer_external_id": "ALICE"}), "external_id") == ["1"]
    assert _values(api_client.get(url, {"customer": alice.pk}), "external_id") == ["1"]
    assert _values(api_client.get(url, {"kind": "return"}), "external_id") == ["3"]
    assert _values(api_client.get(url, {"status": "refunded"}), "external_id") == ["3"]
    assert _values(api_client.get(url, {"sku": "MUG-1"}), "external_id") == ["3", "2"]


def test_it_filters_stock_levels_by_sku_date_range_and_stock_outs(api_client, merchant):
    mug = ProductFactory(merchant=merchant, sku="MUG-1")
    for day, on_hand in ((1, 5), (2, 0), (3, 7)):
        StockLevelFactory(product=mug, date=dt.date(2024, 3, day), on_hand=on_hand)
    StockLevelFactory(product=ProductFactory(merchant=merchant, sku="TEA-1"), date=dt.date(2024, 3, 2))

    in_range = api_client.get("/api/v1/stock/", {"sku": "MUG-1", "date_from": "2024-03-02", "date_to": "2024-03-03"})
    stock_outs = api_client.get("/api/v1/stock/", {"stocked_out": "true"})

    assert sorted(_values(in_range, "date")) == ["2024-03-02", "2024-03-03"]
    assert [(row["sku"], row["on_hand"]) for row in stock_outs.json()["results"]] == [("MUG-1", 0)]


def test_it_shows_a_purchase_order_with_lines_and_its_lead_time(api_client, merchant):
    purchase_order = PurchaseOrderFactory(
        supplier=SupplierFactory(merchant=merchant, code="ACME"),
        external_id="PO-7",
        status=PurchaseOrder.Status.RECEIVED,
        ordered_at=dt.date(2024, 1, 1),
        received_at=dt.date(2024, 1, 13),
    )
    PurchaseOrderLineFactory(purchase_order=purchase_order, product__sku="MUG-1", quantity=48, received_quantity=48)

    body = api_client.get(f"/api/v1/purchase-orders/{purchase_order.pk}/").json()
    by_supplier = api_client.get("/api/v1/purchase-orders/", {"supplier_code": "ACME", "sku": "MUG-1"})

    assert (body["external_id"], body["supplier_code"], body["status"], body["lead_time_days"]) == (
        "PO-7",
        "ACME",
        "received",
        12,
    )
    assert [(line["sku"], line["quantity"], line["received_quantity"]) for line in body["lines"]] == [("MUG-1", 48, 48)]
    assert _values(by_supplier, "external_id") == ["PO-7"]


def test_it_filters_activity_by_kind_customer_and_sku(api_client, merchant):
    alice = CustomerFactory(merchant=merchant, external_id="ALICE")
    ActivityEventFactory(merchant=merchant, customer=alice, kind="view", product=ProductFactory(merchant=merchant))
    ActivityEventFactory(merchant=merchant, customer=alice, kind="cart", event_key="cart-1")
    ActivityEventFactory(merchant=merchant, kind="view", event_key="view-2")

    assert _values(api_client.get("/api/v1/activity/", {"kind": "cart"}), "event_key") == ["cart-1"]
    assert len(_values(api_client.get("/api/v1/activity/", {"customer_external_id": "ALICE"}), "id")) == 2


def test_it_creates_a_campaign_over_skus_and_categories(api_client, merchant):
    ProductFactory(merchant=merchant, sku="MUG-1")
    ProductFactory(merchant=merchant, sku="TEA-1")
    kitchen = CategoryFactory(merchant=merchant, name="Kitchen")

    response = api_client.post(
        "/api/v1/campaigns/",
        {
            "external_id": "SPRING",
            "name": "Spring sale",
            "starts_on": "2024-04-01",
            "ends_on": "2024-04-14",
            "discount_pct": "20.00",
            "channel": "email",
            "skus": ["TEA-1", "MUG-1"],
            "categories": [kitchen.pk],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["skus"] == ["MUG-1", "TEA-1"]
    campaign = Campaign.objects.get(merchant=merchant, external_id="SPRING")
    assert sorted(campaign.products.values_list("sku", flat=True)) == ["MUG-1", "TEA-1"]
    assert list(campaign.categories.all()) == [kitchen]


def test_it_rejects_a_campaign_ending_before_it_starts(api_client, merchant):
    campaign = CampaignFactory(merchant=merchant, starts_on=dt.date(2024, 4, 1), ends_on=dt.date(2024, 4, 14))

    response = api_client.patch(f"/api/v1/campaigns/{campaign.pk}/", {"ends_on": "2024-03-01"}, format="json")

    assert response.status_code == 400
    assert "ends_on" in response.json()
    campaign.refresh_from_db()
    assert campaign.ends_on == dt.date(2024, 4, 14)


def test_it_finds_campaigns_running_on_a_day_and_promoting_a_sku(api_client, merchant):
    mug = ProductFactory(merchant=merchant, sku="MUG-1")
    march = CampaignFactory(merchant=merchant, external_id="MARCH")
    march.products.set([mug])
    CampaignFactory(merchant=merchant, external_id="MAY", starts_on=dt.date(2024, 5, 1), ends_on=dt.date(2024, 5, 9))

    assert _values(api_client.get("/api/v1/campaigns/", {"running_on": "2024-03-05"}), "external_id") == ["MARCH"]
    assert _values(api_client.get("/api/v1/campaigns/", {"sku": "MUG-1"}), "external_id") == ["MARCH"]


@pytest.mark.parametrize(
    "value",
    ["0677-06-05T07:14:12+16:16", "4515-07-07T08:05:05-21:19", "0001-01-01T00:00:00+05:00", "not-a-date"],
)
def test_it_answers_400_for_date_times_postgres_or_the_calendar_cannot_hold(api_client, value):
    for url, parameter in (("/api/v1/orders/", "placed_to"), ("/api/v1/activity/", "occurred_from")):
        response = api_client.get(url, {parameter: value})

        assert response.status_code == 400, (url, response.content)
        assert parameter in response.json()


def test_it_compares_date_times_with_an_offset_in_utc(api_client, merchant):
    OrderFactory(merchant=merchant, placed_at=dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC))

    from_just_before = api_client.get("/api/v1/orders/", {"placed_from": "2024-03-01T11:30:00+02:00"}).json()
    from_just_after = api_client.get("/api/v1/orders/", {"placed_from": "2024-03-01T12:30:00+02:00"}).json()

    assert from_just_before["count"] == 1  # 09:30 UTC
    assert from_just_after["count"] == 0  # 10:30 UTC
