"""Catalogue formats: products-csv, suppliers-csv, stock-csv, purchase-orders-csv (columns: package docstring)."""

from __future__ import annotations

import pandas as pd

from ecomforecast.importing import parsing as parse
from ecomforecast.importing.base import FormatImporter
from inventory.models import PurchaseOrder
from inventory.services import (
    product_ids,
    products_upsert,
    purchase_order_lines_upsert,
    purchase_orders_upsert,
    stock_levels_upsert,
    supplier_ids,
    supplier_products_upsert,
    suppliers_upsert,
)

PO_STATUSES = {choice.value for choice in PurchaseOrder.Status}


class _CatalogueImporter(FormatImporter):
    def __init__(self, *, merchant, report):
        super().__init__(merchant=merchant, report=report)
        self.product_ids: dict[str, int] = {}
        self.supplier_ids: dict[str, int] = {}

    def existing_products(self, skus: pd.Series) -> dict[str, int]:
        unknown = set(skus.unique()) - self.product_ids.keys()
        if unknown:
            self.product_ids.update(product_ids(merchant=self.merchant, skus=unknown))
        return self.product_ids

    def existing_suppliers(self, codes: pd.Series) -> dict[str, int]:
        unknown = set(codes.unique()) - self.supplier_ids.keys()
        if unknown:
            self.supplier_ids.update(supplier_ids(merchant=self.merchant, codes=unknown))
        return self.supplier_ids

    def add_counts(self, result) -> None:
        self.report.rows_created += result.created
        self.report.rows_updated += result.updated
        self.report.rows_unchanged += result.unchanged


class ProductsImporter(_CatalogueImporter):
    kind = "products"
    format = "products-csv"
    required = ("sku", "name", "category", "price", "unit_cost", "active")

    def process(self, chunk: pd.DataFrame) -> None:
        skus = self.required_text(chunk, "sku", max_length=64)
        self.invalid(chunk, skus.duplicated(keep=False) & skus.ne(""), "sku", "sku {value!r} appears more than once")
        frame = pd.DataFrame(
            {
                "sku": skus,
                "name": self.optional_text(chunk, "name", max_length=300),
                "category": self.optional_text(chunk, "category", max_length=200),
                "price": self.number(chunk, "price"),
                "unit_cost": self.number(chunk, "unit_cost"),
                "active": self._active(chunk),
            }
        )
        supplier_codes = self.optional_text(chunk, "supplier_code", max_length=64)
        has_supplier = supplier_codes.ne("")
        terms = pd.DataFrame(
            {
                "supplier_id": self.known(
                    chunk, supplier_codes, self.existing_suppliers(supplier_codes), "supplier_code", "supplier"
                ),
                "supplier_sku": self.optional_text(chunk, "supplier_sku", max_length=64),
                "min_order_qty": self.integer(chunk, "min_order_qty", minimum=1).fillna(1),
                "pack_size": self.integer(chunk, "pack_size", minimum=1).fillna(1),
                "unit_cost": self.number(chunk, "supplier_unit_cost"),
                "lead_time_days": self.number(chunk, "supplier_lead_time_days"),
            }
        )
        if not self.writing:
            return
        result = products_upsert(merchant=self.merchant, rows=frame)
        self.add_counts(result)
        assert result.ids is not None
        self.product_ids.update(zip(result.ids["sku"], result.ids["id"], strict=True))
        terms = terms[has_supplier].assign(product_id=skus[has_supplier].map(self.product_ids))
        if not terms.empty:
            supplied = supplier_products_upsert(merchant=self.merchant, rows=terms)
            self.report.count("supplier_products_created", supplied.created)
            self.report.count("supplier_products_updated", supplied.updated)

    def _active(self, chunk: pd.DataFrame) -> pd.Series:
        values, invalid = parse.boolean(self.column(chunk, "active"), default=True)
        self.invalid(chunk, invalid, "active", "active must be true/false/yes/no/1/0: {value!r}")
        return values


class SuppliersImporter(_CatalogueImporter):
    kind = "suppliers"
    format = "suppliers-csv"
    required = ("code", "name", "lead_time_mean_days", "lead_time_std_days", "order_cost", "currency")

    def process(self, chunk: pd.DataFrame) -> None:
        codes = self.required_text(chunk, "code", max_length=64)
        self.invalid(
            chunk, codes.duplicated(keep=False) & codes.ne(""), "code", "code {value!r} appears more than once"
        )
        frame = pd.DataFrame(
            {
                "code": codes,
                "name": self.required_text(chunk, "name", max_length=200),
                "lead_time_mean_days": self.number(chunk, "lead_time_mean_days", required=True),
                "lead_time_std_days": self.number(chunk, "lead_time_std_days").fillna(0.0),
                "order_cost": self.number(chunk, "order_cost").fillna(0.0),
                "currency": self.optional_text(chunk, "currency", max_length=3).str.upper(),
            }
        )
        frame["currency"] = frame["currency"].mask(frame["currency"].eq(""), self.merchant.currency)
        if not self.writing:
            return
        result = suppliers_upsert(merchant=self.merchant, rows=frame)
        self.add_counts(result)


class StockImporter(_CatalogueImporter):
    kind = "stock"
    format = "stock-csv"
    required = ("sku", "date", "on_hand")

    def process(self, chunk: pd.DataFrame) -> None:
        skus = self.required_text(chunk, "sku", max_length=64)
        frame = pd.DataFrame(
            {
                "product_id": self.known(chunk, skus, self.existing_products(skus), "sku", "SKU"),
                "date": self.date(chunk, "date"),
                "on_hand": self.integer(chunk, "on_hand", required=True, minimum=None),
            }
        )
        if not self.writing:
            return
        self.add_counts(stock_levels_upsert(merchant=self.merchant, rows=frame))


class PurchaseOrdersImporter(_CatalogueImporter):
    kind = "purchase-orders"
    format = "purchase-orders-csv"
    required = (
        "po_number",
        "supplier_code",
        "sku",
        "quantity",
        "unit_cost",
        "ordered_at",
        "expected_at",
        "received_at",
        "received_quantity",
        "status",
    )

    def start_file(self) -> None:
        self.seen_lines: set[tuple[str, str]] = set()
        self.seen_orders: dict[str, int] = {}

    def process(self, chunk: pd.DataFrame) -> None:
        numbers = self.required_text(chunk, "po_number", max_length=64)
        skus = self.required_text(chunk, "sku", max_length=64)
        codes = self.required_text(chunk, "supplier_code", max_length=64)
        pairs = pd.Series(list(zip(numbers, skus, strict=True)), index=chunk.index)
        repeated = pairs.duplicated(keep="first") | pairs.isin(self.seen_lines)
        self.invalid(chunk, repeated, "sku", "sku {value!r} appears twice in the same purchase order")
        self.seen_lines.update(pairs)
        orders = pd.DataFrame(
            {
                "external_id": numbers,
                "supplier_id": self.known(chunk, codes, self.existing_suppliers(codes), "supplier_code", "supplier"),
                "status": self.choice(chunk, "status", choices=PO_STATUSES, default=PurchaseOrder.Status.ORDERED),
                "ordered_at": self.date(chunk, "ordered_at", required=False),
                "expected_at": self.date(chunk, "expected_at", required=False),
                "received_at": self.date(chunk, "received_at", required=False),
            }
        )
        lines = pd.DataFrame(
            {
                "product_id": self.known(chunk, skus, self.existing_products(skus), "sku", "SKU"),
                "quantity": self.integer(chunk, "quantity", required=True, minimum=1),
                "received_quantity": self.integer(chunk, "received_quantity").fillna(0),
                "unit_cost": self.number(chunk, "unit_cost"),
            }
        )
        if not self.writing:
            return
        first_rows = orders.drop_duplicates(subset=["external_id"], keep="first")
        new = first_rows[~first_rows["external_id"].isin(self.seen_orders.keys())]
        if not new.empty:
            result = purchase_orders_upsert(merchant=self.merchant, rows=new)
            self.report.count("purchase_orders_created", result.created)
            self.report.count("purchase_orders_updated", result.updated)
            assert result.ids is not None
            self.seen_orders.update(zip(result.ids["external_id"], result.ids["id"], strict=True))
        lines["purchase_order_id"] = numbers.map(self.seen_orders)
        self.add_counts(purchase_order_lines_upsert(merchant=self.merchant, rows=lines))
