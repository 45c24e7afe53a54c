from __future__ import annotations

from django.urls import path

from forecasting import views

urlpatterns = [
    path("", views.ForecastsView.as_view(), name="forecasts"),
    path("run/", views.ForecastRunRequestView.as_view(), name="forecast-run-request"),
    path("runs/<int:pk>/progress/", views.ForecastRunProgressView.as_view(), name="forecast-run-progress"),
]
