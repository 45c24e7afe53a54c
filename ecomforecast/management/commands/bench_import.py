"""python manage.py bench_import [--merchant SLUG] [--files PATH ...]: the import benchmark (a report, not a test).

Imports both shared Online Retail files (``../shared/data``) into a fresh merchant in one import and prints
order lines per second, wall time, CPU time (this process, and the Postgres backend when the server is
local), peak memory (``getrusage`` max RSS) and the import report; then imports the same files again to show
the re-import is a no-op.
"""

from __future__ import annotations

import json
import os
import pathlib
import resource
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from tqdm import tqdm

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.importing import ImportReport, run_import
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
            raise CommandError(f"missing input file(s): {', '.join(missing)}")
        with transaction.atomic():
            existing = Merchant.objects.filter(slug=merchant).first()
            if existing is not None:
                purge_merchant(existing)
            merchant_obj = merchant_create(slug=merchant, name=f"Import benchmark ({merchant})")

        self.stdout.write(f"database: {connection.vendor}; files: {', '.join(path.name for path in files)}")
        first = self._timed_import(merchant_obj, files, fmt)
        self.stdout.write(render_report(first.report))
        self.stdout.write(f"first import: {first.summary()}")
        figures = {"first": first.figures()}
        if not no_reimport:
            again = self._timed_import(merchant_obj, files, fmt)
            self.stdout.write(
                f"re-import: {again.report.rows_created} created, {again.report.rows_updated} updated, "
                f"{again.report.rows_unchanged:,} unchanged; {again.summary()}"
            )
            figures["reimport"] = again.figures()
        figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        self.stdout.write(f"peak memory (max RSS of this process): {figures['peak_rss_mib']:,} MiB")
        self.stdout.write(json.dumps(figures))

    def _timed_import(self, merchant, files, fmt):
        bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr)

        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        database_cpu = _DatabaseCpu()
        started = time.perf_counter(), _own_cpu_seconds(), database_cpu.seconds()
        report = run_import(merchant=merchant, kind="orders", fmt=fmt, paths=list(files), progress=progress)
        finished = time.perf_counter(), _own_cpu_seconds(), database_cpu.seconds()
        bar.close()
        return _Timing(
            report=report,
            seconds=finished[0] - started[0],
            python_cpu=finished[1] - started[1],
            database_cpu=None if started[2] is None or finished[2] is None else finished[2] - started[2],
        )


@dataclass
class _Timing:
    report: ImportReport
    seconds: float
    python_cpu: float
    database_cpu: float | None

    def figures(self) -> dict:
        return {
            "rows_read": self.report.rows_read,
            "lines_written": self.lines_written,
            "wall_seconds": round(self.seconds, 2),
            "lines_per_second": round(self.report.rows_read / self.seconds),
            "python_cpu_seconds": round(self.python_cpu, 2),
            "postgres_cpu_seconds": None if self.database_cpu is None else round(self.database_cpu, 2),
        }

    @property
    def lines_written(self) -> int:
        return self.report.rows_created + self.report.rows_updated + self.report.rows_unchanged

    def summary(self) -> str:
        text = (
            f"{self.report.rows_read:,} order lines read ({self.lines_written:,} written) in {self.seconds:.1f} s "
            f"wall = {self.report.rows_read / self.seconds:,.0f} lines/s; CPU: import process {self.python_cpu:.1f} s"
        )
        if self.database_cpu is not None:
            # On a shared machine wall time includes waiting for a core; CPU time shows the work itself.
            busy = self.python_cpu + self.database_cpu
            per_cpu_second = self.report.rows_read / busy
            text += f", Postgres backend {self.database_cpu:.1f} s ({per_cpu_second:,.0f} lines per CPU-second)"
        return text


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _DatabaseCpu:
    """CPU seconds used so far by this connection's Postgres backend, when the server runs on this machine."""

    def __init__(self):
        self.pid = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (self.pid,) = cursor.fetchone()

    def seconds(self) -> float | None:
        if self.pid is None:
            return None
        try:
            fields = pathlib.Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the ")" that ends the command name.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
