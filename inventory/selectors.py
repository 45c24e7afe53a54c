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
    ReorderLine,
    ReorderPlan,
    ReplenishmentSettings,
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


def reorder_plan_list(*, merchant: Merchant) -> QuerySet[ReorderPlan]:
    return ReorderPlan.objects.filter(merchant=merchant).order_by("-created_at", "-pk")


def reorder_plan_latest(*, merchant: Merchant) -> ReorderPlan | None:
    return reorder_plan_list(merchant=merchant).first()


def reorder_line_list(
    *,
    merchant: Merchant,
    plan: ReorderPlan | None = None,
    supplier_id: int | None = None,
    urgency: str | None = None,
    category_id: int | None = None,
    ordering_only: bool = False,
) -> QuerySet[ReorderLine]:
    """A plan's lines in priority order (every plan's, newest plan first, without one), with product, category
    and supplier joined."""
    lines = ReorderLine.objects.filter(merchant=merchant).select_related("product__category", "supplier")
    lines = lines.filter(plan=plan).order_by("priority", "pk") if plan else lines.order_by("-plan_id", "priority")
    if supplier_id is not None:
        lines = lines.filter(supplier_id=supplier_id)
    if urgency:
        lines = lines.filter(urgency=urgency)
    if category_id is not None:
        lines = lines.filter(product__category_id=category_id)
    if ordering_only:
        lines = lines.filter(final_quantity__gt=0)
    return lines


def reorder_line_latest(*, merchant: Merchant, product: Product) -> ReorderLine | None:
    """The product's line in the merchant's latest plan."""
    plan = reorder_plan_latest(merchant=merchant)
    if plan is None:
        return None
    return ReorderLine.objects.filter(merchant=merchant, plan=plan, product=product).select_related("plan").first()


EXPORT_COLUMNS = (
    "supplier_code",
    "supplier_name",
    "supplier_sku",
    "sku",
    "product_name",
    "quantity",
    "unit_cost",
    "line_cost",
    "order_by",
    "status",
)


def reorder_plan_export_rows(
    *, merchant: Merchant, plan: ReorderPlan, supplier_id: int | None = None, status: str | None = None
) -> list[dict[str, object]]:
    """The ordering lines of a plan as supplier order rows (the CSV export), grouped by supplier."""
    lines = reorder_line_list(merchant=merchant, plan=plan, supplier_id=supplier_id, ordering_only=True)
    if status:
        lines = lines.filter(status=status)
    supplier_skus = dict(
        SupplierProduct.objects.filter(
            merchant=merchant, product_id__in=lines.values("product_id"), supplier_id__in=lines.values("supplier_id")
        ).values_list("product_id", "supplier_sku")
    )
    rows = [
        {
            "supplier_code": line.supplier.code if line.supplier else "",
            "supplier_name": line.supplier.name if line.supplier else "",
            "supplier_sku": supplier_skus.get(line.product_id, ""),
            "sku": line.product.sku,
            "product_name": line.product.name,
            "quantity": line.final_quantity,
            "unit_cost": f"{line.unit_cost:.2f}",
            "line_cost": f"{line.final_quantity * line.unit_cost:.2f}",
            "order_by": line.order_by.isoformat() if line.order_by else "",
            "status": line.status,
        }
        for line in lines
    ]
    rows.sort(key=lambda row: (row["supplier_code"] == "", row["supplier_code"]))
    return rows


def replenishment_settings_list(*, merchant: Merchant) -> QuerySet[ReplenishmentSettings]:
    return ReplenishmentSettings.objects.filter(merchant=merchant).select_related("category", "product").order_by("pk")
