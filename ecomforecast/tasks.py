"""Celery tasks of the core app: thin wrappers that take ids, load, and call a service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from ecomforecast import import_jobs


@shared_task(
    name="ecomforecast.tasks.import_job_execute",
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def import_job_execute(job_id: int) -> str:
    """Imports the file of an ImportJob; the job row records status, progress and the report."""
    return import_jobs.import_job_execute(job_id=job_id).status


@shared_task(name="ecomforecast.tasks.nightly_pipeline", acks_late=True)
def nightly_pipeline(merchant_id: int) -> dict[str, object]:
    """The beat entry of ``schedule_nightly``: requests the merchant's pipeline run on the workers."""
    # Imported when the task runs: the pipeline pulls in the forecasting app, which the worker may not need.
    from ecomforecast.models import Merchant
    from ecomforecast.pipeline import request_pipeline

    result = request_pipeline(merchant=Merchant.objects.get(pk=merchant_id))
    return {name: getattr(value, "pk", value) for name, value in result.items()}
