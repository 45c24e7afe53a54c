"""Core routes, registered by ecomforecast.api.urls on the one /api/v1/ router."""

from __future__ import annotations

from ecomforecast.api import views

routes = [
    ("merchants", views.MerchantViewSet, "merchant"),
    ("api-keys", views.ApiKeyViewSet, "api-key"),
    ("imports", views.ImportJobViewSet, "import-job"),
]
