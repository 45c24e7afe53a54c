"""Customer endpoints: each viewset names its selector, serializer and filters; the bases scope to the merchant."""

from __future__ import annotations

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from customers.api import bulk_bodies, filters, serializers
from customers.models import ActivityEvent, Campaign, Customer, Order
from customers.selectors import activity_event_list, campaign_list, customer_list, order_list
from ecomforecast.api.serializers import ImportReportSerializer, RowErrorsSerializer
from ecomforecast.api.viewsets import MerchantModelViewSet, MerchantReadOnlyViewSet
from ecomforecast.importing import ImportFailed, run_import


def _rejected(errors: list[dict], error_count: int) -> Response:
    return Response({"errors": errors, "error_count": error_count}, status=status.HTTP_400_BAD_REQUEST)


class CustomerViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(customer_list)
    queryset_model = Customer
    serializer_class = serializers.CustomerSerializer
    filterset_class = filters.CustomerFilter
    search_fields = ["external_id", "email", "name"]
    ordering_fields = ["external_id", "first_seen_at", "created_at", "id"]

    def get_serializer_class(self):
        return serializers.CustomerDetailSerializer if self.action == "retrieve" else serializers.CustomerSerializer


class OrderViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(order_list)
    queryset_model = Order
    serializer_class = serializers.OrderSerializer
    filterset_class = filters.OrderFilter
    search_fields = ["external_id"]
    ordering_fields = ["placed_at", "external_id", "id"]

    @extend_schema(
        summary="Create or update orders with their lines",
        description=bulk_bodies.ORDERS_DESCRIPTION,
        request=serializers.BulkOrdersSerializer,
        responses={201: ImportReportSerializer, 400: serializers.BulkOrderErrorsSerializer},
    )
    @action(
        detail=False, methods=["post"], parser_classes=[JSONParser], serializer_class=serializers.BulkOrdersSerializer
    )
    def bulk(self, request):
        data, parse_error = bulk_bodies.parsed_body(request)
        if parse_error:
            return _rejected([{"row": 0, "column": None, "message": parse_error, "order": None, "line": None}], 1)
        records = bulk_bodies.OrderRecords(data.get("orders") if isinstance(data, Mapping) else None)
        body = self.get_serializer(data=data)
        if not body.is_valid():
            errors = bulk_bodies.order_validation_errors(body.errors, records)
            return _rejected(errors, len(errors))
        frame = bulk_bodies.orders_frame(body.validated_data["orders"])
        try:
            report = run_import(merchant=self.get_merchant(), kind="orders", fmt="orders-csv", frame=frame)
        except ImportFailed as failure:
            errors = bulk_bodies.order_import_errors(failure.report.errors, records)
            return _rejected(errors, failure.report.error_count)
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


class ActivityEventViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(activity_event_list)
    queryset_model = ActivityEvent
    serializer_class = serializers.ActivityEventSerializer
    filterset_class = filters.ActivityEventFilter
    ordering_fields = ["occurred_at", "id"]

    @extend_schema(
        summary="Append activity events",
        description=bulk_bodies.ACTIVITY_DESCRIPTION,
        request=serializers.BulkActivitySerializer,
        responses={201: ImportReportSerializer, 400: RowErrorsSerializer},
    )
    @action(
        detail=False, methods=["post"], parser_classes=[JSONParser], serializer_class=serializers.BulkActivitySerializer
    )
    def bulk(self, request):
        data, parse_error = bulk_bodies.parsed_body(request)
        if parse_error:
            return _rejected([{"row": 0, "column": None, "message": parse_error}], 1)
        body = self.get_serializer(data=data)
        if not body.is_valid():
            errors = bulk_bodies.activity_validation_errors(body.errors)
            return _rejected(errors, len(errors))
        frame = bulk_bodies.activity_frame(body.validated_data["events"])
        try:
            report = run_import(merchant=self.get_merchant(), kind="activity", fmt="activity-csv", frame=frame)
        except ImportFailed as failure:
            errors = bulk_bodies.activity_import_errors(failure.report.errors)
            return _rejected(errors, failure.report.error_count)
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


class CampaignViewSet(MerchantModelViewSet):
    selector = staticmethod(campaign_list)
    queryset_model = Campaign
    serializer_class = serializers.CampaignSerializer
    filterset_class = filters.CampaignFilter
    search_fields = ["external_id", "name"]
    ordering_fields = ["starts_on", "ends_on", "name", "external_id", "id"]

    # A campaign written through the API gets its pre-campaign forecast queued, as one saved in the planner does.
    # (A model signal would queue one per row of a campaign import.) Imported here: customers sits below the
    # pipeline that composes the apps.
    def perform_create(self, serializer):
        super().perform_create(serializer)
        self._plan(serializer.instance)

    def perform_update(self, serializer):
        super().perform_update(serializer)
        self._plan(serializer.instance)

    def _plan(self, campaign: Campaign) -> None:
        from ecomforecast.pipeline import campaign_plan_after_save

        campaign_plan_after_save(merchant=self.get_merchant(), campaign=campaign)
