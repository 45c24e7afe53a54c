"""The nightly steps of one merchant, composed across apps: forecast the catalogue, then build the reorder plan
from that forecast; score every customer (later: campaign forecasts). Each step is a service callable without
Celery; on the workers the sales forecast and the customer scores run side by side, and the reorder plan follows
the forecast through the ``forecast_run_succeeded`` signal, connected in ``apps.ready``."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from ecomforecast.models import Merchant
from forecasting import customer_services
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

    def customer_progress(_stage: str, fraction: float) -> None:
        if progress:
            progress("customer scores", round(fraction * 100), 100)

    customer_run = customer_services.customer_scores_run_in_process(merchant=merchant, progress=customer_progress)
    return {"sales_forecast_run": run, "reorder_plan": plan, "customer_score_run": customer_run}


def request_pipeline(*, merchant: Merchant) -> dict[str, object]:
    """Every step on the workers: the forecast run and the customer-score run are requested (each idempotent per
    data cutoff and configuration); the forecast's success queues the reorder plan (see plan_after_forecast)."""
    run, created = forecasting_services.forecast_run_request(merchant=merchant)
    customer_run, _customer_created = customer_services.customer_scores_run_request(merchant=merchant)
    return {"sales_forecast_run": run, "created": created, "customer_score_run": customer_run}


def plan_after_forecast(sender, run: ForecastRun, **kwargs) -> None:
    """Every succeeded sales forecast run, whoever asked for it, gets its reorder plan on the planning queue."""
    if run.kind != ForecastRun.Kind.SALES:
        return
    from inventory.tasks import reorder_plan_build

    transaction.on_commit(lambda: reorder_plan_build.delay(run.merchant_id, run.pk))
