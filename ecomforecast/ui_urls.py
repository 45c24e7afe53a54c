from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

from ecomforecast import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("merchant/switch/", views.merchant_switch, name="merchant-switch"),
    path("imports/", views.ImportListView.as_view(), name="imports"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("settings/api-keys/", views.ApiKeyListView.as_view(), name="api-keys"),
    path("settings/api-keys/<int:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
    path("settings/data-sharing/", views.DataSharingView.as_view(), name="data-sharing"),
    path("vendor/plotly-<str:version>.min.js", views.plotly_bundle, name="plotly-bundle"),
    path("campaigns/", include("forecasting.campaign_urls")),
]
