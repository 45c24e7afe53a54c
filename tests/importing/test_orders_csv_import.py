from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Customer, Order, OrderLine
from ecomforecast.importing import run_import
from tests.importing.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_it_imports_generic_order_lines(catalogue):
    report = run_import(merchant=catalogue, kind="orders", paths=[FIXTURES / "orders.csv"])

    assert report.format == "orders-csv"
    assert (report.rows_read, report.rows_created, report.rows_skipped) == (5, 5, 0)
    assert report.extra["orders_created"] == 4
    assert report.extra["customers_created"] == 2
    order = Order.objects.get(merchant=catalogue, external_id="1001")
    assert (order.status, order.channel, order.currency, order.country) == ("paid", "web", "GBP", "GB")
    assert order.customer.email == "ann@example.com"
    assert list(order.lines.order_by("line_number").values_list("product__sku", "quantity", "discount")) == [
        ("SKU-A", 2, Decimal("0")),
        ("SKU-B", 1, Decimal("2.5")),
    ]


def test_it_reads_offsets_and_merchant_local_times(catalogue):
    run_import(merchant=catalogue, kind="orders", paths=[FIXTURES / "orders.csv"])

    assert Order.objects.get(external_id="1002").placed_at == dt.datetime(2024, 3, 2, 14, 30, tzinfo=dt.UTC)
    # 2024-06-05 09:00 in London is British Summer Time.
    assert Order.objects.get(external_id="1003").placed_at == dt.datetime(2024, 6, 5, 8, 0, tzinfo=dt.UTC)


def test_it_stores_negative_quantities_as_return_lines(catalogue):
    run_import(merchant=catalogue, kind="orders", paths=[FIXTURES / "orders.csv"])

    returned = Order.objects.get(external_id="1003")
    assert returned.kind == Order.Kind.RETURN
    assert list(returned.lines.values_list("kind", "quantity")) == [(OrderLine.Kind.RETURN, 1)]


def test_it_defaults_status_and_allows_orders_without_customer(catalogue):
    run_import(merchant=catalogue, kind="orders", paths=[FIXTURES / "orders.csv"])

    walk_in = Order.objects.get(external_id="1004")
    assert (walk_in.customer, walk_in.status, walk_in.channel) == (None, Order.Status.PLACED, "pos")
    assert Customer.objects.filter(merchant=catalogue).count() == 2


def test_it_imports_a_dataframe(catalogue):
    import pandas as pd

    frame = pd.read_csv(FIXTURES / "orders.csv", dtype=str, keep_default_na=False)

    report = run_import(merchant=catalogue, kind="orders", fmt="orders-csv", frame=frame)

    assert report.rows_created == 5
    assert OrderLine.objects.filter(merchant=catalogue).count() == 5
