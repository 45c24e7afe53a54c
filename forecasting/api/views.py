"""Forecast runs (request, follow) and forecasts (daily values, accuracy summary)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ecomforecast.api.viewsets import MerchantReadOnlyViewSet, MerchantScopedMixin
from forecasting import selectors, services
from forecasting.api import filters, serializers
from forecasting.models import ForecastRun, ForecastValue


class ForecastRunViewSet(mixins.CreateModelMixin, MerchantReadOnlyViewSet):
    selector = staticmethod(selectors.forecast_run_list)
    queryset_model = ForecastRun
    serializer_class = serializers.ForecastRunSerializer
    filterset_class = filters.ForecastRunFilter
    ordering_fields = ["created_at", "data_cutoff", "id"]

    @extend_schema(
        request=serializers.ForecastRunRequestSerializer,
        responses={202: serializers.ForecastRunSerializer},
        description="Request a sales forecast of the whole catalogue. Idempotent: the same merchant, data cutoff "
        "and configuration return the same run (202 both times).",
    )
    def create(self, request, *args, **kwargs):
        payload = serializers.ForecastRunRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        config = services.ForecastConfig(
            horizon=payload.validated_data["horizon"],
            models=payload.validated_data.get("models") or services.default_models(),
        )
        run, _created = services.forecast_run_request(
            merchant=self.get_merchant(), config=config, data_cutoff=payload.validated_data.get("data_cutoff")
        )
        return Response(serializers.ForecastRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(
    parameters=[OpenApiParameter("run", OpenApiTypes.INT, description="a run id; default the latest succeeded run")]
)
class ForecastViewSet(MerchantScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset_model = ForecastValue
    serializer_class = serializers.ForecastValueSerializer
    filterset_class = filters.ForecastValueFilter
    ordering_fields = ["date"]

    def _run(self) -> ForecastRun | None:
        run_id = self.request.query_params.get("run")
        if run_id is None:
            return selectors.forecast_run_latest(merchant=self.get_merchant())
        if not run_id.isdigit():
            return None
        return get_object_or_404(selectors.forecast_run_list(merchant=self.get_merchant()), pk=int(run_id))

    def selector(self, *, merchant):
        run = self._run()
        if run is None:
            return ForecastValue.objects.none()
        return selectors.forecast_value_list(merchant=merchant, run=run)

    @extend_schema(responses={200: serializers.ForecastSummarySerializer, 404: None})
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def summary(self, request):
        run = self._run()
        if run is None:
            return Response({"detail": "No succeeded forecast run yet."}, status=status.HTTP_404_NOT_FOUND)
        summary = selectors.forecast_summary(merchant=self.get_merchant(), run=run)
        return Response(serializers.ForecastSummarySerializer(summary).data)
