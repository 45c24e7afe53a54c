"""The nightly steps compose: a succeeded sales forecast run is followed by its reorder plan."""

from __future__ import annotations

import datetime as dt

import pytest

from ecomforecast.pipeline import run_pipeline
from forecasting import services as forecasting_services
from forecasting.models import ForecastRun
from inventory.models import ReorderPlan
from tests.forecasting.shop import make_daily_sales

pytestmark = pytest.mark.django_db


def test_it_builds_the_reorder_plan_of_the_forecast_it_runs(merchant):
    products = make_daily_sales(merchant=merchant, skus=3, days=120, start=dt.date(2024, 1, 1))

    made = run_pipeline(merchant=merchant)

    run, plan = made["sales_forecast_run"], made["reorder_plan"]
    assert run.status == ForecastRun.Status.SUCCEEDED
    assert plan.forecast_run_id == run.pk
    assert plan.plan_date == run.data_cutoff + dt.timedelta(days=1)
    assert sorted(plan.lines.values_list("product_id", flat=True)) == sorted(product.pk for product in products)
    assert made["customer_score_run"].status == "succeeded"


def test_it_queues_the_plan_on_the_planning_queue_when_a_run_succeeds(
    merchant, monkeypatch, django_capture_on_commit_callbacks
):
    make_daily_sales(merchant=merchant, skus=2, days=60, start=dt.date(2024, 1, 1))
    queued = []
    monkeypatch.setattr("inventory.tasks.reorder_plan_build.delay", lambda *args: queued.append(args))
    run, _created = forecasting_services.forecast_run_request(merchant=merchant, dispatch=False)
    for chunk in forecasting_services.forecast_run_plan(run_id=run.pk):
        forecasting_services.forecast_chunk_execute(chunk_id=chunk.pk)

    with django_capture_on_commit_callbacks(execute=True):
        forecasting_services.forecast_run_close(run_id=run.pk)
    with django_capture_on_commit_callbacks(execute=True):
        forecasting_services.forecast_run_close(run_id=run.pk)  # a redelivered close queues nothing more

    assert queued == [(merchant.pk, run.pk)]
    assert not ReorderPlan.objects.exists()
