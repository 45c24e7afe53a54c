"""python manage.py bench_import [--merchant SLUG] [--files PATH ...]: the import benchmark (a report, not a test).

Imports both shared Online Retail files (``../shared/data``) into a fresh merchant in one import and prints
order lines per second, wall time, peak memory (``getrusage`` max RSS) and the import report; then imports
the same files again to show the re-import is a no-op.
"""

from __future__ import annotations

import json
import pathlib
import resource
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from tqdm import tqdm

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.importing import run_import
from ecomforecast.management.commands.import_data import render_report
from ecomforecast.models import Merchant
from ecomforecast.services import merchant_create
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    Supplier,
    SupplierProduct,
)

SHARED_DATA = pathlib.Path(settings.BASE_DIR).parent / "shared" / "data"
DEFAULT_FILES = [
    SHARED_DATA / "online_retail_2009_2010" / "online_retail_II_2009_2010.parquet",
    SHARED_DATA / "online_retail_2010_2011" / "online_retail.parquet",
]


def purge_merchant(merchant: Merchant) -> None:
    """Deletes a merchant, leaves first: a plain cascade would load every order line into memory."""
    for model in (
        OrderLine,
        ActivityEvent,
        Order,
        Campaign,
        Customer,
        StockLevel,
        PurchaseOrderLine,
        PurchaseOrder,
        SupplierProduct,
        Supplier,
        Product,
        Category,
    ):
        model.objects.filter(merchant=merchant).delete()
    merchant.delete()


class Command(BaseCommand):
    help = "Benchmarks the online-retail order import on both shared files (lines/s, wall time, peak memory)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--merchant", default="bench-import", help="recreated from scratch (default: %(default)s)")
        parser.add_argument("--files", nargs="+", type=pathlib.Path, default=DEFAULT_FILES)
        parser.add_argument("--format", dest="fmt", default="online-retail")
        parser.add_argument("--no-reimport", action="store_true", help="skip the second (no-op) import")

    def handle(self, *args, merchant: str, files, fmt: str, no_reimport: bool, **options) -> None:
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            self.stderr.write(f"missing input file(s): {', '.join(missing)}")
            sys.exit(2)
        with transaction.atomic():
            existing = Merchant.objects.filter(slug=merchant).first()
            if existing is not None:
                purge_merchant(existing)
            merchant_obj = merchant_create(slug=merchant, name=f"Import benchmark ({merchant})")

        self.stdout.write(f"database: {connection.vendor}; files: {', '.join(path.name for path in files)}")
        report, seconds = self._timed_import(merchant_obj, files, fmt)
        lines = report.rows_created + report.rows_updated + report.rows_unchanged
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(render_report(report))
        self.stdout.write(
            f"first import: {report.rows_read:,} rows read, {lines:,} order lines written in {seconds:.1f} s = "
            f"{lines / seconds:,.0f} order lines/s ({report.rows_read / seconds:,.0f} rows/s); "
            f"peak memory {peak_mib:,.0f} MiB"
        )
        figures = {
            "rows_read": report.rows_read,
            "order_lines": lines,
            "seconds": round(seconds, 2),
            "lines_per_second": round(lines / seconds),
            "peak_rss_mib": round(peak_mib),
        }
        if not no_reimport:
            again, again_seconds = self._timed_import(merchant_obj, files, fmt)
            self.stdout.write(
                f"re-import: {again.rows_created} created, {again.rows_updated} updated, "
                f"{again.rows_unchanged:,} unchanged in {again_seconds:.1f} s"
            )
            figures["reimport_seconds"] = round(again_seconds, 2)
            figures["reimport_created"] = again.rows_created
            figures["reimport_updated"] = again.rows_updated
        figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        self.stdout.write(json.dumps(figures))

    def _timed_import(self, merchant, files, fmt):
        bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr)

        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        started = time.perf_counter()
        report = run_import(merchant=merchant, kind="orders", fmt=fmt, paths=list(files), progress=progress)
        seconds = time.perf_counter() - started
        bar.close()
        return report, seconds
