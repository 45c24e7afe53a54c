"""Loading a generated shop through the import framework: every frame lands, row for row, and only once."""

from __future__ import annotations

import datetime as dt

import pytest

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.demo.load import load_demo_shop, total_rows
from ecomforecast.demo.shop import generate_demo_shop
from inventory.models import Product, PurchaseOrder, PurchaseOrderLine, StockLevel, Supplier, SupplierProduct

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shop():
    return generate_demo_shop(5, 10, 120, start=dt.date(2024, 1, 1))


def _counts(merchant) -> dict[str, int]:
    return {
        "suppliers": Supplier.objects.filter(merchant=merchant).count(),
        "products": Product.objects.filter(merchant=merchant).count(),
        "supplier terms": SupplierProduct.objects.filter(merchant=merchant).count(),
        "stock": StockLevel.objects.filter(merchant=merchant).count(),
        "purchase orders": PurchaseOrder.objects.filter(merchant=merchant).count(),
        "purchase order lines": PurchaseOrderLine.objects.filter(merchant=merchant).count(),
        "campaigns": Campaign.objects.filter(merchant=merchant).count(),
        "orders": Order.objects.filter(merchant=merchant).count(),
        "return orders": Order.objects.filter(merchant=merchant, kind=Order.Kind.RETURN).count(),
        "cancelled orders": Order.objects.filter(merchant=merchant, status=Order.Status.CANCELLED).count(),
        "lines": OrderLine.objects.filter(merchant=merchant).count(),
        "return lines": OrderLine.objects.filter(merchant=merchant, kind=OrderLine.Kind.RETURN).count(),
        "customers": Customer.objects.filter(merchant=merchant).count(),
        "events": ActivityEvent.objects.filter(merchant=merchant).count(),
    }


def test_it_imports_every_frame_row_for_row(merchant, other_merchant, shop):
    seen: list[tuple[int, int]] = []
    load_demo_shop(merchant=merchant, shop=shop, progress=lambda done, total: seen.append((done, total)))

    orders = shop.orders
    first_lines = orders.drop_duplicates("order_id")
    assert _counts(merchant) == {
        "suppliers": len(shop.suppliers),
        "products": len(shop.products),
        "supplier terms": len(shop.products),
        "stock": len(shop.stock),
        "purchase orders": shop.purchase_orders["po_number"].nunique(),
        "purchase order lines": len(shop.purchase_orders),
        "campaigns": len(shop.campaigns),
        "orders": orders["order_id"].nunique(),
        "return orders": int((first_lines["quantity"] < 0).sum()),
        "cancelled orders": int((first_lines["status"] == "cancelled").sum()),
        "lines": len(orders),
        "return lines": int((orders["quantity"] < 0).sum()),
        "customers": orders.loc[orders["customer_id"] != "", "customer_id"].nunique(),
        "events": len(shop.activity),
    }
    assert all(count > 0 for count in _counts(merchant).values())
    assert all(count == 0 for count in _counts(other_merchant).values())
    assert seen[-1] == (total_rows(shop), total_rows(shop))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_it_keeps_the_planted_figures(merchant, shop):
    load_demo_shop(merchant=merchant, shop=shop)

    sold = shop.orders[(shop.orders["quantity"] > 0) & (shop.orders["status"] != "cancelled")]
    stored = OrderLine.objects.filter(merchant=merchant, kind=OrderLine.Kind.SALE).exclude(
        order__status=Order.Status.CANCELLED
    )
    assert sum(stored.values_list("quantity", flat=True)) == sold["quantity"].sum()
    stockout = shop.truth.stockout_days.iloc[0] if len(shop.truth.stockout_days) else None
    if stockout is not None:
        level = StockLevel.objects.get(merchant=merchant, product__sku=stockout["sku"], date=stockout["date"])
        assert level.on_hand == 0
    campaign = shop.truth.campaigns.iloc[0]
    stored_campaign = Campaign.objects.get(merchant=merchant, external_id=campaign["campaign_id"])
    promoted = set(stored_campaign.products.values_list("sku", flat=True))
    categories = set(stored_campaign.categories.values_list("name", flat=True))
    in_categories = set(
        Product.objects.filter(merchant=merchant, category__name__in=categories).values_list("sku", flat=True)
    )
    assert promoted | in_categories == set(campaign["skus"])
    received = PurchaseOrder.objects.filter(merchant=merchant, received_at__isnull=False)
    lead_times = [po.lead_time_days for po in received]
    frame = shop.purchase_orders.dropna(subset=["received_at"]).drop_duplicates("po_number")
    expected = sorted((frame["received_at"] - frame["ordered_at"]).map(lambda delta: delta.days))
    assert sorted(lead_times) == expected


def test_it_creates_nothing_the_second_time(merchant, shop):
    load_demo_shop(merchant=merchant, shop=shop)
    before = _counts(merchant)

    reports = load_demo_shop(merchant=merchant, shop=shop)

    assert _counts(merchant) == before
    assert {kind: report.rows_created for kind, report in reports.items()} == dict.fromkeys(reports, 0)
