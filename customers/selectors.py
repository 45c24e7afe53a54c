"""Reads of a merchant's customers, orders, activity and campaigns; every query is merchant-scoped."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.models import Merchant
from inventory.models import Category, Product


def customer_list(*, merchant: Merchant) -> QuerySet[Customer]:
    return Customer.objects.filter(merchant=merchant)


def order_list(*, merchant: Merchant) -> QuerySet[Order]:
    lines = OrderLine.objects.filter(merchant=merchant).select_related("product")
    return (
        Order.objects.filter(merchant=merchant)
        .select_related("customer")
        .prefetch_related(Prefetch("lines", queryset=lines))
    )


def order_line_list(*, merchant: Merchant) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(merchant=merchant).select_related("order", "product")


def activity_event_list(*, merchant: Merchant) -> QuerySet[ActivityEvent]:
    return ActivityEvent.objects.filter(merchant=merchant).select_related("customer", "product")


def campaign_list(*, merchant: Merchant) -> QuerySet[Campaign]:
    return Campaign.objects.filter(merchant=merchant).prefetch_related(
        Prefetch("products", queryset=Product.objects.filter(merchant=merchant).order_by("sku")),
        Prefetch("categories", queryset=Category.objects.filter(merchant=merchant).order_by("name")),
    )
