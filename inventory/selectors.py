"""Reads of a merchant's catalogue, suppliers, stock and purchase orders; every query is merchant-scoped."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Prefetch, QuerySet

from ecomforecast.models import Merchant
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    Supplier,
    SupplierProduct,
)


def category_list(*, merchant: Merchant) -> QuerySet[Category]:
    return Category.objects.filter(merchant=merchant).select_related("parent")


def product_list(*, merchant: Merchant) -> QuerySet[Product]:
    return Product.objects.filter(merchant=merchant).select_related("category")


def products_by_sku(*, merchant: Merchant, skus: Iterable[str]) -> dict[str, Product]:
    return {product.sku: product for product in Product.objects.filter(merchant=merchant, sku__in=set(skus))}


def supplier_list(*, merchant: Merchant) -> QuerySet[Supplier]:
    return Supplier.objects.filter(merchant=merchant)


def supplier_product_list(*, merchant: Merchant) -> QuerySet[SupplierProduct]:
    return SupplierProduct.objects.filter(merchant=merchant).select_related("supplier", "product")


def stock_level_list(*, merchant: Merchant) -> QuerySet[StockLevel]:
    return StockLevel.objects.filter(merchant=merchant).select_related("product")


def purchase_order_list(*, merchant: Merchant) -> QuerySet[PurchaseOrder]:
    lines = PurchaseOrderLine.objects.filter(merchant=merchant).select_related("product")
    return (
        PurchaseOrder.objects.filter(merchant=merchant)
        .select_related("supplier")
        .prefetch_related(Prefetch("lines", queryset=lines))
    )
