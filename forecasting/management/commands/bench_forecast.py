"""python manage.py bench_forecast [--merchant SLUG] [--workers 2]: the end-to-end forecast benchmark.

Makes sure the merchant holds the shared Online Retail history (imported once, reused afterwards), requests a
fresh `auto` run of every SKU with sales, starts WORKERS Celery worker processes on the forecast_cpu queue, follows
the run and prints a report: SKUs/second, wall time, engine vs database seconds, rows written, peak memory per
worker. A report, not a test. Needs CELERY_BROKER_URL (Redis) and, for meaningful figures, Postgres.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from tqdm import tqdm

from ecomforecast.importing import run_import
from ecomforecast.models import Merchant
from ecomforecast.services import merchant_create
from forecasting import services
from forecasting.models import ForecastResult, ForecastRun, ForecastValue

SHARED_DATA = pathlib.Path(settings.BASE_DIR).parent / "shared" / "data"
DEFAULT_FILES = [
    SHARED_DATA / "online_retail_2009_2010" / "online_retail_II_2009_2010.parquet",
    SHARED_DATA / "online_retail_2010_2011" / "online_retail.parquet",
]


class Command(BaseCommand):
    help = "Benchmarks a whole-catalogue auto forecast on Celery workers (SKUs/s, engine vs database time, memory)."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", default="bench-retail")
        parser.add_argument("--files", nargs="+", type=pathlib.Path, default=DEFAULT_FILES)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--horizon", type=int, default=28)
        parser.add_argument("--chunk-size", type=int, default=services.CHUNK_SIZE)

    def handle(self, *args, **options):
        if not settings.CELERY_BROKER_URL:
            raise CommandError("set CELERY_BROKER_URL: the benchmark runs the forecast on Celery workers")
        merchant = self._merchant_with_history(options["merchant"], options["files"])
        config = services.ForecastConfig(
            horizon=options["horizon"], chunk_size=options["chunk_size"], extra={"benchmark": uuid.uuid4().hex}
        )
        workers = [self._start_worker(index) for index in range(options["workers"])]
        try:
            started = time.perf_counter()
            run, _ = services.forecast_run_request(merchant=merchant, config=config)
            run = self._follow(run)
            wall = time.perf_counter() - started
            peaks = [self._peak_rss_mib(worker) for worker in workers]
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=60)
        self._report(run, wall=wall, peaks=peaks, workers=len(workers))

    def _merchant_with_history(self, slug: str, files: list[pathlib.Path]) -> Merchant:
        merchant = Merchant.objects.filter(slug=slug).first()
        if merchant is None:
            missing = [str(path) for path in files if not path.is_file()]
            if missing:
                raise CommandError(f"missing input file(s): {', '.join(missing)}")
            merchant = merchant_create(slug=slug, name=f"Forecast benchmark ({slug})")
            self.stdout.write(f"importing {', '.join(path.name for path in files)} into {slug} (once)")
            bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr, desc="import")

            def progress(done: int, total: int | None) -> None:
                bar.total = total
                bar.update(done - bar.n)

            run_import(merchant=merchant, kind="orders", paths=files, progress=progress)
            bar.close()
        return merchant

    def _start_worker(self, index: int) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "ecomforecast",
                "worker",
                "--pool=solo",
                "-Q",
                "forecast_cpu,default",
                "-n",
                f"bench{index}@%h",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=settings.BASE_DIR,
            env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
            start_new_session=True,
        )

    def _follow(self, run: ForecastRun) -> ForecastRun:
        bar = tqdm(unit=" chunk", file=sys.stderr, desc="forecast")
        while run.status in {ForecastRun.Status.PENDING, ForecastRun.Status.RUNNING}:
            time.sleep(0.5)
            run.refresh_from_db()
            bar.total = run.chunks_total
            bar.update(run.chunks_done - bar.n)
        bar.close()
        return run

    def _peak_rss_mib(self, worker: subprocess.Popen) -> float | None:
        try:
            status = pathlib.Path(f"/proc/{worker.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def _report(self, run: ForecastRun, *, wall: float, peaks: list, workers: int) -> None:
        timings = run.timings
        busy = timings.get("read", 0) + timings.get("engine", 0) + timings.get("write", 0)
        database = timings.get("read", 0) + timings.get("write", 0)
        results = ForecastResult.objects.filter(run=run).count()
        values = ForecastValue.objects.filter(result__run=run).count()
        figures = {
            "database": connection.vendor,
            "status": run.status,
            "workers": workers,
            "skus": run.series_done,
            "chunks": run.chunks_total,
            "wall_seconds": round(wall, 1),
            "skus_per_second": round(run.series_done / wall, 1) if wall else None,
            "engine_seconds": round(timings.get("engine", 0), 1),
            "database_read_seconds": round(timings.get("read", 0), 1),
            "database_write_seconds": round(timings.get("write", 0), 1),
            "database_share_of_work": round(database / busy, 3) if busy else None,
            "rows_written": results + values,
            "fallbacks": run.fallback_count,
            "peak_rss_mib_per_worker": [round(peak) if peak else None for peak in peaks],
        }
        self.stdout.write(
            f"{run.series_done:,} SKUs in {wall:.1f} s wall = {figures['skus_per_second']} SKUs/s "
            f"on {workers} workers; "
            f"engine {figures['engine_seconds']} s, database read {figures['database_read_seconds']} s + write "
            f"{figures['database_write_seconds']} s ({(figures['database_share_of_work'] or 0):.0%} of worker time); "
            f"{figures['rows_written']:,} rows written; peak RSS per worker {figures['peak_rss_mib_per_worker']} MiB"
        )
        self.stdout.write(json.dumps(figures))
