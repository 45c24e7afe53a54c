"""python manage.py run_forecast --merchant SLUG [--horizon 28] [--models auto|auto+gru|...] [--sync]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from ecomforecast.models import Merchant
from forecasting import services
from forecasting.models import ForecastRun


class Command(BaseCommand):
    help = "Forecast a merchant's catalogue: in process with --sync, else on the Celery workers (follows progress)."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True)
        parser.add_argument("--horizon", type=int, default=28)
        parser.add_argument(
            "--models",
            default=None,
            help="auto, or auto with neural candidates (auto+gru, auto+lstm+gpt...); default: auto with NEURAL_MODELS",
        )
        parser.add_argument("--sync", action="store_true", help="run in this process with a progress bar")

    def handle(self, *args, **options):
        try:
            merchant = Merchant.objects.get(slug=options["merchant"])
        except Merchant.DoesNotExist as exc:
            raise CommandError(f"no merchant {options['merchant']!r}") from exc
        models = options["models"] or services.default_models()
        try:
            services.neural_candidates(models)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        config = services.ForecastConfig(horizon=options["horizon"], models=models)
        if options["sync"]:
            run = services.forecast_run_execute_in_process(merchant=merchant, config=config, progress=self._bar())
        else:
            run, created = services.forecast_run_request(merchant=merchant, config=config)
            self.stdout.write(f"run {run.pk} {'queued' if created else 'already requested'} (cutoff {run.data_cutoff})")
            run = self._follow(run)
        self.stdout.write(
            f"run {run.pk}: {run.status}, {run.series_done} SKUs, {run.fallback_count} fallbacks, "
            f"timings {', '.join(f'{key} {value:.1f}s' for key, value in run.timings.items())}"
        )
        if run.status != ForecastRun.Status.SUCCEEDED:
            raise CommandError(run.error or f"run ended {run.status}")

    def _bar(self):
        bar = tqdm(total=0, unit="chunk", desc="forecasting")

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        return progress

    def _follow(self, run: ForecastRun) -> ForecastRun:
        progress = self._bar()
        while run.status in {ForecastRun.Status.PENDING, ForecastRun.Status.RUNNING}:
            time.sleep(1)
            run.refresh_from_db()
            progress(run.chunks_done, run.chunks_total)
        return run
