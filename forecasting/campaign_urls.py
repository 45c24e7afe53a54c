from __future__ import annotations

from django.urls import path

from forecasting import campaign_views

urlpatterns = [
    path("", campaign_views.CampaignListView.as_view(), name="campaigns"),
    path("new/", campaign_views.CampaignFormView.as_view(), name="campaign-new"),
    path("<int:pk>/", campaign_views.CampaignDetailView.as_view(), name="campaign-view"),
    path("<int:pk>/edit/", campaign_views.CampaignFormView.as_view(), name="campaign-edit"),
    path("<int:pk>/evaluate/", campaign_views.CampaignEvaluateView.as_view(), name="campaign-evaluate"),
    path(
        "evaluations/<int:pk>/progress/",
        campaign_views.CampaignEvaluationProgressView.as_view(),
        name="campaign-evaluation-progress",
    ),
]
