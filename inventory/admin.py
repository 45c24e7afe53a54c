"""Staff admin for catalogue, suppliers, stock levels, purchase orders and reorder plans of every merchant."""

from __future__ import annotations

from django.contrib import admin, messages

from ecomforecast.admin import MerchantInlineParentAdmin, MerchantOwnedAdmin, MerchantOwnedInline
from ecomforecast.api.csv import csv_response
from inventory import selectors, services
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    ReorderLine,
    ReorderPlan,
    ReplenishmentSettings,
    StockLevel,
    Supplier,
    SupplierProduct,
)


@admin.register(Category)
class CategoryAdmin(MerchantOwnedAdmin):
    list_display = ("name", "parent", "merchant")
    search_fields = ("name",)
    list_select_related = ("merchant", "parent")
    autocomplete_fields = ("merchant", "parent")


class SupplierProductInline(MerchantOwnedInline):
    model = SupplierProduct
    fk_name = "product"
    autocomplete_fields = ("supplier",)


@admin.register(Product)
class ProductAdmin(MerchantInlineParentAdmin):
    list_display = ("sku", "name", "category", "price", "unit_cost", "active", "merchant", "updated_at")
    list_filter = ("merchant", "active")
    search_fields = ("sku", "name")
    list_select_related = ("merchant", "category")
    autocomplete_fields = ("merchant", "category")
    inlines = (SupplierProductInline,)


@admin.register(Supplier)
class SupplierAdmin(MerchantOwnedAdmin):
    list_display = ("code", "name", "lead_time_mean_days", "lead_time_std_days", "order_cost", "currency", "merchant")
    list_filter = ("merchant", "currency")
    search_fields = ("code", "name")


@admin.register(SupplierProduct)
class SupplierProductAdmin(MerchantOwnedAdmin):
    list_display = (
        "supplier",
        "product",
        "supplier_sku",
        "lead_time_days",
        "min_order_qty",
        "pack_size",
        "unit_cost",
        "is_primary",
        "merchant",
    )
    list_filter = ("merchant", "is_primary")
    search_fields = ("product__sku", "product__name", "supplier__name", "supplier_sku")
    list_select_related = ("merchant", "supplier", "product")
    autocomplete_fields = ("merchant", "supplier", "product")


@admin.register(StockLevel)
class StockLevelAdmin(MerchantOwnedAdmin):
    list_display = ("product", "date", "on_hand", "merchant")
    search_fields = ("product__sku",)
    list_select_related = ("merchant", "product")
    autocomplete_fields = ("merchant", "product")
    date_hierarchy = "date"


class PurchaseOrderLineInline(MerchantOwnedInline):
    model = PurchaseOrderLine
    autocomplete_fields = ("product",)


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(MerchantInlineParentAdmin):
    list_display = ("external_id", "supplier", "status", "ordered_at", "expected_at", "received_at", "merchant")
    list_filter = ("merchant", "status")
    search_fields = ("external_id", "supplier__name", "supplier__code")
    list_select_related = ("merchant", "supplier")
    autocomplete_fields = ("merchant", "supplier")
    date_hierarchy = "ordered_at"
    inlines = (PurchaseOrderLineInline,)


@admin.register(PurchaseOrderLine)
class PurchaseOrderLineAdmin(MerchantOwnedAdmin):
    list_display = ("purchase_order", "product", "quantity", "received_quantity", "unit_cost", "merchant")
    search_fields = ("purchase_order__external_id", "product__sku")
    list_select_related = ("merchant", "purchase_order", "product")
    autocomplete_fields = ("merchant", "purchase_order", "product")


@admin.register(ReplenishmentSettings)
class ReplenishmentSettingsAdmin(MerchantOwnedAdmin):
    list_display = ("__str__", "service_level", "review_days", "holding_cost_rate", "budget", "merchant")
    list_select_related = ("merchant", "category", "product")
    autocomplete_fields = ("merchant", "category", "product")


@admin.register(ReorderPlan)
class ReorderPlanAdmin(MerchantOwnedAdmin):
    list_display = (
        "plan_date",
        "merchant",
        "status",
        "forecast_run_id",
        "lines_to_order",
        "units_to_order",
        "cash_needed",
        "cash_within_budget",
        "revenue_at_risk",
        "created_at",
    )
    list_filter = ("merchant", "status")
    date_hierarchy = "plan_date"
    readonly_fields = [field.name for field in ReorderPlan._meta.fields]
    actions = ("approve_within_budget", "create_purchase_orders", "export_csv")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Approve the lines within budget of the selected plans")
    def approve_within_budget(self, request, queryset) -> None:
        for plan in queryset.select_related("merchant"):
            services.reorder_plan_approve(merchant=plan.merchant, plan=plan)
        messages.success(request, f"{queryset.count()} plan(s) approved.")

    @admin.action(description="Create draft purchase orders from the approved lines")
    def create_purchase_orders(self, request, queryset) -> None:
        created = 0
        for plan in queryset.select_related("merchant"):
            created += len(services.purchase_orders_create_from_plan(merchant=plan.merchant, plan=plan))
        messages.success(request, f"{created} draft purchase order(s) created.")

    @admin.action(description="Export the ordering lines as CSV")
    def export_csv(self, request, queryset):
        rows = []
        for plan in queryset.select_related("merchant").order_by("pk"):
            rows += [
                {"plan": plan.pk, "merchant": plan.merchant.slug, **row}
                for row in selectors.reorder_plan_export_rows(merchant=plan.merchant, plan=plan)
            ]
        return csv_response(rows, columns=("plan", "merchant", *selectors.EXPORT_COLUMNS), filename="reorder-plans.csv")


@admin.register(ReorderLine)
class ReorderLineAdmin(MerchantOwnedAdmin):
    list_display = (
        "product",
        "plan",
        "supplier",
        "urgency",
        "status",
        "priority",
        "final_quantity",
        "order_by",
        "needed_by",
        "stockout_p50",
        "cash_needed",
        "revenue_at_risk",
        "within_budget",
        "merchant",
    )
    list_filter = ("merchant", "urgency", "status", "within_budget", "supplier")
    search_fields = ("product__sku", "product__name", "supplier__code")
    list_select_related = ("merchant", "product", "plan", "supplier")
    readonly_fields = [field.name for field in ReorderLine._meta.fields if field.name != "final_quantity"]
    raw_id_fields = ("plan", "product")
    actions = ("approve",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Approve the selected lines")
    def approve(self, request, queryset) -> None:
        by_plan: dict[int, list[int]] = {}
        for line in queryset.only("pk", "plan_id"):
            by_plan.setdefault(line.plan_id, []).append(line.pk)
        for plan in ReorderPlan.objects.filter(pk__in=by_plan).select_related("merchant"):
            services.reorder_plan_approve(merchant=plan.merchant, plan=plan, line_ids=by_plan[plan.pk])
        messages.success(request, f"{queryset.count()} line(s) approved.")
