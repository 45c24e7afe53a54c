from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Order, OrderLine
from ecomforecast.models import ImportJob
from tests.factories import (
    ActivityEventFactory,
    CampaignFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    PurchaseOrderFactory,
    StockLevelFactory,
    SupplierFactory,
)
from tests.ui.helpers import metrics_in

pytestmark = pytest.mark.django_db


def _at(day: int) -> dt.datetime:
    return dt.datetime(2024, 3, day, 12, tzinfo=dt.UTC)


@pytest.fixture
def shop(merchant, other_merchant):
    products = ProductFactory.create_batch(3, merchant=merchant)
    customers = CustomerFactory.create_batch(2, merchant=merchant)
    first = OrderFactory(merchant=merchant, customer=customers[0], placed_at=_at(4))
    last = OrderFactory(merchant=merchant, customer=customers[1], placed_at=_at(20))
    returned = OrderFactory(merchant=merchant, customer=customers[1], placed_at=_at(21), kind=Order.Kind.RETURN)
    OrderLineFactory(order=first, product=products[0], quantity=5, unit_price=Decimal("2.00"))
    OrderLineFactory(order=first, product=products[1], quantity=1, unit_price=Decimal("10.00"))
    OrderLineFactory(order=last, product=products[0], quantity=3, unit_price=Decimal("2.00"))
    OrderLineFactory(
        order=returned, product=products[0], quantity=1, unit_price=Decimal("2.00"), kind=OrderLine.Kind.RETURN
    )
    StockLevelFactory(product=products[0])
    supplier = SupplierFactory(merchant=merchant)
    PurchaseOrderFactory(supplier=supplier)
    PurchaseOrderFactory(supplier=supplier)
    ActivityEventFactory.create_batch(4, merchant=merchant, customer=customers[0])
    CampaignFactory(merchant=merchant)
    ImportJob.objects.create(
        merchant=merchant, kind="orders", filename="march-orders.csv", status="succeeded", rows_read=4
    )
    # Another shop's rows must not show up in any figure.
    ProductFactory.create_batch(7, merchant=other_merchant)
    OrderLineFactory.create_batch(5, order=OrderFactory(merchant=other_merchant, placed_at=_at(1)))
    ImportJob.objects.create(merchant=other_merchant, kind="orders", filename="rival-secret.csv")
    return merchant


def test_it_shows_the_merchants_record_counts(owner_client, shop):
    html = owner_client.get(reverse("dashboard")).content.decode()

    assert metrics_in(html) == {
        "Products": "3",
        "Customers": "2",
        "Orders": "3",
        "Order lines": "4",
        "Stock rows": "1",
        "Suppliers": "1",
        "Purchase orders": "2",
        "Activity events": "4",
        "Campaigns": "1",
    }


def test_it_shows_the_order_date_range_and_returns(owner_client, shop):
    html = owner_client.get(reverse("dashboard")).content.decode()

    assert "<dt>First order</dt><dd>2024-03-04</dd>" in html
    assert "<dt>Last order</dt><dd>2024-03-21</dd>" in html
    assert "<dt>Span</dt><dd>18 days</dd>" in html
    assert "<dt>Return documents</dt><dd>1</dd>" in html


def test_it_lists_the_merchants_last_imports_only(owner_client, shop):
    html = owner_client.get(reverse("dashboard")).content.decode()

    assert "march-orders.csv" in html
    assert "rival-secret.csv" not in html


def test_it_draws_weekly_sales_net_of_returns_by_default(owner_client, shop):
    response = owner_client.get(reverse("dashboard"))

    html = response.content.decode()
    units = response.context["sales_chart"]["data"][0]
    assert 'id="sales-chart"' in html
    assert 'id="sales-chart-data"' in html
    assert "/vendor/plotly-" in html
    # Weeks of 4, 11 and 18 March 2024: 6 units, none, 3 sold and 1 returned.
    assert units["x"] == ["2024-03-04", "2024-03-11", "2024-03-18"]
    assert units["y"] == [6, 0, 2]


def test_it_switches_the_sales_chart_to_days(owner_client, shop):
    response = owner_client.get(reverse("dashboard"), {"freq": "day"})

    units = response.context["sales_chart"]["data"][0]
    assert len(units["x"]) == 18
    assert units["y"][0] == 6
    assert units["y"][-2:] == [3, -1]


def test_it_invites_an_empty_shop_to_import(owner_client, merchant):
    html = owner_client.get(reverse("dashboard")).content.decode()

    assert "No orders yet." in html
    assert 'id="sales-chart"' not in html
