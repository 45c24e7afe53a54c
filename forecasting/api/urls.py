from __future__ import annotations

from forecasting.api.views import ForecastRunViewSet, ForecastViewSet

routes = [
    ("forecast-runs", ForecastRunViewSet, "forecast-run"),
    ("forecasts", ForecastViewSet, "forecast"),
]
