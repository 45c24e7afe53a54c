"""python manage.py run_customer_scores --merchant SLUG [--cutoff YYYY-MM-DD] [--no-classifier] [--sync]"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ecomforecast.models import Merchant
from forecasting import customer_services
from forecasting.models import CustomerForecastRun


class Command(BaseCommand):
    help = (
        "Scores a merchant's customers (P(alive), P(order in 30 days), expected orders, churn risk, CLV, segment): "
        "in process with --sync, else on the Celery workers (follows progress)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True)
        parser.add_argument(
            "--cutoff", type=dt.date.fromisoformat, default=None, help="last day of history; default the last order day"
        )
        parser.add_argument(
            "--no-classifier",
            action="store_true",
            help="BG/NBD for purchase probability and churn risk even where gradient boosting could be trained",
        )
        parser.add_argument("--sync", action="store_true", help="run in this process with a progress bar")

    def handle(self, *args, **options):
        try:
            merchant = Merchant.objects.get(slug=options["merchant"])
        except Merchant.DoesNotExist as exc:
            raise CommandError(f"no merchant {options['merchant']!r}") from exc
        config = customer_services.CustomerScoreConfig(classifier=not options["no_classifier"])
        progress = self._bar()
        if options["sync"]:
            run = customer_services.customer_scores_run_in_process(
                merchant=merchant, config=config, data_cutoff=options["cutoff"], progress=progress
            )
        else:
            run, started = customer_services.customer_scores_run_request(
                merchant=merchant, config=config, data_cutoff=options["cutoff"]
            )
            self.stdout.write(f"run {run.pk} {'queued' if started else 'already requested'} (cutoff {run.data_cutoff})")
            run = self._follow(run, progress)
        self.stdout.write(
            f"run {run.pk}: {run.status}, {run.customers_total:,} customers scored up to {run.data_cutoff}, "
            f"timings {', '.join(f'{key} {value:.1f}s' for key, value in run.timings.items())}"
        )
        for score, model in run.score_models.items():
            if score not in {"parameters", "notes"}:
                self.stdout.write(f"  {score}: {model}")
        for note in run.score_models.get("notes", []):
            self.stdout.write(f"  note: {note}")
        if run.status != CustomerForecastRun.Status.SUCCEEDED:
            raise CommandError(run.error or f"run ended {run.status}")

    def _bar(self):
        bar = tqdm(total=100, unit="%", desc="scoring customers")

        def progress(stage: str, fraction: float) -> None:
            bar.n = round(fraction * 100)
            bar.set_postfix_str(stage, refresh=False)
            bar.refresh()

        return progress

    def _follow(self, run: CustomerForecastRun, progress) -> CustomerForecastRun:
        while run.status in {CustomerForecastRun.Status.PENDING, CustomerForecastRun.Status.RUNNING}:
            time.sleep(1)
            run.refresh_from_db()
            progress(run.stage or run.status, run.progress)
        return run
