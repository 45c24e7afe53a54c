"""Reads of a merchant's customers, orders, activity and campaigns; every query is merchant-scoped."""

from __future__ import annotations

from django.db.models import Case, DecimalField, ExpressionWrapper, F, IntegerField, Prefetch, QuerySet, When

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


# Demand: what the sales figures, charts and forecasts all count.
AMOUNT = DecimalField(max_digits=20, decimal_places=4)


def _line_value(lines: str):
    return ExpressionWrapper(
        F(f"{lines}quantity") * F(f"{lines}unit_price") - F(f"{lines}discount"), output_field=AMOUNT
    )


def net_units_expression(lines: str = "") -> Case:
    """Units sold, with returned units subtracted; `lines` is the path to the order lines ("" on OrderLine)."""
    return Case(
        When(**{f"{lines}kind": OrderLine.Kind.RETURN}, then=-F(f"{lines}quantity")),
        default=F(f"{lines}quantity"),
        output_field=IntegerField(),
    )


def net_revenue_expression(lines: str = "") -> Case:
    """Line value after discount, with returned lines subtracted; `lines` as in net_units_expression."""
    return Case(
        When(**{f"{lines}kind": OrderLine.Kind.RETURN}, then=-_line_value(lines)),
        default=_line_value(lines),
        output_field=AMOUNT,
    )


def counted_lines(*, merchant: Merchant):
    """Order lines that count as demand: a cancelled order sold nothing."""
    return OrderLine.objects.filter(merchant=merchant).exclude(order__status=Order.Status.CANCELLED)
