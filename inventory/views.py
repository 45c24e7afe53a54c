"""Merchant UI for the catalogue: product list with search, and a product page with its sales history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from customers.models import Order, OrderLine
from customers.selectors import counted_lines, net_revenue_expression, net_units_expression, order_line_list
from ecomforecast.charts import Frequency, product_sales_figure, sales_over_time, stock_history
from ecomforecast.models import Merchant
from ecomforecast.views import MerchantPageMixin
from inventory.models import Product, StockLevel
from inventory.selectors import product_list, supplier_product_list

PRODUCT_SORTS = {
    "sku": ("sku",),
    "name": ("name", "sku"),
    "units": (F("units_sold").desc(nulls_last=True), "sku"),
    "recent": (F("last_sold_at").desc(nulls_last=True), "sku"),
}


@dataclass(frozen=True)
class ProductFigures:
    units_sold: int | None
    last_sold_at: dt.datetime | None
    on_hand: int | None


def products_in_list_order(*, merchant: Merchant, search: str = "", sort: str = "sku") -> QuerySet[Product]:
    """The merchant's products, searched by SKU or name; sorting by sales groups all the merchant's lines once."""
    products = product_list(merchant=merchant)
    if search:
        products = products.filter(Q(sku__icontains=search) | Q(name__icontains=search))
    not_cancelled = ~Q(order_lines__order__status=Order.Status.CANCELLED)
    if sort == "units":
        products = products.annotate(units_sold=Sum(net_units_expression("order_lines__"), filter=not_cancelled))
    elif sort == "recent":
        products = products.annotate(last_sold_at=Max("order_lines__placed_at", filter=not_cancelled))
    return products.order_by(*PRODUCT_SORTS.get(sort, PRODUCT_SORTS["sku"]))


def product_figures(*, merchant: Merchant, product_ids: list[int]) -> dict[int, ProductFigures]:
    """Net units sold, last sale and latest on-hand of a page of products, in two queries."""
    sales = {
        row["product_id"]: row
        for row in counted_lines(merchant=merchant)
        .filter(product_id__in=product_ids)
        .values("product_id")
        .annotate(units=Sum(net_units_expression()), last=Max("placed_at"))
    }
    latest_stock = StockLevel.objects.filter(merchant=merchant, product=OuterRef("pk")).order_by("-date")
    on_hand = dict(
        Product.objects.filter(merchant=merchant, pk__in=product_ids)
        .annotate(on_hand=Subquery(latest_stock.values("on_hand")[:1]))
        .values_list("pk", "on_hand")
    )
    return {
        pk: ProductFigures(
            units_sold=sales.get(pk, {}).get("units"),
            last_sold_at=sales.get(pk, {}).get("last"),
            on_hand=on_hand.get(pk),
        )
        for pk in product_ids
    }


class ProductListView(MerchantPageMixin, TemplateView):
    template_name = "inventory/product_list.html"
    section = "products"
    page_size = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        search = self.request.GET.get("q", "").strip()
        sort = self.request.GET.get("sort", "sku")
        if sort not in PRODUCT_SORTS:
            sort = "sku"
        products = products_in_list_order(merchant=merchant, search=search, sort=sort)
        page = Paginator(products, self.page_size).get_page(self.request.GET.get("page"))
        page.object_list = list(page.object_list)
        figures = product_figures(merchant=merchant, product_ids=[product.pk for product in page.object_list])
        for product in page.object_list:
            product.figures = figures[product.pk]
        context.update(
            page=page,
            search=search,
            sort=sort,
            sorts=[("sku", "SKU"), ("name", "Name"), ("units", "Units sold"), ("recent", "Last sold")],
        )
        return context


class ProductDetailView(MerchantPageMixin, TemplateView):
    template_name = "inventory/product_detail.html"
    section = "products"
    recent_lines = 20

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        product = get_object_or_404(product_list(merchant=merchant), pk=kwargs["pk"])
        freq = Frequency.parse(self.request.GET.get("freq"), Frequency.DAY)
        stock = stock_history(merchant=merchant, product=product)
        points = sales_over_time(merchant=merchant, freq=freq, product=product)
        totals = (
            counted_lines(merchant=merchant)
            .filter(product=product)
            .aggregate(
                units=Sum(net_units_expression()),
                revenue=Sum(net_revenue_expression()),
                returned=Sum("quantity", filter=Q(kind=OrderLine.Kind.RETURN)),
                orders=Count("order", distinct=True),
                last_sold_at=Max("placed_at"),
            )
        )
        context.update(
            product=product,
            freq=freq.value,
            has_sales=bool(points),
            sales_chart=product_sales_figure(points, freq=freq, stock=stock),
            latest_stock=stock[-1] if stock else None,
            totals=totals,
            supplier_terms=supplier_product_list(merchant=merchant).filter(product=product),
            recent_lines=order_line_list(merchant=merchant)
            .filter(product=product)
            .select_related("order__customer")
            .order_by("-placed_at", "-pk")[: self.recent_lines],
        )
        return context
