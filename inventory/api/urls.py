"""Inventory routes, registered by ecomforecast.api.urls on the one /api/v1/ router."""

from __future__ import annotations

from inventory.api import views

routes = [
    ("categories", views.CategoryViewSet, "category"),
    ("products", views.ProductViewSet, "product"),
    ("suppliers", views.SupplierViewSet, "supplier"),
    ("supplier-products", views.SupplierProductViewSet, "supplier-product"),
    ("stock", views.StockLevelViewSet, "stock-level"),
    ("purchase-orders", views.PurchaseOrderViewSet, "purchase-order"),
]
