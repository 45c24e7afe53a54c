"""A campaign's evaluations: GET the latest succeeded plan (pre-campaign forecast) or readout with its product lines,
POST to request a fresh one. Served under the campaign's URL (/campaigns/{id}/forecast/, .../readout/)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from customers.selectors import campaign_list
from ecomforecast.api.schema import named_choice_field
from ecomforecast.api.viewsets import MerchantScopedMixin
from forecasting import campaign_selectors, campaign_services
from forecasting.campaign_io import CampaignEvaluationError
from forecasting.models import CampaignForecast, CampaignForecastLine


class CampaignForecastLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku")
    product_name = serializers.CharField(source="product.name")

    class Meta:
        model = CampaignForecastLine
        fields = [
            "product",
            "sku",
            "product_name",
            "baseline_units",
            "campaign_units",
            "lift_units",
            "lift_pct",
            "post_units",
            "demand_p90",
            "demand_to_end_mean",
            "demand_to_end_p90",
            "on_hand",
            "on_order",
            "shortfall",
            "needed_by",
            "revenue",
            "margin",
            "estimates",
            "daily",
        ]
        read_only_fields = fields


class CampaignForecastSerializer(serializers.ModelSerializer):
    """One evaluation. ``estimates``: every quantity as {mean, lower, upper} at ``level`` (roi_quantiles: the ROI
    distribution); ``daily``: dates and daily bands summed over the products (plan: baseline_* and campaign_*;
    readout: actual and counterfactual_*). ``no_evidence``: the plan's campaign features the history never saw
    varying when none of them has evidence; the lift is then not estimated (zero, p_positive null) and the
    with-campaign forecast is the baseline."""

    kind = named_choice_field(CampaignForecast.Kind, "CampaignEvaluationKind", read_only=True)
    status = named_choice_field(CampaignForecast.Status, "CampaignEvaluationStatus", read_only=True)
    no_evidence = serializers.SerializerMethodField()

    class Meta:
        model = CampaignForecast
        fields = [
            "id",
            "campaign",
            "kind",
            "status",
            "progress",
            "stage",
            "data_cutoff",
            "level",
            "campaign_days",
            "post_days",
            "products_total",
            "baseline_units",
            "campaign_units",
            "lift_units",
            "lift_pct",
            "p_positive",
            "cost",
            "profit",
            "roi",
            "p_roi_positive",
            "predicted_roi",
            "control_ratio",
            "stock_short_count",
            "no_evidence",
            "estimates",
            "daily",
            "effects",
            "campaign_snapshot",
            "attempts",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_no_evidence(self, forecast: CampaignForecast) -> list[str]:
        return list((forecast.effects or {}).get("no_evidence") or [])


class CampaignEvaluationProgressSerializer(serializers.ModelSerializer):
    status = named_choice_field(CampaignForecast.Status, "CampaignEvaluationStatus", read_only=True)

    class Meta:
        model = CampaignForecast
        fields = ["id", "status", "progress", "stage", "data_cutoff", "attempts", "created_at", "started_at"]
        read_only_fields = fields


class CampaignEvaluationSerializer(serializers.Serializer):
    latest = CampaignForecastSerializer(help_text="the latest succeeded evaluation")
    lines = CampaignForecastLineSerializer(many=True, help_text="its products, largest lift first")
    active = CampaignEvaluationProgressSerializer(allow_null=True, help_text="an evaluation queued or running now")


class CampaignEvaluationRequestSerializer(serializers.Serializer):
    data_cutoff = serializers.DateField(
        required=False, help_text="last day of sales history to use; default the last day with a sale"
    )


NOT_FOUND = inline_serializer(
    "CampaignEvaluationNotFound",
    fields={
        "detail": serializers.CharField(),
        "active": CampaignEvaluationProgressSerializer(allow_null=True, required=False),
    },
)
REFUSED = inline_serializer("CampaignEvaluationRefused", fields={"detail": serializers.CharField()})


class CampaignEvaluationView(MerchantScopedMixin, generics.GenericAPIView):
    """Base of the two views; ``kind`` says which evaluation (404 for another merchant's campaign)."""

    kind = CampaignForecast.Kind.PLAN
    queryset_model = CampaignForecast
    serializer_class = CampaignEvaluationSerializer
    pagination_class = None
    filter_backends: list = []

    def selector(self, *, merchant):
        return campaign_selectors.campaign_forecast_list(merchant=merchant)

    def _campaign(self, campaign_pk: int):
        return get_object_or_404(campaign_list(merchant=self.get_merchant()), pk=campaign_pk)

    def get(self, request, campaign_pk: int):
        merchant = self.get_merchant()
        campaign = self._campaign(campaign_pk)
        latest = campaign_selectors.campaign_forecast_latest(merchant=merchant, campaign_id=campaign.pk, kind=self.kind)
        active = campaign_selectors.campaign_forecast_active(merchant=merchant, campaign_id=campaign.pk, kind=self.kind)
        active_data = CampaignEvaluationProgressSerializer(active).data if active else None
        if latest is None:
            label = CampaignForecast.Kind(self.kind).label.lower()
            message = f"No {label} of this campaign has succeeded yet."
            if active is not None:
                message += f" One is {active.status}."
            return Response({"detail": message, "active": active_data}, status=status.HTTP_404_NOT_FOUND)
        lines = campaign_selectors.campaign_forecast_lines(merchant=merchant, forecast=latest)
        return Response(
            {
                "latest": CampaignForecastSerializer(latest).data,
                "lines": CampaignForecastLineSerializer(lines, many=True).data,
                "active": active_data,
            }
        )

    def post(self, request, campaign_pk: int):
        campaign = self._campaign(campaign_pk)
        payload = CampaignEvaluationRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            forecast, _created = campaign_services.campaign_forecast_request(
                merchant=self.get_merchant(),
                campaign=campaign,
                kind=self.kind,
                data_cutoff=payload.validated_data.get("data_cutoff"),
            )
        except CampaignEvaluationError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(CampaignForecastSerializer(forecast).data, status=status.HTTP_202_ACCEPTED)


def _documented(kind: str, what: str):
    get_schema = extend_schema(
        operation_id=f"campaigns_{kind}_retrieve",
        responses={200: CampaignEvaluationSerializer, 404: OpenApiResponse(NOT_FOUND)},
        description=f"The campaign's latest succeeded {what} with its product lines, and the one queued or running "
        "now if any. 404 for another merchant's campaign, or when none has succeeded yet (then with the active one).",
    )
    post_schema = extend_schema(
        operation_id=f"campaigns_{kind}_create",
        request=CampaignEvaluationRequestSerializer,
        responses={
            202: CampaignForecastSerializer,
            400: OpenApiResponse(REFUSED),
            404: OpenApiResponse(REFUSED),
        },
        description=f"Request a fresh {what}. Idempotent: the same campaign definition, data cutoff and configuration "
        "return the same evaluation (202 both times); a failed one is started again.",
    )

    def decorate(view):
        # own functions per view: the schema annotations are set on the function, which the base class would share
        def get(self, request, campaign_pk: int):
            return CampaignEvaluationView.get(self, request, campaign_pk)

        def post(self, request, campaign_pk: int):
            return CampaignEvaluationView.post(self, request, campaign_pk)

        view.get = get_schema(get)
        view.post = post_schema(post)
        return view

    return decorate


@_documented("forecast", "pre-campaign forecast (baseline vs with-campaign demand, lift, ROI, stock check)")
class CampaignPlanView(CampaignEvaluationView):
    """Pre-campaign forecast of a campaign."""

    kind = CampaignForecast.Kind.PLAN


@_documented("readout", "post-campaign readout (actual vs counterfactual, effect, realised ROI)")
class CampaignReadoutView(CampaignEvaluationView):
    """Post-campaign readout of a campaign."""

    kind = CampaignForecast.Kind.READOUT
