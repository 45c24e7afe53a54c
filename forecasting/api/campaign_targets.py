"""A campaign's target list: the merchant's customers ranked by expected incremental response, as JSON or CSV."""

from __future__ import annotations

from dataclasses import asdict

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, renderers, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from customers.models import Campaign
from customers.selectors import campaign_list
from ecomforecast.api.csv import csv_response
from ecomforecast.api.viewsets import MerchantScopedMixin
from forecasting.api.customer_scores import CSVRenderer
from forecasting.targeting_services import RESPONSE_METHOD, UPLIFT_METHOD, campaign_targets

MAX_LIMIT = 1_000_000
CSV_COLUMNS = ("rank", "customer_external_id", "uplift", "p_purchase_30d", "segment")


class CustomerTargetSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    customer = serializers.IntegerField(source="customer_id")
    customer_external_id = serializers.CharField(source="external_id")
    uplift = serializers.FloatField(
        allow_null=True, help_text="P(purchase | sent) - P(purchase | not sent); null for a response ranking"
    )
    p_purchase_30d = serializers.FloatField()
    segment = serializers.CharField()


class CampaignTargetsSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(source="campaign_id")
    method = serializers.ChoiceField(choices=[UPLIFT_METHOD, RESPONSE_METHOD])
    method_note = serializers.CharField()
    data_cutoff = serializers.DateField(allow_null=True, help_text="cutoff of the customer scores used")
    candidates = serializers.IntegerField(help_text="customers ranked (the list may be cut by ?limit=)")
    past_recipients = serializers.IntegerField(help_text="recipients of past campaigns the uplift was learned from")
    past_campaigns = serializers.IntegerField()
    qini_coefficient = serializers.FloatField(
        allow_null=True, help_text="on held-out past recipients: 1 = ideal ranking, 0 = random; null if not measured"
    )
    learner = serializers.CharField(allow_null=True)
    notes = serializers.ListField(child=serializers.CharField())
    targets = CustomerTargetSerializer(many=True)


def _limit(request) -> int | None:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError({"limit": [f"A whole number from 1 to {MAX_LIMIT}."]})
    return int(raw)


class CampaignTargetsView(MerchantScopedMixin, generics.GenericAPIView):
    """Who to send the campaign to, best first (404 for another merchant's campaign)."""

    queryset_model = Campaign
    serializer_class = CampaignTargetsSerializer
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]
    pagination_class = None
    filter_backends: list = []
    selector = staticmethod(campaign_list)

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="only the first N customers"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: a file to mail"),
        ],
        responses={
            200: CampaignTargetsSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=", ".join(CSV_COLUMNS)),
            404: None,
        },
    )
    def get(self, request, campaign_pk: int, format=None):
        merchant = self.get_merchant()
        campaign = get_object_or_404(self.get_queryset(), pk=campaign_pk)
        result = campaign_targets(merchant=merchant, campaign=campaign, limit=_limit(request))
        if request.accepted_renderer.format == "csv":
            rows = (
                {
                    "rank": target.rank,
                    "customer_external_id": target.external_id,
                    "uplift": "" if target.uplift is None else f"{target.uplift:.4f}",
                    "p_purchase_30d": f"{target.p_purchase_30d:.4f}",
                    "segment": target.segment,
                }
                for target in result.targets
            )
            return csv_response(rows, columns=CSV_COLUMNS, filename=f"campaign-{campaign.pk}-targets.csv")
        return Response(self.get_serializer(asdict(result)).data)
