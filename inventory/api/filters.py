"""Query filters of the inventory endpoints; references filter by raw ids and SKUs, never by lookups that validate."""

from __future__ import annotations

import django_filters as filters

from ecomforecast.api.filters import IdFilter
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


class CategoryFilter(filters.FilterSet):
    name = filters.CharFilter()
    parent = IdFilter(field_name="parent_id")

    class Meta:
        model = Category
        fields = ["name", "parent"]


class ProductFilter(filters.FilterSet):
    sku = filters.CharFilter()
    skus = filters.BaseInFilter(field_name="sku", help_text="comma-separated SKUs")
    category = IdFilter(field_name="category_id")
    category_name = filters.CharFilter(field_name="category__name")
    active = filters.BooleanFilter()

    class Meta:
        model = Product
        fields = ["sku", "skus", "category", "category_name", "active"]


class SupplierFilter(filters.FilterSet):
    code = filters.CharFilter()

    class Meta:
        model = Supplier
        fields = ["code"]


class SupplierProductFilter(filters.FilterSet):
    supplier = IdFilter(field_name="supplier_id")
    supplier_code = filters.CharFilter(field_name="supplier__code")
    product = IdFilter(field_name="product_id")
    sku = filters.CharFilter(field_name="product__sku")

    class Meta:
        model = SupplierProduct
        fields = ["supplier", "supplier_code", "product", "sku"]


class StockLevelFilter(filters.FilterSet):
    product = IdFilter(field_name="product_id")
    sku = filters.CharFilter(field_name="product__sku")
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")
    stocked_out = filters.BooleanFilter(method="filter_stocked_out", help_text="on hand at or below zero")

    class Meta:
        model = StockLevel
        fields = ["product", "sku", "date_from", "date_to", "stocked_out"]

    def filter_stocked_out(self, queryset, name, value):
        return queryset.filter(on_hand__lte=0) if value else queryset.filter(on_hand__gt=0)


class PurchaseOrderFilter(filters.FilterSet):
    external_id = filters.CharFilter()
    supplier = IdFilter(field_name="supplier_id")
    supplier_code = filters.CharFilter(field_name="supplier__code")
    status = filters.ChoiceFilter(choices=PurchaseOrder.Status.choices)
    sku = filters.CharFilter(field_name="lines__product__sku", distinct=True)
    ordered_from = filters.DateFilter(field_name="ordered_at", lookup_expr="gte")
    ordered_to = filters.DateFilter(field_name="ordered_at", lookup_expr="lte")

    class Meta:
        model = PurchaseOrder
        fields = ["external_id", "supplier", "supplier_code", "status", "sku", "ordered_from", "ordered_to"]


class ReplenishmentSettingsFilter(filters.FilterSet):
    category = IdFilter(field_name="category_id")
    product = IdFilter(field_name="product_id")

    class Meta:
        model = ReplenishmentSettings
        fields = ["category", "product"]


class ReorderPlanFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ReorderPlan.Status.choices)
    forecast_run = filters.NumberFilter(field_name="forecast_run_id")

    class Meta:
        model = ReorderPlan
        fields = ["status", "forecast_run"]


class ReorderLineFilter(filters.FilterSet):
    plan = IdFilter(field_name="plan_id")
    supplier = IdFilter(field_name="supplier_id")
    supplier_code = filters.CharFilter(field_name="supplier__code")
    urgency = filters.ChoiceFilter(choices=ReorderLine.Urgency.choices)
    category = IdFilter(field_name="product__category_id")
    status = filters.ChoiceFilter(choices=ReorderLine.Status.choices)
    sku = filters.CharFilter(field_name="product__sku")
    ordering_only = filters.BooleanFilter(method="filter_ordering_only", help_text="only lines that order units")

    class Meta:
        model = ReorderLine
        fields = ["plan", "supplier", "supplier_code", "urgency", "category", "status", "sku", "ordering_only"]

    def filter_ordering_only(self, queryset, name, value):
        return queryset.filter(final_quantity__gt=0) if value else queryset
