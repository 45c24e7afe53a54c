"""python manage.py setup_demo [--data PATH ...]: the demo merchant and user, its data, the pipeline. Idempotent."""

from __future__ import annotations

import importlib
import pathlib
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from customers.models import Order
from ecomforecast.demo.load import plan_demo_campaign
from ecomforecast.importing import ImportFailed, run_import
from ecomforecast.management.commands.generate_demo_shop import generate_and_load
from ecomforecast.models import Membership, Merchant
from ecomforecast.services import membership_grant, merchant_create

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Shop"
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
DEMO_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = (
        "Creates the demo merchant and its owner (user demo / demo-password), loads its data (a generated shop, "
        "or Online Retail files with --data) unless it already has orders, runs the pipeline steps that exist "
        "and prints the login. Running it again duplicates nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--data", nargs="+", type=pathlib.Path, help="order file(s) to import instead")
        parser.add_argument("--seed", type=int, default=7, help="generated shop: seed (default %(default)s)")
        parser.add_argument("--skus", type=int, default=120, help="generated shop: SKUs (default %(default)s)")
        parser.add_argument("--days", type=int, default=730, help="generated shop: days (default %(default)s)")

    def handle(self, *args, data: list[pathlib.Path] | None, seed: int, skus: int, days: int, **options) -> None:
        merchant = self._merchant_and_owner()
        if Order.objects.filter(merchant=merchant).exists():
            self.stdout.write(f"merchant {DEMO_SLUG!r} already has orders; its data is left as it is")
        elif data:
            self._import_files(merchant, data)
        else:
            generate_and_load(self, merchant=merchant, seed=seed, skus=skus, days=days, start=None)
            planned = plan_demo_campaign(merchant=merchant)
            if planned is not None:
                self.stdout.write(f"planned campaign {planned.name!r}: {planned.starts_on} .. {planned.ends_on}")
        self._run_pipeline(merchant)
        self.stdout.write(self.style.SUCCESS(f"Log in at {DEMO_URL} as user {DEMO_USER!r}, password {DEMO_PASSWORD!r}"))

    @transaction.atomic
    def _merchant_and_owner(self) -> Merchant:
        merchant = Merchant.objects.filter(slug=DEMO_SLUG).first()
        if merchant is None:
            merchant = merchant_create(slug=DEMO_SLUG, name=DEMO_NAME)
            self.stdout.write(f"created merchant {DEMO_SLUG!r} ({DEMO_NAME})")
        user_model = get_user_model()
        user = user_model.objects.filter(username=DEMO_USER).first()
        if user is None:
            user = user_model.objects.create_user(username=DEMO_USER, password=DEMO_PASSWORD)
            self.stdout.write(f"created user {DEMO_USER!r}")
        elif not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        membership_grant(user=user, merchant=merchant, role=Membership.Role.OWNER)
        return merchant

    def _import_files(self, merchant: Merchant, paths: list[pathlib.Path]) -> None:
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise CommandError(f"no such file: {', '.join(missing)}")
        with tqdm(unit=" rows", unit_scale=True, file=sys.stderr, desc="importing") as bar:

            def progress(done: int, total: int | None) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = run_import(merchant=merchant, kind="orders", paths=paths, progress=progress)
            except ImportFailed as failure:
                for error in failure.report.errors[:20]:
                    self.stderr.write(f"  row {error.row}: {error.message}")
                raise CommandError("the order file(s) were rejected; nothing was imported") from failure
        self.stdout.write(
            f"imported {report.rows_read:,} rows ({report.format}): {report.rows_created:,} created, "
            f"{report.rows_skipped:,} skipped {report.skipped_by_reason or ''}"
        )

    def _run_pipeline(self, merchant: Merchant) -> None:
        try:
            pipeline = importlib.import_module("ecomforecast.pipeline")
        except ModuleNotFoundError as error:
            if error.name != "ecomforecast.pipeline":
                raise
            self.stdout.write("no pipeline steps exist yet (ecomforecast.pipeline); skipped")
            return
        self.stdout.write("running the pipeline ...")
        bars: dict[str, tqdm] = {}

        def progress(step: str, done: int, total: int) -> None:
            bar = bars.get(step)
            if bar is None:
                for finished in bars.values():
                    finished.close()
                bar = bars[step] = tqdm(total=total, desc=step, file=sys.stderr)
            bar.total = total
            bar.update(done - bar.n)

        try:
            results = pipeline.run_pipeline(merchant=merchant, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        for step, result in (results or {}).items():
            self.stdout.write(f"  {step}: {result}")
