"""Thin Celery wrappers: take ids, call the forecasting services. Routing (settings): forecast_cpu, train_* on
forecast_gpu."""

from __future__ import annotations

from celery import chord, shared_task
from django.db import InterfaceError, OperationalError

from forecasting import artifact_services, services

TRANSIENT_ERRORS = (OperationalError, InterfaceError)
RELIABLE = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(name="forecasting.tasks.forecast_run_start", **RELIABLE)
def forecast_run_start(run_id: int) -> int:
    """Fan the run out in chunks; a run whose neural candidates have no usable trained model trains them first."""
    if services.forecast_run_neural_prepare(run_id=run_id, train=False).get("missing"):
        train_for_forecast_run.delay(run_id)
        return 0
    chunks = services.forecast_run_plan(run_id=run_id)
    pending = [chunk.pk for chunk in chunks if chunk.status != chunk.Status.SUCCEEDED]
    if not pending:
        services.forecast_run_close(run_id=run_id)
        return 0
    chord(forecast_chunk.s(chunk_id) for chunk_id in pending)(forecast_run_finish.si(run_id))
    return len(pending)


@shared_task(name="forecasting.tasks.forecast_chunk", soft_time_limit=1800, time_limit=1900, **RELIABLE)
def forecast_chunk(chunk_id: int) -> int:
    return services.forecast_chunk_execute(chunk_id=chunk_id).pk


@shared_task(name="forecasting.tasks.forecast_run_finish", **RELIABLE)
def forecast_run_finish(run_id: int) -> str:
    return services.forecast_run_close(run_id=run_id).status


@shared_task(name="forecasting.tasks.customer_scores_run", soft_time_limit=3300, time_limit=3600, **RELIABLE)
def customer_scores_run(run_id: int) -> str:
    from forecasting import customer_services

    return customer_services.customer_scores_run_execute(run_id=run_id).status


@shared_task(name="forecasting.tasks.train_neural_model", soft_time_limit=3300, time_limit=3600, **RELIABLE)
def train_neural_model(artifact_id: int) -> int:
    """Train and register a queued model version on the forecast_gpu queue (routed by its train_ name); attempts
    are counted on the row and capped, so a training that kills its worker is not redelivered forever."""
    return artifact_services.model_artifact_training_execute(artifact_id=artifact_id).pk


@shared_task(name="forecasting.tasks.train_for_forecast_run", soft_time_limit=3300, time_limit=3600, **RELIABLE)
def train_for_forecast_run(run_id: int) -> dict:
    """On forecast_gpu: train the run's missing neural candidates (attempts capped), then start the run."""
    state = services.forecast_run_neural_prepare(run_id=run_id, train=True)
    forecast_run_start.delay(run_id)
    return state


@shared_task(name="forecasting.tasks.campaign_forecast_run", soft_time_limit=1800, time_limit=1900, **RELIABLE)
def campaign_forecast_run(forecast_id: int) -> str:
    """A campaign plan or readout on forecast_cpu (routed by the forecasting.tasks.* rule)."""
    from forecasting import campaign_services

    return campaign_services.campaign_forecast_execute(forecast_id=forecast_id).status
