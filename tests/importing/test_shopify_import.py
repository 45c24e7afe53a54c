from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Customer, Order
from ecomforecast.importing import run_import
from inventory.models import Product
from tests.importing.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_it_imports_the_shopify_order_export(merchant):
    report = run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "shopify_orders.csv"])

    assert report.format == "shopify"
    assert (report.rows_read, report.rows_created) == (4, 4)
    assert report.extra["orders_created"] == 3
    assert report.extra["products_created"] == 3
    assert set(Customer.objects.filter(merchant=merchant).values_list("external_id", flat=True)) == {
        "ann@example.com",
        "bob@example.com",
    }


def test_it_takes_order_fields_from_the_first_row(merchant):
    run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "shopify_orders.csv"])

    order = Order.objects.get(merchant=merchant, external_id="#1001")
    assert order.placed_at == dt.datetime(2024, 1, 15, 15, 23, 45, tzinfo=dt.UTC)
    assert (order.status, order.channel, order.currency, order.country) == ("fulfilled", "web", "USD", "US")
    assert order.customer.external_id == "ann@example.com"
    lines = order.lines.order_by("line_number")
    assert [(line.product.sku, line.quantity, line.discount, line.placed_at) for line in lines] == [
        ("MUG-BLUE", 2, Decimal("0"), order.placed_at),
        ("MUG-RED", 1, Decimal("1"), order.placed_at),
    ]


def test_it_maps_statuses_and_items_without_sku(merchant):
    run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "shopify_orders.csv"])

    assert Order.objects.get(external_id="#1002").status == Order.Status.PAID
    assert Order.objects.get(external_id="#1003").status == Order.Status.CANCELLED
    gift_card = Product.objects.get(merchant=merchant, sku="Gift Card")
    assert (gift_card.name, gift_card.price) == ("Gift Card", Decimal("25"))


def test_it_keeps_the_merchants_catalogue_details(merchant):
    Product.objects.create(merchant=merchant, sku="MUG-BLUE", name="Blue mug (catalogue)", price=Decimal("15"))

    report = run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "shopify_orders.csv"])

    assert report.extra["products_created"] == 2
    mug = Product.objects.get(merchant=merchant, sku="MUG-BLUE")
    assert (mug.name, mug.price) == ("Blue mug (catalogue)", Decimal("15"))
