"""python manage.py import_data --merchant SLUG --kind KIND [--format FORMAT] PATH [PATH ...]"""

from __future__ import annotations

import json
import pathlib
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ecomforecast.importing import KINDS, ImportFailed, ImportReport, run_import
from ecomforecast.models import Merchant


class Command(BaseCommand):
    help = "Imports files of one kind for a merchant in one transaction (all or nothing) and prints the report."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--merchant", required=True, help="the merchant's slug")
        parser.add_argument("--kind", required=True, choices=sorted(KINDS))
        formats = sorted({fmt for formats in KINDS.values() for fmt in formats})
        parser.add_argument("--format", dest="fmt", choices=formats, help="default: the kind's (orders: detected)")
        parser.add_argument("paths", nargs="+", type=pathlib.Path, help=".csv, .csv.gz or .parquet files")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, merchant: str, kind: str, fmt: str | None, paths, no_progress: bool, **options) -> None:
        try:
            merchant_obj = Merchant.objects.get(slug=merchant)
        except Merchant.DoesNotExist as error:
            raise CommandError(f"no merchant with slug {merchant!r}") from error
        if fmt is not None and fmt not in KINDS[kind]:
            raise CommandError(f"--format {fmt} does not import {kind}; use one of {', '.join(KINDS[kind])}")
        bar = tqdm(unit=" rows", unit_scale=True, disable=no_progress, file=sys.stderr)

        def progress(done: int, total: int | None) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            report = run_import(merchant=merchant_obj, kind=kind, fmt=fmt, paths=paths, progress=progress)
        except ImportFailed as failure:
            bar.close()
            self.stderr.write(render_report(failure.report))
            raise CommandError(f"{failure.report.error_count} invalid row(s); nothing was imported") from failure
        bar.close()
        self.stdout.write(render_report(report))


def render_report(report: ImportReport) -> str:
    lines = [
        f"{report.kind} ({report.format}): {report.rows_read} rows read, {report.rows_created} created, "
        f"{report.rows_updated} updated, {report.rows_unchanged} unchanged, {report.rows_skipped} skipped"
    ]
    for reason, count in sorted(report.skipped_by_reason.items(), key=lambda item: -item[1]):
        lines.append(f"  skipped {count}: {reason}")
    if report.extra:
        lines.append("  " + json.dumps(report.extra, sort_keys=True))
    if report.error_count:
        lines.append(f"{report.error_count} error(s):")
        lines.extend(
            f"  row {error.row}" + (f" [{error.column}]" if error.column else "") + f": {error.message}"
            for error in report.errors
        )
        if report.error_count > len(report.errors):
            lines.append(f"  ... and {report.error_count - len(report.errors)} more")
    return "\n".join(lines)
