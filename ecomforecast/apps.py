from __future__ import annotations

from django.apps import AppConfig


class EcomforecastConfig(AppConfig):
    name = "ecomforecast"
    verbose_name = "Merchants and access"

    def ready(self) -> None:
        from ecomforecast import pipeline
        from forecasting.signals import forecast_run_succeeded

        forecast_run_succeeded.connect(pipeline.plan_after_forecast, dispatch_uid="pipeline.plan_after_forecast")
