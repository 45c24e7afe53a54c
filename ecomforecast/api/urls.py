"""/api/v1/: one router over every app's viewsets (each app lists its own in <app>/api/urls.py)."""

from __future__ import annotations

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from customers.api.urls import routes as customer_routes
from ecomforecast.api.routes import routes as core_routes
from forecasting.api.urls import extra_urlpatterns as forecasting_extra_urlpatterns
from forecasting.api.urls import routes as forecasting_routes
from inventory.api.urls import extra_urlpatterns as inventory_extra_urlpatterns
from inventory.api.urls import routes as inventory_routes

router = DefaultRouter()
for prefix, viewset, basename in [*core_routes, *inventory_routes, *customer_routes, *forecasting_routes]:
    router.register(prefix, viewset, basename=basename)

# Downloads named like files (.../export.csv) answer without the router's trailing slash too.
urlpatterns = [*inventory_extra_urlpatterns, *forecasting_extra_urlpatterns, path("", include(router.urls))]
