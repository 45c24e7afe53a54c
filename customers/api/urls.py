"""Customer routes, registered by ecomforecast.api.urls on the one /api/v1/ router."""

from __future__ import annotations

from customers.api import views
from customers.api.campaign_recipients import CampaignRecipientViewSet

routes = [
    ("customers", views.CustomerViewSet, "customer"),
    ("orders", views.OrderViewSet, "order"),
    ("activity", views.ActivityEventViewSet, "activity-event"),
    ("campaigns", views.CampaignViewSet, "campaign"),
    ("campaign-recipients", CampaignRecipientViewSet, "campaign-recipient"),
]
