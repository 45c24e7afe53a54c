"""Thin Celery wrappers of the inventory services. Routing: planning (settings)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from ecomforecast.models import Merchant
from inventory import services


@shared_task(
    name="inventory.tasks.reorder_plan_build",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    soft_time_limit=1800,
    time_limit=1900,
)
def reorder_plan_build(merchant_id: int, forecast_run_id: int) -> int:
    """Builds the plan of a succeeded forecast run (idempotent: a redelivered task returns the same plan)."""
    merchant = Merchant.objects.get(pk=merchant_id)
    return services.reorder_plan_build(merchant=merchant, forecast_run_id=forecast_run_id).pk
