"""Forecast runs, and the reorder plans that follow them, on real Celery workers against the real Redis and Postgres."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection

from ecomforecast.celery import app
from forecasting import services
from forecasting.models import ForecastChunk, ForecastResult, ForecastRun, ForecastValue, ModelArtifact
from inventory.models import ReorderPlan
from tests.forecasting.shop import make_daily_sales

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
START = dt.date(2024, 1, 1)


def _wait_for(run: ForecastRun, *, timeout: float, until=None) -> ForecastRun:
    until = until or (lambda current: current.status in {ForecastRun.Status.SUCCEEDED, ForecastRun.Status.FAILED})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if until(run):
            return run
        time.sleep(0.25)
    raise AssertionError(f"run {run.pk} still {run.status} ({run.chunks_done}/{run.chunks_total}) after {timeout}s")


@pytest.fixture
def purged_queues():
    app.control.purge()
    yield
    app.control.purge()


def test_it_completes_a_run_on_a_worker_and_serves_it(merchant, api_client, purged_queues):
    make_daily_sales(merchant=merchant, skus=12, days=90, start=START)
    config = services.ForecastConfig(horizon=14, chunk_size=5)

    with start_worker(app, queues=["default", "forecast_cpu", "planning"], concurrency=1, perform_ping_check=False):
        run, created = services.forecast_run_request(merchant=merchant, config=config)
        assert created
        run = _wait_for(run, timeout=180)
        plan = _wait_for_plan(run, timeout=60)

    assert run.status == ForecastRun.Status.SUCCEEDED, run.error
    assert (run.chunks_total, run.chunks_done, run.series_done) == (3, 3, 12)
    assert ForecastResult.objects.filter(run=run).count() == 12
    assert ForecastValue.objects.filter(result__run=run).count() == 12 * 14
    body = api_client.get("/api/v1/forecasts/", {"sku": "SKU000"}).json()
    assert body["count"] == 14
    assert body["results"][0]["run"] == run.pk
    assert plan.lines.count() == 12
    assert api_client.get("/api/v1/reorder-plans/latest/").json()["id"] == plan.pk


def _wait_for_plan(run: ForecastRun, *, timeout: float) -> ReorderPlan:
    """The plan the planning queue builds once the run has succeeded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        plan = ReorderPlan.objects.filter(merchant=run.merchant, forecast_run_id=run.pk).first()
        if plan is not None:
            return plan
        time.sleep(0.25)
    raise AssertionError(f"no reorder plan for run {run.pk} after {timeout}s")


def _worker_process(*, visibility_timeout: int) -> subprocess.Popen:
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/"
        f"{settings['NAME']}",
        "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
    }
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
            "default,forecast_cpu",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def test_it_finishes_a_run_after_its_worker_is_killed(merchant, purged_queues):
    make_daily_sales(merchant=merchant, skus=30, days=200, start=START)
    config = services.ForecastConfig(horizon=28, chunk_size=3)
    worker = _worker_process(visibility_timeout=5)
    try:
        run, _ = services.forecast_run_request(merchant=merchant, config=config)
        _wait_for(run, timeout=120, until=lambda current: current.chunks_done >= 2)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        interrupted = ForecastRun.objects.get(pk=run.pk)
        assert interrupted.status == ForecastRun.Status.RUNNING
        assert interrupted.chunks_done < interrupted.chunks_total

        worker = _worker_process(visibility_timeout=5)
        run = _wait_for(run, timeout=240)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)

    assert run.status == ForecastRun.Status.SUCCEEDED, run.error
    assert ForecastResult.objects.filter(run=run).count() == 30
    assert ForecastValue.objects.filter(result__run=run).count() == 30 * 28
    attempts = list(ForecastChunk.objects.filter(run=run).values_list("attempts", flat=True))
    assert all(1 <= count <= services.MAX_CHUNK_ATTEMPTS for count in attempts)
    assert run.attempts == sum(attempts)


def test_it_trains_a_neural_candidate_on_the_gpu_queue_then_runs_with_it(merchant, purged_queues, settings, tmp_path):
    settings.MODEL_ARTIFACT_ROOT = tmp_path
    settings.NEURAL_DEVICE = "cpu"
    settings.NEURAL_THREADS = 1
    settings.NEURAL_MAX_TRAIN_SECONDS = 3
    make_daily_sales(merchant=merchant, skus=8, days=120, start=START)
    config = services.ForecastConfig(horizon=14, chunk_size=4, models="auto+gru")

    queues = ["default", "forecast_cpu", "forecast_gpu", "planning"]
    with start_worker(app, queues=queues, concurrency=1, perform_ping_check=False):
        run, _created = services.forecast_run_request(merchant=merchant, config=config)
        run = _wait_for(run, timeout=240)

    assert run.status == ForecastRun.Status.SUCCEEDED, run.error
    artifact, final = ModelArtifact.objects.filter(merchant=merchant, name="gru").order_by("version")
    # trained out of sample for auto's three 14-day backtest windows, and again up to the cutoff to forecast
    assert artifact.train_data_end == run.data_cutoff - dt.timedelta(days=42)
    assert final.train_data_end == run.data_cutoff
    assert run.neural["gru"] == {
        "artifact_id": artifact.pk,
        "version": 1,
        "train_data_end": artifact.train_data_end.isoformat(),
        "final": {"artifact_id": final.pk, "version": 2, "train_data_end": final.train_data_end.isoformat()},
    }
    assert run.neural["training_attempts"] == 1
    results = ForecastResult.objects.filter(run=run)
    assert results.count() == 8
    assert all("gru" in result.explanation["model_info"]["candidates"] for result in results)
