from __future__ import annotations

import json

from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from ecomforecast.tasks import nightly_pipeline
from forecasting.models import CustomerForecastRun, ForecastRun
from tests.factories import MerchantFactory, ProductFactory


def test_it_schedules_one_nightly_run_per_merchant_in_its_time_zone(db):
    london = MerchantFactory(slug="london", timezone="Europe/London")
    MerchantFactory(slug="tokyo", timezone="Asia/Tokyo")

    call_command("schedule_nightly", "--hour", "3", "--minute", "15")
    call_command("schedule_nightly", "--hour", "3", "--minute", "15")

    tasks = {task.name: task for task in PeriodicTask.objects.select_related("crontab")}
    assert set(tasks) == {"nightly pipeline: london", "nightly pipeline: tokyo"}
    london_task = tasks["nightly pipeline: london"]
    assert london_task.task == "ecomforecast.tasks.nightly_pipeline"
    assert json.loads(london_task.args) == [london.pk]
    assert (london_task.crontab.hour, london_task.crontab.minute) == ("3", "15")
    assert str(tasks["nightly pipeline: tokyo"].crontab.timezone) == "Asia/Tokyo"


def test_it_removes_the_schedule_of_a_deleted_merchant(db):
    gone = MerchantFactory(slug="gone")
    call_command("schedule_nightly")
    gone.delete()
    call_command("schedule_nightly")
    assert not PeriodicTask.objects.filter(name="nightly pipeline: gone").exists()


def test_it_requests_the_forecast_and_customer_score_runs_when_the_nightly_task_fires(
    merchant, django_capture_on_commit_callbacks
):
    ProductFactory(merchant=merchant)
    with django_capture_on_commit_callbacks() as callbacks:
        result = nightly_pipeline.run(merchant.pk)
    run = ForecastRun.objects.get(merchant=merchant)
    customer_run = CustomerForecastRun.objects.get(merchant=merchant)
    assert result["sales_forecast_run"] == run.pk
    assert result["customer_score_run"] == customer_run.pk
    assert len(callbacks) == 2  # one dispatch after commit per run
