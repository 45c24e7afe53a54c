from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from customers.models import Customer, Order, OrderLine
from ecomforecast.importing import run_import
from inventory.models import Product
from tests.importing.conftest import FIXTURES

pytestmark = pytest.mark.django_db

EXPECTED_SKIPPED = {
    "postage": 1,
    "discount": 1,
    "manual adjustment": 1,
    "zero price": 1,
    "stock adjustment": 1,
    "bad debt adjustment": 1,
    "gift voucher": 1,
}


def _assert_fixture_imported(merchant, report):
    assert report.format == "online-retail"
    assert report.rows_read == 16
    assert report.rows_created == 9
    assert report.rows_skipped == 7
    assert report.skipped_by_reason == EXPECTED_SKIPPED
    assert report.extra["orders_created"] == 6
    assert report.extra["customers_created"] == 3
    assert report.extra["products_created"] == 8
    assert Order.objects.filter(merchant=merchant).count() == 6
    assert OrderLine.objects.filter(merchant=merchant).count() == 9
    assert set(Customer.objects.filter(merchant=merchant).values_list("external_id", flat=True)) == {
        "17850",
        "12583",
        "15311",
    }
    assert Product.objects.filter(merchant=merchant).count() == 8


def test_it_imports_invoice_lines_with_counted_skips(merchant):
    report = run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "online_retail.csv"])

    _assert_fixture_imported(merchant, report)
    order = Order.objects.get(merchant=merchant, external_id="536365")
    assert order.kind == Order.Kind.SALE
    assert order.customer.external_id == "17850"
    assert order.placed_at == dt.datetime(2010, 12, 1, 8, 26, tzinfo=dt.UTC)
    lines = list(
        order.lines.order_by("line_number").values_list("line_number", "product__sku", "quantity", "unit_price")
    )
    assert lines == [(1, "71053", 6, Decimal("3.3900")), (2, "85123A", 6, Decimal("2.5500"))]


def test_it_stores_cancellations_as_returns_not_negative_sales(merchant):
    run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "online_retail.csv"])

    returns = Order.objects.filter(merchant=merchant, kind=Order.Kind.RETURN)
    assert set(returns.values_list("external_id", flat=True)) == {"C536379", "C536383"}
    line = OrderLine.objects.get(order__external_id="C536379")
    assert (line.kind, line.quantity, line.product.sku) == (OrderLine.Kind.RETURN, 2, "85123A")
    assert not OrderLine.objects.filter(merchant=merchant, kind=OrderLine.Kind.SALE, order__kind=Order.Kind.RETURN)


def test_it_keeps_lines_without_a_customer_as_demand(merchant):
    run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "online_retail.csv"])

    anonymous = Order.objects.get(merchant=merchant, external_id="536366")
    assert anonymous.customer is None
    assert anonymous.lines.count() == 2


def test_it_reads_invoice_dates_as_merchant_local_time(merchant):
    run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "online_retail.csv"])

    summer = Order.objects.get(merchant=merchant, external_id="536381")
    assert summer.placed_at == dt.datetime(2011, 6, 1, 8, 41, tzinfo=dt.UTC)
    assert OrderLine.objects.get(order=summer).placed_at == summer.placed_at


def test_it_names_products_from_imported_lines_only(merchant):
    run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "online_retail.csv"])

    names = dict(Product.objects.filter(merchant=merchant).values_list("sku", "name"))
    assert names["22727"] == "ALARM CLOCK BAKELIKE RED"
    assert names["22140"] == ""
    assert names["22139"] == ""
    assert "POST" not in names
    assert "gift_0001_20" not in names


def test_it_reads_the_online_retail_ii_spelling_from_parquet(merchant, tmp_path):
    frame = pd.read_csv(FIXTURES / "online_retail.csv", dtype={"InvoiceNo": str, "StockCode": str})
    frame = frame.rename(columns={"InvoiceNo": "Invoice", "UnitPrice": "Price", "CustomerID": "Customer ID"})
    frame["Customer ID"] = frame["Customer ID"].astype("Int64")
    path = tmp_path / "online_retail_ii.parquet"
    frame.to_parquet(path)

    report = run_import(merchant=merchant, kind="orders", paths=[path])

    _assert_fixture_imported(merchant, report)


def test_it_reads_gzipped_csv(merchant, tmp_path):
    path = tmp_path / "online_retail.csv.gz"
    path.write_bytes(__import__("gzip").compress((FIXTURES / "online_retail.csv").read_bytes()))

    report = run_import(merchant=merchant, kind="orders", paths=[path])

    _assert_fixture_imported(merchant, report)


def test_it_falls_back_to_windows_1252_for_online_retail_exports(merchant, tmp_path):
    path = tmp_path / "online_retail_cp1252.csv"
    path.write_bytes((FIXTURES / "online_retail.csv").read_text(encoding="utf-8").encode("cp1252"))

    report = run_import(merchant=merchant, kind="orders", fmt="online-retail", paths=[path])

    assert report.rows_created == 9


def test_it_numbers_an_invoice_the_same_whatever_the_line_order(merchant, other_merchant, tmp_path):
    frame = pd.read_csv(FIXTURES / "online_retail.csv", dtype=str, keep_default_na=False)
    reversed_path = tmp_path / "reversed.csv"
    frame.iloc[::-1].to_csv(reversed_path, index=False)
    run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "online_retail.csv"])

    report = run_import(merchant=merchant, kind="orders", paths=[reversed_path])

    assert (report.rows_created, report.rows_updated, report.rows_unchanged) == (0, 0, 9)


def test_it_continues_invoices_across_chunks(merchant, monkeypatch):
    monkeypatch.setattr("ecomforecast.importing.sources.CHUNK_ROWS", 2)

    report = run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "online_retail.csv"])

    _assert_fixture_imported(merchant, report)
    assert list(
        OrderLine.objects.filter(order__external_id="536370")
        .order_by("line_number")
        .values_list("product__sku", flat=True)
    ) == ["22727", "22728"]
