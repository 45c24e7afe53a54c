from __future__ import annotations

from django.urls import path

from forecasting.api.campaign_forecasts import CampaignPlanView, CampaignReadoutView
from forecasting.api.campaign_targets import CampaignTargetsView
from forecasting.api.customer_scores import CustomerScoresOfCustomerView, CustomerScoreViewSet
from forecasting.api.model_artifacts import ModelArtifactViewSet
from forecasting.api.views import ForecastRunViewSet, ForecastViewSet

routes = [
    ("forecast-runs", ForecastRunViewSet, "forecast-run"),
    ("forecasts", ForecastViewSet, "forecast"),
    ("customer-scores", CustomerScoreViewSet, "customer-score"),
    ("model-artifacts", ModelArtifactViewSet, "model-artifact"),
]

extra_urlpatterns = [
    # Under the campaign's URL but served here, like the customer's scores below.
    path("campaigns/<int:campaign_pk>/forecast/", CampaignPlanView.as_view(), name="campaign-forecast"),
    path("campaigns/<int:campaign_pk>/readout/", CampaignReadoutView.as_view(), name="campaign-readout"),
    path("campaigns/<int:campaign_pk>/targets/", CampaignTargetsView.as_view(), name="campaign-targets"),
    # Under the customer's URL but served here: the customers app cannot import forecasting.
    path(
        "customers/<int:customer_pk>/scores/",
        CustomerScoresOfCustomerView.as_view(),
        name="customer-scores-of-customer",
    ),
    path(
        "customer-scores/export.csv",
        # The same operation as the router's export.csv/ route; documented once, there.
        CustomerScoreViewSet.as_view({"get": "export_csv"}, detail=False, pagination_class=None, schema=None),
        name="customer-score-export-csv-file",
    ),
]
