"""Inventory endpoints: each viewset names its selector, serializer and filters; the bases scope to the merchant."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from ecomforecast.api.csv import csv_response
from ecomforecast.api.viewsets import MerchantModelViewSet, MerchantReadOnlyViewSet
from inventory import services
from inventory.api import filters, serializers
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    ReorderLine,
    ReorderPlan,
    ReplenishmentSettings,
    StockLevel,
    Supplier,
    SupplierProduct,
)
from inventory.selectors import (
    EXPORT_COLUMNS,
    category_list,
    product_list,
    purchase_order_list,
    reorder_line_list,
    reorder_plan_export_rows,
    reorder_plan_latest,
    reorder_plan_list,
    replenishment_settings_list,
    stock_level_list,
    supplier_list,
    supplier_product_list,
)


class CategoryViewSet(MerchantModelViewSet):
    selector = staticmethod(category_list)
    queryset_model = Category
    serializer_class = serializers.CategorySerializer
    filterset_class = filters.CategoryFilter
    search_fields = ["name"]
    ordering_fields = ["name", "id"]


class ProductViewSet(MerchantModelViewSet):
    selector = staticmethod(product_list)
    queryset_model = Product
    serializer_class = serializers.ProductSerializer
    filterset_class = filters.ProductFilter
    search_fields = ["sku", "name"]
    ordering_fields = ["sku", "name", "price", "created_at", "updated_at", "id"]


class SupplierViewSet(MerchantModelViewSet):
    selector = staticmethod(supplier_list)
    queryset_model = Supplier
    serializer_class = serializers.SupplierSerializer
    filterset_class = filters.SupplierFilter
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "lead_time_mean_days", "id"]


class SupplierProductViewSet(MerchantModelViewSet):
    selector = staticmethod(supplier_product_list)
    queryset_model = SupplierProduct
    serializer_class = serializers.SupplierProductSerializer
    filterset_class = filters.SupplierProductFilter
    search_fields = ["product__sku", "supplier_sku"]
    ordering_fields = ["product__sku", "supplier__code", "id"]


class StockLevelViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(stock_level_list)
    queryset_model = StockLevel
    serializer_class = serializers.StockLevelSerializer
    filterset_class = filters.StockLevelFilter
    ordering_fields = ["date", "product__sku", "on_hand", "id"]


class PurchaseOrderViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(purchase_order_list)
    queryset_model = PurchaseOrder
    serializer_class = serializers.PurchaseOrderSerializer
    filterset_class = filters.PurchaseOrderFilter
    search_fields = ["external_id"]
    ordering_fields = ["ordered_at", "expected_at", "received_at", "external_id", "id"]


class ReplenishmentSettingsViewSet(MerchantModelViewSet):
    selector = staticmethod(replenishment_settings_list)
    queryset_model = ReplenishmentSettings
    serializer_class = serializers.ReplenishmentSettingsSerializer
    filterset_class = filters.ReplenishmentSettingsFilter
    ordering_fields = ["id"]


@extend_schema_view(
    list=extend_schema(description="Reorder plans, newest first; one per sales forecast run."),
    retrieve=extend_schema(description="A plan's totals; its lines are under lines/."),
)
class ReorderPlanViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(reorder_plan_list)
    queryset_model = ReorderPlan
    serializer_class = serializers.ReorderPlanSerializer
    filterset_class = filters.ReorderPlanFilter
    ordering_fields = ["created_at", "plan_date", "id"]

    @extend_schema(responses={200: serializers.ReorderPlanSerializer, 404: None})
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def latest(self, request):
        plan = reorder_plan_latest(merchant=self.get_merchant())
        if plan is None:
            return Response({"detail": "No reorder plan yet."}, status=status.HTTP_404_NOT_FOUND)
        return Response(serializers.ReorderPlanSerializer(plan).data)

    @extend_schema(
        request=serializers.ReorderApproveSerializer,
        responses={200: serializers.ReorderPlanSerializer, 400: None},
        description="Approve lines (default: every ordering line within the budget), optionally setting their "
        "final quantities first and creating one draft purchase order per supplier.",
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def approve(self, request, pk=None):
        plan = self.get_object()
        payload = serializers.ReorderApproveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        merchant = self.get_merchant()
        try:
            plan = services.reorder_plan_approve(
                merchant=merchant,
                plan=plan,
                line_ids=payload.validated_data.get("lines"),
                quantities=payload.validated_data.get("quantities"),
            )
        except ValueError as error:
            return Response({"lines": [str(error)]}, status=status.HTTP_400_BAD_REQUEST)
        if payload.validated_data["create_purchase_orders"]:
            services.purchase_orders_create_from_plan(merchant=merchant, plan=plan)
            plan.refresh_from_db()
        return Response(serializers.ReorderPlanSerializer(plan).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("supplier", OpenApiTypes.INT, description="only this supplier's lines"),
            OpenApiParameter("status", OpenApiTypes.STR, description="proposed, approved or ordered"),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
        description="The plan's ordering lines as a supplier order file: " + ", ".join(EXPORT_COLUMNS) + ".",
    )
    @action(detail=True, methods=["get"], url_path="export.csv", filterset_class=None, pagination_class=None)
    def export_csv(self, request, pk=None):
        plan = self.get_object()
        supplier = request.query_params.get("supplier")
        if supplier is not None and not supplier.isdigit():
            return Response({"supplier": ["A whole number is required."]}, status=status.HTTP_400_BAD_REQUEST)
        line_status = request.query_params.get("status") or None
        if line_status is not None and line_status not in ReorderLine.Status.values:
            return Response({"status": [f"One of {', '.join(ReorderLine.Status.values)}."]}, status=400)
        rows = reorder_plan_export_rows(
            merchant=self.get_merchant(),
            plan=plan,
            supplier_id=int(supplier) if supplier else None,
            status=line_status,
        )
        return csv_response(rows, columns=EXPORT_COLUMNS, filename=f"reorder-plan-{plan.pk}.csv")


class ReorderLineViewSet(MerchantReadOnlyViewSet):
    """Plan lines: every plan's under /reorder-lines/?plan=, one plan's in priority order under
    /reorder-plans/{id}/lines/ (an unknown or foreign plan id is a 404 there)."""

    queryset_model = ReorderLine
    serializer_class = serializers.ReorderLineSerializer
    filterset_class = filters.ReorderLineFilter
    ordering_fields = ["priority", "revenue_at_risk", "cash_needed", "order_by", "stockout_p50", "product__sku"]

    def selector(self, *, merchant):
        plan_pk = self.kwargs.get("plan_pk")
        if plan_pk is None:
            return reorder_line_list(merchant=merchant)
        plan = get_object_or_404(reorder_plan_list(merchant=merchant), pk=plan_pk)
        return reorder_line_list(merchant=merchant, plan=plan)


@extend_schema_view(export_csv=extend_schema(exclude=True))
class ReorderPlanExportFileViewSet(ReorderPlanViewSet):
    """.../export.csv without the trailing slash, as a file URL is written; the schema documents the router's."""
