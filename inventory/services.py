"""Writes on the catalogue, suppliers, stock levels and purchase orders.

The bulk upserts take a pandas frame with natural keys already resolved to ids where the docstring says so,
write it set-based (see :mod:`ecomforecast.importing.upsert`) and report what was created, updated or left
unchanged. They are what the importers and any other bulk writer (API bulk endpoints, demo data) call.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from django.db import transaction

from ecomforecast.importing.lookups import ids_by
from ecomforecast.importing.upsert import On, UpsertResult, bulk_upsert
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    Supplier,
    SupplierProduct,
)

PRODUCT_COLUMNS = ("name", "category_id", "price", "unit_cost", "active")


@transaction.atomic
def categories_ensure(*, merchant, names: Iterable[str]) -> dict[str, int]:
    """{name: id} for the given category names, creating the missing ones."""
    wanted = {name for name in names if name}
    existing = ids_by(model=Category, merchant=merchant, column="name", values=wanted)
    missing = wanted - existing.keys()
    if missing:
        Category.objects.bulk_create(
            [Category(merchant=merchant, name=name) for name in sorted(missing)], ignore_conflicts=True
        )
        existing.update(ids_by(model=Category, merchant=merchant, column="name", values=missing))
    return existing


@transaction.atomic
def products_upsert(*, merchant, rows: pd.DataFrame, keep_existing: bool = False) -> UpsertResult:
    """Upserts products by SKU; returns their ids (``ids``: sku, id).

    ``rows`` has ``sku`` and any of name, category (a name; created when missing), price, unit_cost, active.
    With ``keep_existing`` (products discovered in an order file) values already set on a product are kept and
    only blanks are filled, so order history never overwrites the merchant's catalogue.
    """
    frame = rows.copy()
    if "category" in frame.columns:
        category_ids = categories_ensure(merchant=merchant, names=frame["category"].unique())
        frame["category_id"] = frame.pop("category").map(category_ids).astype("Int64")
    frame["merchant_id"] = merchant.pk
    policy = On.FILL if keep_existing else On.OVERWRITE
    update = {column: policy for column in PRODUCT_COLUMNS if column in frame.columns}
    if keep_existing:
        update.pop("active", None)
    return bulk_upsert(model=Product, frame=frame, key=["merchant_id", "sku"], update=update, with_ids=True)


@transaction.atomic
def suppliers_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts suppliers by code: code, name, lead_time_mean_days, lead_time_std_days, order_cost, currency."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {column: On.OVERWRITE for column in frame.columns if column not in {"merchant_id", "code"}}
    return bulk_upsert(model=Supplier, frame=frame, key=["merchant_id", "code"], update=update, with_ids=True)


@transaction.atomic
def supplier_products_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts supplier terms by (supplier_id, product_id): supplier_sku, min_order_qty, pack_size, unit_cost,
    lead_time_days (ids must be the merchant's)."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {
        column: On.OVERWRITE for column in frame.columns if column not in {"merchant_id", "supplier_id", "product_id"}
    }
    return bulk_upsert(model=SupplierProduct, frame=frame, key=["supplier_id", "product_id"], update=update)


@transaction.atomic
def stock_levels_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts end-of-day on-hand units by (product_id, date): product_id, date, on_hand."""
    frame = rows.assign(merchant_id=merchant.pk)
    return bulk_upsert(model=StockLevel, frame=frame, key=["product_id", "date"], update={"on_hand": On.OVERWRITE})


@transaction.atomic
def purchase_orders_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts purchase orders by external_id: external_id, supplier_id, status, ordered_at, expected_at,
    received_at; returns their ids (``ids``: external_id, id)."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {column: On.OVERWRITE for column in frame.columns if column not in {"merchant_id", "external_id"}}
    return bulk_upsert(
        model=PurchaseOrder, frame=frame, key=["merchant_id", "external_id"], update=update, with_ids=True
    )


@transaction.atomic
def purchase_order_lines_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts purchase order lines by (purchase_order_id, product_id): quantity, received_quantity, unit_cost."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {
        column: On.OVERWRITE
        for column in frame.columns
        if column not in {"merchant_id", "purchase_order_id", "product_id"}
    }
    return bulk_upsert(model=PurchaseOrderLine, frame=frame, key=["purchase_order_id", "product_id"], update=update)


def product_ids(*, merchant, skus: Iterable[str]) -> dict[str, int]:
    """{sku: id} of the merchant's products among ``skus``."""
    return ids_by(model=Product, merchant=merchant, column="sku", values=skus)


def supplier_ids(*, merchant, codes: Iterable[str]) -> dict[str, int]:
    return ids_by(model=Supplier, merchant=merchant, column="code", values=codes)
