"""Merchant UI for customers: a searchable list with order figures, and a customer's order timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from customers.models import Customer, Order
from customers.selectors import AMOUNT, customer_list, net_revenue_expression, order_list
from ecomforecast.charts import order_values_figure
from ecomforecast.models import Merchant
from ecomforecast.views import MerchantPageMixin

CUSTOMER_SORTS = {
    "recent": (F("last_order_at").desc(nulls_last=True), "external_id"),
    "revenue": (F("revenue").desc(nulls_last=True), "external_id"),
    "orders": (F("orders_count").desc(nulls_last=True), "external_id"),
    "id": ("external_id",),
}


@dataclass(frozen=True)
class CustomerFigures:
    orders_count: int = 0
    returns_count: int = 0
    first_order_at: dt.datetime | None = None
    last_order_at: dt.datetime | None = None
    revenue: Decimal | None = None


def customers_in_list_order(*, merchant: Merchant, search: str = "", sort: str = "recent") -> QuerySet[Customer]:
    """The merchant's customers, searched by id, email or name; sorting by a figure groups the merchant's orders
    (and, for revenue, their lines) once."""
    customers = customer_list(merchant=merchant)
    if search:
        customers = customers.filter(
            Q(external_id__icontains=search) | Q(email__icontains=search) | Q(name__icontains=search)
        )
    if sort == "recent":
        customers = customers.annotate(last_order_at=Max("orders__placed_at"))
    elif sort == "orders":
        customers = customers.annotate(orders_count=Count("orders", filter=Q(orders__kind=Order.Kind.SALE)))
    elif sort == "revenue":
        customers = customers.annotate(
            revenue=Sum(net_revenue_expression("orders__lines__"), filter=~Q(orders__status=Order.Status.CANCELLED))
        )
    return customers.order_by(*CUSTOMER_SORTS.get(sort, CUSTOMER_SORTS["recent"]))


def customer_figures(*, merchant: Merchant, customer_ids: list[int]) -> dict[int, CustomerFigures]:
    """Sale and return orders, first and last order and net revenue (cancelled orders sold nothing) of the given
    customers, in one query driven by the orders' customer index."""
    rows = (
        Order.objects.filter(merchant=merchant, customer_id__in=customer_ids)
        .values("customer_id")
        .annotate(
            orders_count=Count("pk", distinct=True, filter=Q(kind=Order.Kind.SALE)),
            returns_count=Count("pk", distinct=True, filter=Q(kind=Order.Kind.RETURN)),
            first_order_at=Min("placed_at"),
            last_order_at=Max("placed_at"),
            revenue=Sum(net_revenue_expression("lines__"), filter=~Q(status=Order.Status.CANCELLED)),
        )
    )
    figures = {row.pop("customer_id"): CustomerFigures(**row) for row in rows}
    return {pk: figures.get(pk, CustomerFigures()) for pk in customer_ids}


class CustomerListView(MerchantPageMixin, TemplateView):
    template_name = "customers/customer_list.html"
    section = "customers"
    page_size = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        search = self.request.GET.get("q", "").strip()
        sort = self.request.GET.get("sort", "recent")
        if sort not in CUSTOMER_SORTS:
            sort = "recent"
        customers = customers_in_list_order(merchant=merchant, search=search, sort=sort)
        page = Paginator(customers, self.page_size).get_page(self.request.GET.get("page"))
        page.object_list = list(page.object_list)
        figures = customer_figures(merchant=merchant, customer_ids=[customer.pk for customer in page.object_list])
        for customer in page.object_list:
            customer.figures = figures[customer.pk]
        context.update(
            page=page,
            search=search,
            sort=sort,
            sorts=[("recent", "Last order"), ("revenue", "Revenue"), ("orders", "Orders"), ("id", "Customer id")],
        )
        return context


class CustomerDetailView(MerchantPageMixin, TemplateView):
    template_name = "customers/customer_detail.html"
    section = "customers"
    timeline_orders = 100

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        customer = get_object_or_404(customer_list(merchant=merchant), pk=kwargs["pk"])
        orders = list(
            order_list(merchant=merchant)
            .filter(customer=customer)
            .annotate(
                line_count=Count("lines"),
                units=Coalesce(Sum("lines__quantity"), 0),
                value=Coalesce(
                    Sum(
                        (F("lines__quantity") * F("lines__unit_price") - F("lines__discount")),
                        output_field=DecimalField(max_digits=20, decimal_places=4),
                    ),
                    Decimal(0),
                    output_field=AMOUNT,
                ),
            )
            .order_by("-placed_at")[: self.timeline_orders]
        )
        summary = customer_figures(merchant=merchant, customer_ids=[customer.pk])[customer.pk]
        context.update(
            customer=customer,
            orders=orders,
            summary=summary,
            orders_chart=order_values_figure(
                [(order.placed_at, order.value, order.kind == Order.Kind.RETURN) for order in orders],
                currency=merchant.currency,
            ),
        )
        return context
