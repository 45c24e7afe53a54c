"""Inventory routes, registered by ecomforecast.api.urls on the one /api/v1/ router."""

from __future__ import annotations

from django.urls import path

from inventory.api import views

routes = [
    ("categories", views.CategoryViewSet, "category"),
    ("products", views.ProductViewSet, "product"),
    ("suppliers", views.SupplierViewSet, "supplier"),
    ("supplier-products", views.SupplierProductViewSet, "supplier-product"),
    ("stock", views.StockLevelViewSet, "stock-level"),
    ("purchase-orders", views.PurchaseOrderViewSet, "purchase-order"),
    ("replenishment-settings", views.ReplenishmentSettingsViewSet, "replenishment-settings"),
    ("reorder-plans", views.ReorderPlanViewSet, "reorder-plan"),
    ("reorder-lines", views.ReorderLineViewSet, "reorder-line"),
]

extra_urlpatterns = [
    path(
        "reorder-plans/<int:plan_pk>/lines/",
        views.ReorderLineViewSet.as_view({"get": "list"}),
        name="reorder-plan-lines",
    ),
    path(
        "reorder-plans/<int:pk>/export.csv",
        views.ReorderPlanExportFileViewSet.as_view(
            {"get": "export_csv"}, detail=True, filterset_class=None, pagination_class=None
        ),
        name="reorder-plan-export-csv-file",
    ),
]
