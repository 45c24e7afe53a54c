from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ecomforecast.importing import run_import
from inventory.models import Category, Product, PurchaseOrder, PurchaseOrderLine, StockLevel, Supplier, SupplierProduct
from tests.importing.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_it_imports_suppliers(merchant):
    report = run_import(merchant=merchant, kind="suppliers", paths=[FIXTURES / "suppliers.csv"])

    assert (report.rows_read, report.rows_created) == (2, 2)
    widget = Supplier.objects.get(merchant=merchant, code="SUP2")
    assert (widget.name, widget.lead_time_mean_days, widget.lead_time_std_days, widget.order_cost) == (
        "Widget Co",
        7.0,
        1.5,
        Decimal("20"),
    )
    assert widget.currency == "GBP"


def test_it_imports_products_with_categories_and_supplier_terms(catalogue):
    assert Product.objects.filter(merchant=catalogue).count() == 3
    assert set(Category.objects.filter(merchant=catalogue).values_list("name", flat=True)) == {"Kitchen", "Lighting"}
    mug = Product.objects.get(merchant=catalogue, sku="SKU-A")
    assert (mug.name, mug.category.name, mug.price, mug.unit_cost, mug.active) == (
        "Blue Mug",
        "Kitchen",
        Decimal("10"),
        Decimal("4"),
        True,
    )
    assert Product.objects.get(merchant=catalogue, sku="SKU-C").active is False
    terms = SupplierProduct.objects.get(product=mug)
    assert (terms.supplier.code, terms.supplier_sku, terms.min_order_qty, terms.pack_size) == ("SUP1", "A-100", 12, 6)
    assert (terms.unit_cost, terms.lead_time_days) == (Decimal("3.8"), 10.0)
    assert SupplierProduct.objects.filter(merchant=catalogue).count() == 2


def test_it_updates_changed_products_only(catalogue, tmp_path):
    changed = (
        (FIXTURES / "products.csv").read_text().replace("SKU-B,Red Mug,Kitchen,25.50", "SKU-B,Red Mug,Kitchen,27.00")
    )
    path = tmp_path / "products.csv"
    path.write_text(changed)

    report = run_import(merchant=catalogue, kind="products", paths=[path])

    assert (report.rows_created, report.rows_updated, report.rows_unchanged) == (0, 1, 2)
    assert Product.objects.get(merchant=catalogue, sku="SKU-B").price == Decimal("27")


def test_it_imports_stock_levels(catalogue):
    report = run_import(merchant=catalogue, kind="stock", paths=[FIXTURES / "stock.csv"])

    assert report.rows_created == 3
    levels = StockLevel.objects.filter(product__sku="SKU-A").order_by("date").values_list("date", "on_hand")
    assert list(levels) == [(dt.date(2024, 3, 1), 40), (dt.date(2024, 3, 2), 35)]


def test_it_imports_purchase_orders_with_lead_times(catalogue):
    report = run_import(merchant=catalogue, kind="purchase-orders", paths=[FIXTURES / "purchase_orders.csv"])

    assert (report.rows_read, report.rows_created) == (3, 3)
    assert report.extra["purchase_orders_created"] == 2
    received = PurchaseOrder.objects.get(merchant=catalogue, external_id="PO-1")
    assert (received.status, received.lead_time_days, received.supplier.code) == ("received", 13, "SUP1")
    assert received.lines.count() == 2
    open_order = PurchaseOrder.objects.get(external_id="PO-2")
    assert (open_order.received_at, open_order.lead_time_days) == (None, None)
    line = PurchaseOrderLine.objects.get(purchase_order=open_order)
    assert (line.product.sku, line.quantity, line.received_quantity, line.unit_cost) == ("SKU-C", 10, 0, Decimal("30"))
