from __future__ import annotations

import pytest

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.importing import ImportFailed, run_import
from inventory.models import Product, PurchaseOrderLine, StockLevel, Supplier
from tests.factories import ProductFactory
from tests.importing.conftest import FIXTURES

pytestmark = pytest.mark.django_db

TABLES = (Order, OrderLine, Customer, Product, Supplier, StockLevel, PurchaseOrderLine, ActivityEvent, Campaign)


def _counts(merchant) -> dict[str, int]:
    return {model.__name__: model.objects.filter(merchant=merchant).count() for model in TABLES}


@pytest.mark.parametrize(
    ("kind", "fixture"),
    [
        ("orders", "online_retail.csv"),
        ("orders", "orders.csv"),
        ("orders", "shopify_orders.csv"),
        ("products", "products.csv"),
        ("suppliers", "suppliers.csv"),
        ("stock", "stock.csv"),
        ("purchase-orders", "purchase_orders.csv"),
        ("activity", "activity.csv"),
        ("campaigns", "campaigns.csv"),
    ],
)
def test_it_changes_nothing_when_the_same_file_is_imported_again(catalogue, kind, fixture):
    first = run_import(merchant=catalogue, kind=kind, paths=[FIXTURES / fixture])
    counts = _counts(catalogue)

    again = run_import(merchant=catalogue, kind=kind, paths=[FIXTURES / fixture])

    assert first.rows_created + first.rows_unchanged > 0
    assert (again.rows_created, again.rows_updated) == (0, 0)
    assert again.rows_unchanged == first.rows_created + first.rows_updated + first.rows_unchanged
    assert _counts(catalogue) == counts


def test_it_keeps_two_merchants_importing_the_same_file_apart(merchant, other_merchant):
    for shop in (merchant, other_merchant):
        ProductFactory(merchant=shop, sku="SKU-A")
        ProductFactory(merchant=shop, sku="SKU-B")

    first = run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "orders.csv"])
    second = run_import(merchant=other_merchant, kind="orders", paths=[FIXTURES / "orders.csv"])

    assert first.rows_created == second.rows_created == 5
    assert _counts(merchant) == _counts(other_merchant)
    for line in OrderLine.objects.filter(merchant=other_merchant).select_related("order", "product", "order__customer"):
        assert line.order.merchant_id == line.product.merchant_id == other_merchant.pk
        assert line.order.customer is None or line.order.customer.merchant_id == other_merchant.pk


def test_it_never_uses_another_merchants_products(merchant, other_merchant, tmp_path):
    ProductFactory(merchant=other_merchant, sku="SKU-A")
    ProductFactory(merchant=other_merchant, sku="SKU-B")

    with pytest.raises(ImportFailed, match="unknown SKU"):
        run_import(merchant=merchant, kind="orders", paths=[FIXTURES / "orders.csv"])

    assert OrderLine.objects.count() == 0
