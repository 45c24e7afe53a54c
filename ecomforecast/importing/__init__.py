"""Importers of a merchant's data: one entry point, :func:`run_import`, behind the command, the web upload and the API.

Importing never writes half a file: every row is validated (vectorised, chunk by chunk, in bounded memory), any
invalid row makes the whole import fail with row-numbered errors, and everything is written in one transaction.
Rows are upserted on the merchant's external ids, so importing the same file again changes nothing.

Row numbers: for a file, row 1 is the first data row (the header is row 0); for a DataFrame it is the 1-based
record index. Errors that concern the whole file (a missing column) are reported on row 0. When one import
reads several files, row numbers count within each file and messages start with the file's name.

File formats: ``.csv``, ``.csv.gz`` and ``.parquet``. CSV files must be UTF-8 (a BOM is accepted); the
``online-retail`` format alone falls back to Windows-1252 (a superset of latin-1), the encoding of the original
UCI spreadsheet exports.

Generic layouts (column names are case-sensitive; optional columns may be absent or blank):

products-csv
    sku, name, category, price, unit_cost, active; optional supplier_code, supplier_sku, min_order_qty, pack_size,
    supplier_unit_cost, supplier_lead_time_days. A category is created by name when missing. With a
    supplier_code (the supplier must exist) the row also creates or updates the supplier's terms for the product.
suppliers-csv
    code, name, lead_time_mean_days, lead_time_std_days, order_cost, currency
stock-csv
    sku, date, on_hand (units at the end of the day; the product must exist)
purchase-orders-csv
    po_number, supplier_code, sku, quantity, unit_cost, ordered_at, expected_at, received_at, received_quantity,
    status (draft/ordered/partial/received/cancelled). One row per line; the order-level fields are taken from
    the first row of each po_number. Supplier and products must exist; a SKU appears once per purchase order.
orders-csv
    order_id, placed_at, customer_id, sku, quantity, unit_price; optional discount, channel, status
    (placed/paid/fulfilled/cancelled/refunded), customer_email, country, currency. One row per order line; the
    order-level fields come from the order's first row. A negative quantity is a returned line (stored with the
    absolute quantity as a return line) and a zero quantity is an error; an order whose first line is a return
    is a return document. SKUs must already exist as products. A blank customer_id is an order without a
    customer. Lines are numbered by their position within their order in the file.
activity-csv
    event_id (optional; else a stable hash of the other fields), customer_id, sku (optional; must exist), kind
    (view/cart/purchase/search/session), occurred_at, session_id, query
campaigns-csv
    campaign_id, name, starts_on, ends_on, discount_pct, channel, skus (";"-separated), categories
    (";"-separated), target_segment, cost. SKUs and categories must exist.
campaign-recipients-csv
    campaign_id, customer_id, group (treatment: sent the campaign; holdout: randomly kept out), sent_on (the day
    it went out). Campaign and customer must exist and sent_on may not be after the campaign's end; a
    (campaign_id, customer_id) pair appears once. What the uplift ranking of a campaign's targets learns from.
online-retail
    the UCI Online Retail / Online Retail II invoice-line layout, either spelling: InvoiceNo/Invoice, StockCode,
    Description, Quantity, InvoiceDate, UnitPrice/Price, CustomerID/"Customer ID", Country. See
    :mod:`ecomforecast.importing.online_retail` for how each kind of line is treated.
shopify
    the Shopify admin "Export orders" CSV; see :mod:`ecomforecast.importing.shopify`.

Dates and times without an offset are in the merchant's time zone; date-times are stored timezone-aware.
Decimal numbers use a dot; dates are ISO 8601 (``2024-03-01``, ``2024-03-01 14:05[:00][+01:00]``).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

KINDS: dict[str, list[str]] = {
    "orders": ["online-retail", "orders-csv", "shopify"],
    "products": ["products-csv"],
    "stock": ["stock-csv"],
    "suppliers": ["suppliers-csv"],
    "purchase-orders": ["purchase-orders-csv"],
    "activity": ["activity-csv"],
    "campaigns": ["campaigns-csv"],
    "campaign-recipients": ["campaign-recipients-csv"],
}

MAX_STORED_ERRORS = 1000


@dataclass
class RowError:
    row: int
    column: str | None
    message: str


@dataclass
class ImportReport:
    kind: str
    format: str
    rows_read: int = 0
    rows_created: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_skipped: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def as_dict(self) -> dict:
        return asdict(self)

    def add_error(self, *, row: int, column: str | None, message: str) -> None:
        """Counts every error but keeps only the first MAX_STORED_ERRORS."""
        self.error_count += 1
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(RowError(row=row, column=column, message=message))

    def skip(self, reason: str, count: int = 1) -> None:
        if count:
            self.rows_skipped += count
            self.skipped_by_reason[reason] = self.skipped_by_reason.get(reason, 0) + count

    def count(self, name: str, value: int) -> None:
        """Adds to a format-specific figure in ``extra`` (orders created, customers created, ...)."""
        self.extra[name] = self.extra.get(name, 0) + value


class ImportFailed(Exception):
    """Some rows are invalid; nothing was written. ``report.errors`` says which rows and why."""

    def __init__(self, report: ImportReport):
        self.report = report
        shown = "; ".join(f"row {error.row}: {error.message}" for error in report.errors[:3])
        super().__init__(f"{report.error_count} invalid row(s), nothing imported: {shown}")


def run_import(
    *,
    merchant,
    kind: str,
    fmt: str | None = None,
    paths: list[pathlib.Path] | None = None,
    frame: pd.DataFrame | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportReport:
    """Imports files (or one DataFrame) of ``kind`` for ``merchant`` in one transaction; see the module docstring."""
    # The runner needs the ORM; importing it here keeps this package importable without Django configured.
    from ecomforecast.importing.runner import execute_import

    return execute_import(merchant=merchant, kind=kind, fmt=fmt, paths=paths, frame=frame, progress=progress)
