"""The nightly steps of one merchant, composed across apps: forecast the catalogue, then build the reorder plan
from that forecast (later: customer scores, campaign forecasts). Each step is a service callable without Celery;
on the workers the steps are chained by the ``forecast_run_succeeded`` signal, connected in ``apps.ready``."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from ecomforecast.models import Merchant
from forecasting import services as forecasting_services
from forecasting.models import ForecastRun
from inventory import services as inventory_services

Progress = Callable[[str, int, int], None]


def run_pipeline(*, merchant: Merchant, progress: Progress | None = None) -> dict[str, object]:
    """Every step in this process, in order (management commands and the demo). Returns what each step made."""

    def step_progress(step: str) -> Callable[[int, int], None]:
        def report(done: int, total: int) -> None:
            if progress:
                progress(step, done, total)

        return report

    run = forecasting_services.forecast_run_execute_in_process(
        merchant=merchant, progress=step_progress("sales forecast")
    )
    plan = None
    if run.status == ForecastRun.Status.SUCCEEDED:
        plan = inventory_services.reorder_plan_build(
            merchant=merchant, forecast_run_id=run.pk, progress=step_progress("reorder plan")
        )
    return {"sales_forecast_run": run, "reorder_plan": plan}


def request_pipeline(*, merchant: Merchant) -> dict[str, object]:
    """Every step on the workers: the forecast run is requested (idempotent per data cutoff and configuration);
    its success queues the reorder plan (see plan_after_forecast)."""
    run, created = forecasting_services.forecast_run_request(merchant=merchant)
    return {"sales_forecast_run": run, "created": created}


def plan_after_forecast(sender, run: ForecastRun, **kwargs) -> None:
    """Every succeeded sales forecast run, whoever asked for it, gets its reorder plan on the planning queue."""
    if run.kind != ForecastRun.Kind.SALES:
        return
    from inventory.tasks import reorder_plan_build

    transaction.on_commit(lambda: reorder_plan_build.delay(run.merchant_id, run.pk))
