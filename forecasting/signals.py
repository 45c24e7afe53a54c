"""Signals other apps compose on (ecomforecast/pipeline.py): forecasting knows nothing of what follows a run."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once, after commit, when a run turns succeeded; arguments: run (the ForecastRun).
forecast_run_succeeded = Signal()
