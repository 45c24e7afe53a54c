"""Customer scores: the filtered, ordered list of a run (latest by default), its CSV export for retention
campaigns, one score by id, and a customer's latest scores with their history."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

import django_filters
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, generics, renderers, serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from customers.selectors import customer_list
from ecomforecast.api.csv import safe_cell
from ecomforecast.api.viewsets import MerchantReadOnlyViewSet, MerchantScopedMixin
from forecasting import customer_selectors
from forecasting.models import CustomerForecastRun, CustomerScore

EXPORT_CHUNK = 2000
EXPORT_COLUMNS = (
    ("customer_external_id", lambda score: score.customer.external_id),
    ("email", lambda score: score.customer.email),
    ("name", lambda score: score.customer.name),
    ("country", lambda score: score.customer.country),
    ("segment", lambda score: score.segment),
    ("churn_risk", lambda score: f"{score.churn_risk:.4f}"),
    ("p_alive", lambda score: f"{score.p_alive:.4f}"),
    ("p_purchase_30d", lambda score: f"{score.p_purchase_30d:.4f}"),
    ("expected_orders_90d", lambda score: f"{score.expected_orders_90d:.3f}"),
    ("clv_12m", lambda score: f"{score.clv_12m:.2f}"),
    ("orders", lambda score: score.orders),
    ("days_since_last_order", lambda score: f"{score.days_since_last_order:.1f}"),
    ("total_spend", lambda score: f"{score.total_spend:.2f}"),
    ("rfm", lambda score: score.rfm),
    ("model", lambda score: score.model),
    ("run", lambda score: score.run_id),
    ("data_cutoff", lambda score: score.run.data_cutoff.isoformat()),
)


class CustomerScoreSerializer(serializers.ModelSerializer):
    customer_external_id = serializers.CharField(source="customer.external_id")
    customer_email = serializers.CharField(source="customer.email")
    customer_name = serializers.CharField(source="customer.name")
    data_cutoff = serializers.DateField(source="run.data_cutoff")

    class Meta:
        model = CustomerScore
        fields = [
            "id",
            "run",
            "data_cutoff",
            "customer",
            "customer_external_id",
            "customer_email",
            "customer_name",
            "segment",
            "churn_risk",
            "p_alive",
            "p_purchase_30d",
            "expected_orders_90d",
            "clv_12m",
            "orders",
            "days_since_last_order",
            "total_spend",
            "rfm",
            "model",
        ]
        read_only_fields = fields


class CustomerScoresOfCustomerSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    customer_external_id = serializers.CharField()
    latest = CustomerScoreSerializer(
        allow_null=True, help_text="scores in the latest run; null if it did not know them"
    )
    history = CustomerScoreSerializer(many=True, help_text="scores in every succeeded run, oldest data cutoff first")


class CustomerScoreFilter(django_filters.FilterSet):
    segment = django_filters.ChoiceFilter(choices=CustomerScore.Segment.choices)
    min_churn_risk = django_filters.NumberFilter(
        field_name="churn_risk", lookup_expr="gte", min_value=0, max_value=1, label="churn risk at least (0..1)"
    )
    customer = django_filters.CharFilter(field_name="customer__external_id", label="customer external id")

    class Meta:
        model = CustomerScore
        fields = ["segment", "min_churn_risk", "customer"]


class CSVRenderer(renderers.BaseRenderer):
    """Lets clients ask for text/csv (Accept); the export streams its own body, so nothing is rendered here."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else str(data).encode()


class ScoreOrdering(filters.OrderingFilter):
    """?ordering= over the score columns, ties broken by customer so pages are stable; unknown fields are a 400
    rather than silently ignored."""

    def get_ordering(self, request, queryset, view):
        requested = request.query_params.get(self.ordering_param)
        if not requested:
            return None
        fields = [field.strip() for field in requested.split(",") if field.strip()]
        unknown = [field for field in fields if field.lstrip("-") not in customer_selectors.SCORE_ORDERINGS]
        if unknown:
            raise ValidationError(
                {
                    "ordering": [
                        f"Unknown ordering {', '.join(unknown)}; use "
                        + ", ".join(customer_selectors.SCORE_ORDERINGS)
                        + " (a leading - sorts descending)."
                    ]
                }
            )
        return [*fields, "customer_id"]


class _Echo:
    def write(self, value: str) -> str:
        return value


def score_csv_lines(scores: Iterable[CustomerScore]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([name for name, _value in EXPORT_COLUMNS])
    for score in scores:
        yield writer.writerow([safe_cell(value(score)) for _name, value in EXPORT_COLUMNS])


def run_from_query(request, *, merchant) -> CustomerForecastRun | None:
    """The run named by ?run= (404 if it is not the merchant's), else the latest succeeded run."""
    run_id = request.query_params.get("run")
    if run_id is None:
        return customer_selectors.customer_run_latest(merchant=merchant)
    if not run_id.isdigit():
        raise ValidationError({"run": ["A run id is a whole number."]})
    return get_object_or_404(customer_selectors.customer_run_list(merchant=merchant), pk=int(run_id))


RUN_PARAMETER = OpenApiParameter(
    "run", OpenApiTypes.INT, description="a customer-score run id; default the latest succeeded run"
)
ORDERING_PARAMETER = OpenApiParameter(
    "ordering",
    OpenApiTypes.STR,
    description="one of "
    + ", ".join(customer_selectors.SCORE_ORDERINGS)
    + "; a leading - sorts descending (default -churn_risk)",
)
EXPORT_PARAMETERS = [
    RUN_PARAMETER,
    ORDERING_PARAMETER,
    OpenApiParameter("segment", OpenApiTypes.STR, enum=CustomerScore.Segment.values),
    OpenApiParameter("min_churn_risk", OpenApiTypes.FLOAT, description="churn risk at least (0..1)"),
    OpenApiParameter("customer", OpenApiTypes.STR, description="customer external id"),
    OpenApiParameter("search", OpenApiTypes.STR, description="customer external id, email or name contains"),
]


@extend_schema_view(
    list=extend_schema(parameters=[RUN_PARAMETER, ORDERING_PARAMETER]),
    retrieve=extend_schema(description="One score by id, of any of the merchant's runs."),
)
class CustomerScoreViewSet(MerchantReadOnlyViewSet):
    """Per-customer purchase probability, churn risk, CLV and segment of a run, riskiest first."""

    queryset_model = CustomerScore
    serializer_class = CustomerScoreSerializer
    filterset_class = CustomerScoreFilter
    filter_backends = [DjangoFilterBackend, ScoreOrdering, filters.SearchFilter]
    search_fields = ["customer__external_id", "customer__email", "customer__name"]
    ordering_fields = list(customer_selectors.SCORE_ORDERINGS)

    def selector(self, *, merchant):
        if self.action == "retrieve":
            return customer_selectors.customer_score_all(merchant=merchant)
        return customer_selectors.customer_score_list(
            merchant=merchant, run=run_from_query(self.request, merchant=merchant)
        )

    @extend_schema(
        parameters=EXPORT_PARAMETERS,
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="one row per customer")},
        description="The same filtered, ordered list as CSV, unpaginated, for a retention campaign: "
        + ", ".join(name for name, _value in EXPORT_COLUMNS)
        + ".",
    )
    @action(detail=False, methods=["get"], url_path="export.csv", renderer_classes=[CSVRenderer], pagination_class=None)
    def export_csv(self, request, *args, **kwargs):
        scores = self.filter_queryset(self.get_queryset())
        run = run_from_query(request, merchant=self.get_merchant())
        response = StreamingHttpResponse(
            score_csv_lines(scores.iterator(chunk_size=EXPORT_CHUNK)), content_type="text/csv; charset=utf-8"
        )
        cutoff = run.data_cutoff.isoformat() if run else "none"
        response["Content-Disposition"] = f'attachment; filename="customer-scores-{cutoff}.csv"'
        return response


class CustomerScoresOfCustomerView(MerchantScopedMixin, generics.GenericAPIView):
    """A customer's scores in the latest run and in every earlier one (404 for another merchant's customer)."""

    queryset_model = CustomerScore
    serializer_class = CustomerScoresOfCustomerSerializer
    pagination_class = None
    filter_backends: list = []

    def selector(self, *, merchant):
        return customer_selectors.customer_score_all(merchant=merchant)

    @extend_schema(responses={200: CustomerScoresOfCustomerSerializer, 404: None})
    def get(self, request, customer_pk: int):
        merchant = self.get_merchant()
        customer = get_object_or_404(customer_list(merchant=merchant), pk=customer_pk)
        payload = {
            "customer": customer.pk,
            "customer_external_id": customer.external_id,
            "latest": customer_selectors.customer_score_latest(merchant=merchant, customer=customer),
            "history": customer_selectors.customer_score_history(merchant=merchant, customer=customer),
        }
        return Response(self.get_serializer(payload).data)
