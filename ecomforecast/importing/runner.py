"""The import run: pick the format, open the inputs, validate and write chunk by chunk in one transaction."""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import pandas as pd
from django.db import connection, transaction

from ecomforecast.importing import KINDS, ImportFailed, ImportReport
from ecomforecast.importing.base import FormatImporter
from ecomforecast.importing.catalogue import (
    ProductsImporter,
    PurchaseOrdersImporter,
    StockImporter,
    SuppliersImporter,
)
from ecomforecast.importing.engagement import ActivityImporter, CampaignRecipientsImporter, CampaignsImporter
from ecomforecast.importing.online_retail import OnlineRetailImporter
from ecomforecast.importing.orders_csv import OrdersCsvImporter
from ecomforecast.importing.shopify import ShopifyImporter
from ecomforecast.importing.sources import Source, UnreadableFile, frame_source, open_source

IMPORTERS: dict[str, type[FormatImporter]] = {
    importer.format: importer
    for importer in (
        OnlineRetailImporter,
        OrdersCsvImporter,
        ShopifyImporter,
        ProductsImporter,
        SuppliersImporter,
        StockImporter,
        PurchaseOrdersImporter,
        ActivityImporter,
        CampaignsImporter,
        CampaignRecipientsImporter,
    )
}


def execute_import(
    *,
    merchant,
    kind: str,
    fmt: str | None,
    paths: list[pathlib.Path] | None,
    frame: pd.DataFrame | None,
    progress: Callable[[int, int | None], None] | None,
) -> ImportReport:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    if (paths is None) == (frame is None):
        raise ValueError("give exactly one of paths or frame")
    if fmt is not None and fmt not in KINDS[kind]:
        raise ValueError(f"format {fmt!r} does not import {kind}; choose one of {', '.join(KINDS[kind])}")
    report = ImportReport(kind=kind, format=fmt or "")

    try:
        if frame is not None:
            sources = [frame_source(frame)]
        else:
            fallback = fmt in {None, OnlineRetailImporter.format} and kind == "orders"
            sources = [open_source(pathlib.Path(path), latin1_fallback=fallback) for path in paths or []]
    except UnreadableFile as error:
        report.add_error(row=error.row, column=None, message=str(error))
        raise ImportFailed(report) from error
    if not sources:
        raise ValueError("no file to import")

    fmt = fmt or detect_format(kind, sources[0].columns)
    report.format = fmt
    importer = IMPORTERS[fmt](merchant=merchant, report=report)
    for source in sources:
        if source.not_utf8 is not None and not importer.latin1_fallback:
            report.add_error(row=source.not_utf8.row, column=None, message=str(source.not_utf8))
        missing = importer.missing_columns(source.columns)
        if missing:
            report.add_error(
                row=0, column=None, message=f"{_prefix(source, sources)}missing column(s): {', '.join(missing)}"
            )
    if not report.ok:
        raise ImportFailed(report)

    total = None if any(source.total_rows is None for source in sources) else sum(s.total_rows for s in sources)
    done = 0
    with transaction.atomic():
        for source in sources:
            first_error = len(report.errors)
            importer.start_file()
            try:
                for chunk in source.chunks():
                    importer.process(importer.canonical(chunk))
                    report.rows_read += len(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
                importer.end_file()
            except UnreadableFile as error:
                report.add_error(row=error.row, column=None, message=str(error))
            prefix = _prefix(source, sources)
            for error in report.errors[first_error:]:
                error.message = prefix + error.message
        if not report.ok:
            raise ImportFailed(report)
    _refresh_planner_statistics(kind, report)
    return report


# A big import into near-empty tables leaves Postgres planning with stale row counts, which turned a customer page
# from 0.1 s into 5 s on a fresh shop; past this many new rows the written tables are analysed.
ANALYZE_AFTER_ROWS = 10_000


def _refresh_planner_statistics(kind: str, report: ImportReport) -> None:
    if connection.vendor != "postgresql" or report.rows_created < ANALYZE_AFTER_ROWS:
        return
    from customers.models import ActivityEvent, Customer, Order, OrderLine
    from inventory.models import Product, StockLevel

    tables = {
        "orders": (Order, OrderLine, Customer, Product),
        "activity": (ActivityEvent,),
        "stock": (StockLevel,),
    }.get(kind, ())
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def detect_format(kind: str, columns: list[str]) -> str:
    """The kind's only format, or for orders the layout the header shows."""
    if kind != "orders":
        return KINDS[kind][0]
    present = set(columns)
    if {"StockCode", "Quantity"} <= present and present & {"InvoiceNo", "Invoice"}:
        return OnlineRetailImporter.format
    if {"Name", "Lineitem quantity"} <= present:
        return ShopifyImporter.format
    return OrdersCsvImporter.format


def _prefix(source: Source, sources: list[Source]) -> str:
    return f"{source.name}: " if len(sources) > 1 else ""
