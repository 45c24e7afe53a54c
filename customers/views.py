"""Merchant UI for customers: a searchable list with order figures, and a customer's order timeline."""

from __future__ import annotations

from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import Count, DecimalField, F, IntegerField, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from customers.models import Customer, Order, OrderLine
from customers.selectors import customer_list, order_list
from ecomforecast.charts import AMOUNT, counted_lines, net_revenue_expression, order_values_figure
from ecomforecast.models import Merchant
from ecomforecast.views import MerchantPageMixin

CUSTOMER_SORTS = {
    "recent": (F("last_order_at").desc(nulls_last=True), "external_id"),
    "revenue": (F("revenue").desc(nulls_last=True), "external_id"),
    "orders": (F("orders_count").desc(nulls_last=True), "external_id"),
    "id": ("external_id",),
}


def customers_with_orders(*, merchant: Merchant, search: str = "", sort: str = "recent") -> QuerySet[Customer]:
    """Customers with their sale-order count, last order and net revenue; one query per page.

    The figures are reached through each customer of the merchant, so they stay within the merchant; filtering
    them by merchant again would steer the database to the merchant-wide index instead of the customer one.
    """
    customer_orders = Order.objects.filter(customer=OuterRef("pk")).values("customer")
    customer_lines = (
        OrderLine.objects.filter(order__customer=OuterRef("pk"))
        .exclude(order__status=Order.Status.CANCELLED)
        .values("order__customer")
    )
    customers = customer_list(merchant=merchant).annotate(
        orders_count=Coalesce(
            Subquery(
                customer_orders.filter(kind=Order.Kind.SALE).annotate(n=Count("pk")).values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
        last_order_at=Subquery(customer_orders.annotate(last=Max("placed_at")).values("last")),
        revenue=Subquery(
            customer_lines.annotate(total=Sum(net_revenue_expression())).values("total"), output_field=AMOUNT
        ),
    )
    if search:
        customers = customers.filter(
            Q(external_id__icontains=search) | Q(email__icontains=search) | Q(name__icontains=search)
        )
    return customers.order_by(*CUSTOMER_SORTS.get(sort, CUSTOMER_SORTS["recent"]))


class CustomerListView(MerchantPageMixin, TemplateView):
    template_name = "customers/customer_list.html"
    section = "customers"
    page_size = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        search = self.request.GET.get("q", "").strip()
        sort = self.request.GET.get("sort", "recent")
        if sort not in CUSTOMER_SORTS:
            sort = "recent"
        customers = customers_with_orders(merchant=self.request.merchant, search=search, sort=sort)
        context.update(
            page=Paginator(customers, self.page_size).get_page(self.request.GET.get("page")),
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
        line_value = Coalesce(Sum(net_revenue_expression()), Decimal(0), output_field=AMOUNT)
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
        summary = counted_lines(merchant=merchant).filter(order__customer=customer).aggregate(revenue=line_value)
        summary.update(
            Order.objects.filter(merchant=merchant, customer=customer).aggregate(
                sales=Count("pk", filter=Q(kind=Order.Kind.SALE)),
                returns=Count("pk", filter=Q(kind=Order.Kind.RETURN)),
                first_order_at=Min("placed_at"),
                last_order_at=Max("placed_at"),
            )
        )
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
