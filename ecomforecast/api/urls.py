"""/api/v1/: one router over every app's viewsets (each app lists its own in <app>/api/urls.py)."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from customers.api.urls import routes as customer_routes
from ecomforecast.api.routes import routes as core_routes
from forecasting.api.urls import routes as forecasting_routes
from inventory.api.urls import routes as inventory_routes

router = DefaultRouter()
for prefix, viewset, basename in [*core_routes, *inventory_routes, *customer_routes, *forecasting_routes]:
    router.register(prefix, viewset, basename=basename)

urlpatterns = [path("", include(router.urls))]
