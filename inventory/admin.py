"""Staff admin for catalogue, suppliers, stock levels and purchase orders of every merchant."""

from __future__ import annotations

from django.contrib import admin

from ecomforecast.admin import MerchantInlineParentAdmin, MerchantOwnedAdmin, MerchantOwnedInline
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
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
