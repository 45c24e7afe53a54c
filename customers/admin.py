"""Staff admin for customers, orders (with their lines), activity events, campaigns and their recipients of every
merchant."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from customers.models import ActivityEvent, Campaign, CampaignRecipient, Customer, Order, OrderLine
from ecomforecast.admin import MerchantInlineParentAdmin, MerchantOwnedAdmin, MerchantOwnedInline


@admin.register(Customer)
class CustomerAdmin(MerchantOwnedAdmin):
    list_display = ("external_id", "name", "email", "country", "first_seen_at", "merchant")
    list_filter = ("merchant", "country")
    search_fields = ("external_id", "email", "name")


class OrderLineInline(MerchantOwnedInline):
    model = OrderLine
    fields = ("line_number", "product", "kind", "quantity", "unit_price", "discount")
    autocomplete_fields = ("product",)


@admin.register(Order)
class OrderAdmin(MerchantInlineParentAdmin):
    list_display = ("external_id", "placed_at", "kind", "status", "channel", "customer", "merchant")
    list_filter = ("merchant", "kind", "status", "channel")
    search_fields = ("external_id", "customer__external_id", "customer__email")
    list_select_related = ("merchant", "customer")
    autocomplete_fields = ("merchant", "customer")
    inlines = (OrderLineInline,)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        for line_form in formset.forms:
            line_form.instance.placed_at = form.instance.placed_at
        super().save_formset(request, form, formset, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Lines carry the order's time for demand scans; moving the order moves them.
        order = form.instance
        OrderLine.objects.filter(order=order).exclude(placed_at=order.placed_at).update(placed_at=order.placed_at)


@admin.register(OrderLine)
class OrderLineAdmin(MerchantOwnedAdmin):
    list_display = ("order", "line_number", "product", "kind", "quantity", "unit_price", "discount", "placed_at")
    list_filter = ("merchant", "kind")
    search_fields = ("order__external_id", "product__sku")
    list_select_related = ("merchant", "order", "product")
    raw_id_fields = ("order", "product")
    autocomplete_fields = ("merchant",)
    # Millions of rows: an exact count(*) per page view is not worth it.
    show_full_result_count = False


@admin.register(ActivityEvent)
class ActivityEventAdmin(MerchantOwnedAdmin):
    list_display = ("occurred_at", "kind", "customer", "product", "session_id", "query", "merchant")
    list_filter = ("merchant", "kind")
    search_fields = ("event_key", "customer__external_id", "session_id")
    list_select_related = ("merchant", "customer", "product")
    raw_id_fields = ("customer", "product")
    autocomplete_fields = ("merchant",)
    show_full_result_count = False


@admin.register(Campaign)
class CampaignAdmin(MerchantOwnedAdmin):
    list_display = (
        "external_id",
        "name",
        "starts_on",
        "ends_on",
        "discount_pct",
        "channel",
        "target_segment",
        "cost",
        "merchant",
    )
    list_filter = ("merchant", "channel")
    search_fields = ("external_id", "name")
    autocomplete_fields = ("merchant", "products", "categories")
    date_hierarchy = "starts_on"


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(MerchantOwnedAdmin):
    list_display = ("campaign", "customer", "group", "sent_on", "merchant")
    list_filter = ("merchant", "group")
    search_fields = ("campaign__external_id", "customer__external_id", "customer__email")
    list_select_related = ("merchant", "campaign", "customer")
    raw_id_fields = ("campaign", "customer")
    autocomplete_fields = ("merchant",)
    show_full_result_count = False
