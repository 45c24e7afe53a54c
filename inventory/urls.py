from __future__ import annotations

from django.urls import path

from inventory import views

urlpatterns = [
    path("", views.ProductListView.as_view(), name="product-list"),
    path("<int:pk>/", views.ProductDetailView.as_view(), name="product-detail"),
    path("order-today/", views.OrderTodayView.as_view(), name="order-today"),
    path("order-today/budget/", views.OrderTodayBudgetView.as_view(), name="order-today-budget"),
    path("order-today/plans/<int:pk>/approve/", views.OrderTodayApproveView.as_view(), name="order-today-approve"),
    path(
        "order-today/plans/<int:pk>/purchase-orders/",
        views.OrderTodayPurchaseOrdersView.as_view(),
        name="order-today-purchase-orders",
    ),
]
