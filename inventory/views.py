"""Merchant UI for the catalogue: product list with search, and a product page with its sales history."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from customers.models import OrderLine
from customers.selectors import order_line_list
from ecomforecast.charts import (
    Frequency,
    counted_lines,
    net_revenue_expression,
    net_units_expression,
    product_sales_figure,
    sales_over_time,
    stock_history,
)
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


def products_with_sales(*, merchant: Merchant, search: str = "", sort: str = "sku") -> QuerySet[Product]:
    """Products with net units sold, last sale and latest on-hand stock; one query per page however many rows."""
    product_lines = counted_lines(merchant=merchant).filter(product=OuterRef("pk")).values("product")
    latest_stock = StockLevel.objects.filter(merchant=merchant, product=OuterRef("pk")).order_by("-date")
    products = product_list(merchant=merchant).annotate(
        units_sold=Subquery(
            product_lines.annotate(total=Sum(net_units_expression())).values("total"), output_field=IntegerField()
        ),
        last_sold_at=Subquery(product_lines.annotate(last=Max("placed_at")).values("last")),
        on_hand=Subquery(latest_stock.values("on_hand")[:1]),
    )
    if search:
        products = products.filter(Q(sku__icontains=search) | Q(name__icontains=search))
    return products.order_by(*PRODUCT_SORTS.get(sort, PRODUCT_SORTS["sku"]))


class ProductListView(MerchantPageMixin, TemplateView):
    template_name = "inventory/product_list.html"
    section = "products"
    page_size = 50

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        search = self.request.GET.get("q", "").strip()
        sort = self.request.GET.get("sort", "sku")
        if sort not in PRODUCT_SORTS:
            sort = "sku"
        products = products_with_sales(merchant=self.request.merchant, search=search, sort=sort)
        context.update(
            page=Paginator(products, self.page_size).get_page(self.request.GET.get("page")),
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
