"""Query filters of the customer endpoints; references filter by raw ids and external ids, never validating them."""

from __future__ import annotations

import django_filters as filters

from customers.models import ActivityEvent, Campaign, Customer, Order
from ecomforecast.api.filters import IdFilter, UtcDateTimeFilter


class CustomerFilter(filters.FilterSet):
    external_id = filters.CharFilter()
    email = filters.CharFilter(lookup_expr="iexact")
    country = filters.CharFilter()

    class Meta:
        model = Customer
        fields = ["external_id", "email", "country"]


class OrderFilter(filters.FilterSet):
    external_id = filters.CharFilter()
    customer = IdFilter(field_name="customer_id")
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    kind = filters.ChoiceFilter(choices=Order.Kind.choices)
    status = filters.ChoiceFilter(choices=Order.Status.choices)
    channel = filters.CharFilter()
    sku = filters.CharFilter(field_name="lines__product__sku", distinct=True, help_text="orders with a line of it")
    placed_from = UtcDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_to = UtcDateTimeFilter(field_name="placed_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = [
            "external_id",
            "customer",
            "customer_external_id",
            "kind",
            "status",
            "channel",
            "sku",
            "placed_from",
            "placed_to",
        ]


class ActivityEventFilter(filters.FilterSet):
    event_key = filters.CharFilter()
    kind = filters.ChoiceFilter(choices=ActivityEvent.Kind.choices)
    customer = IdFilter(field_name="customer_id")
    customer_external_id = filters.CharFilter(field_name="customer__external_id")
    sku = filters.CharFilter(field_name="product__sku")
    session_id = filters.CharFilter()
    occurred_from = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_to = UtcDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = ActivityEvent
        fields = [
            "event_key",
            "kind",
            "customer",
            "customer_external_id",
            "sku",
            "session_id",
            "occurred_from",
            "occurred_to",
        ]


class CampaignFilter(filters.FilterSet):
    external_id = filters.CharFilter()
    channel = filters.CharFilter()
    sku = filters.CharFilter(field_name="products__sku", distinct=True, help_text="campaigns promoting this SKU")
    category = IdFilter(field_name="categories__id", distinct=True)
    running_on = filters.DateFilter(method="filter_running_on", help_text="campaigns running on this date")

    class Meta:
        model = Campaign
        fields = ["external_id", "channel", "sku", "category", "running_on"]

    def filter_running_on(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)
