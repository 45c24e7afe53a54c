"""The nightly steps of one merchant, composed across apps: forecast the catalogue (later: customer scores,
campaign forecasts, reorder plans). Each step is a service callable without Celery."""

from __future__ import annotations

from collections.abc import Callable

from ecomforecast.models import Merchant
from forecasting import services as forecasting_services

Progress = Callable[[str, int, int], None]


def run_pipeline(*, merchant: Merchant, progress: Progress | None = None) -> dict[str, object]:
    """Every step in this process, in order (management commands and the demo). Returns what each step made."""

    def forecast_progress(done: int, total: int) -> None:
        if progress:
            progress("sales forecast", done, total)

    run = forecasting_services.forecast_run_execute_in_process(merchant=merchant, progress=forecast_progress)
    return {"sales_forecast_run": run}


def request_pipeline(*, merchant: Merchant) -> dict[str, object]:
    """Every step on the workers: the forecast run is requested (idempotent per data cutoff and configuration)."""
    run, created = forecasting_services.forecast_run_request(merchant=merchant)
    return {"sales_forecast_run": run, "created": created}
