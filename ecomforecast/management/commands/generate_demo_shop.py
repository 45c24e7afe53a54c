"""python manage.py generate_demo_shop --merchant SLUG [--seed N] [--skus K] [--days D] [--start YYYY-MM-DD]."""

from __future__ import annotations

import datetime as dt
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ecomforecast.demo.load import describe_reports, describe_shop, load_demo_shop
from ecomforecast.demo.shop import generate_demo_shop
from ecomforecast.importing import ImportFailed
from ecomforecast.models import Merchant
from ecomforecast.services import merchant_create


class Command(BaseCommand):
    help = (
        "Generates a synthetic shop (docs/demo_shop.md) and imports it into a merchant, creating the merchant if "
        "missing. The history ends yesterday unless --start is given. Importing the same shop again changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--merchant", required=True, help="merchant slug (created if missing)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--skus", type=int, default=120)
        parser.add_argument("--days", type=int, default=730)
        parser.add_argument("--start", type=dt.date.fromisoformat, help="first day of the history, YYYY-MM-DD")

    def handle(self, *args, merchant: str, seed: int, skus: int, days: int, start: dt.date | None, **options):
        merchant_obj = Merchant.objects.filter(slug=merchant).first()
        if merchant_obj is None:
            merchant_obj = merchant_create(slug=merchant, name=merchant.replace("-", " ").title())
            self.stdout.write(f"created merchant {merchant_obj.slug!r}")
        generate_and_load(self, merchant=merchant_obj, seed=seed, skus=skus, days=days, start=start)


def generate_and_load(command: BaseCommand, *, merchant, seed: int, skus: int, days: int, start: dt.date | None):
    """Generates the shop, imports it with a progress bar and prints what was generated and imported."""
    started = time.perf_counter()
    try:
        shop = generate_demo_shop(seed, skus, days, start=start)
    except ValueError as error:
        raise CommandError(str(error)) from error
    generated = time.perf_counter()
    command.stdout.write(
        f"generated demo shop (seed {seed}, {skus} SKUs, {shop.start} .. {shop.end}) in {generated - started:.1f} s:"
    )
    for label, count in describe_shop(shop):
        command.stdout.write(f"  {label:<22} {count:>9,}")
    with tqdm(unit=" rows", unit_scale=True, file=sys.stderr, desc="importing") as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            reports = load_demo_shop(merchant=merchant, shop=shop, progress=progress)
        except ImportFailed as failure:
            for error in failure.report.errors[:20]:
                command.stderr.write(f"  {failure.report.kind} row {error.row}: {error.message}")
            raise CommandError(f"the demo shop was rejected by the {failure.report.kind} import") from failure
    command.stdout.write(f"imported into {merchant.slug!r} in {time.perf_counter() - generated:.1f} s:")
    for line in describe_reports(reports):
        command.stdout.write(f"  {line}")
    return shop
