from __future__ import annotations

from django.urls import path

from forecasting import views

urlpatterns = [
    path("", views.ForecastsView.as_view(), name="forecasts"),
    path("run/", views.ForecastRunRequestView.as_view(), name="forecast-run-request"),
    path("runs/<int:pk>/progress/", views.ForecastRunProgressView.as_view(), name="forecast-run-progress"),
    path("customers/", views.CustomerScoresView.as_view(), name="customer-scores"),
    path("customers/run/", views.CustomerScoresRunRequestView.as_view(), name="customer-scores-run-request"),
    path(
        "customers/runs/<int:pk>/progress/",
        views.CustomerScoresRunProgressView.as_view(),
        name="customer-scores-run-progress",
    ),
]
