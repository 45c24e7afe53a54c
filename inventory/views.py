"""Merchant UI for the catalogue and replenishment: product list with search, a product page with its sales
history and projected stock, and the "Order today" page of the latest reorder plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import TemplateView

from customers.models import Order, OrderLine
from customers.selectors import counted_lines, net_revenue_expression, net_units_expression, order_line_list
from ecomforecast.charts import Frequency, product_sales_figure, sales_over_time, stock_history
from ecomforecast.models import Merchant
from ecomforecast.views import MerchantPageMixin
from inventory import services
from inventory.charts import projection_figure
from inventory.models import Product, ReorderLine, ReorderPlan, StockLevel, Supplier
from inventory.policy.budget import BudgetCandidate, prioritise_within_budget
from inventory.policy.rounding import RoundingReason
from inventory.selectors import (
    product_list,
    reorder_line_latest,
    reorder_line_list,
    reorder_plan_latest,
    reorder_plan_list,
    replenishment_settings_list,
    supplier_list,
    supplier_product_list,
)

PRODUCT_SORTS = {
    "sku": ("sku",),
    "name": ("name", "sku"),
    "units": (F("units_sold").desc(nulls_last=True), "sku"),
    "recent": (F("last_sold_at").desc(nulls_last=True), "sku"),
}


ROUNDING_TEXT = {
    RoundingReason.NONE: "as suggested",
    RoundingReason.NO_ORDER: "no order",
    RoundingReason.MINIMUM_ORDER: "raised to the supplier's minimum order",
    RoundingReason.PACK_SIZE: "raised to whole packs",
    RoundingReason.MINIMUM_ORDER_AND_PACK_SIZE: "raised to the supplier's minimum order in whole packs",
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
        reorder_line = reorder_line_latest(merchant=merchant, product=product)
        context.update(
            reorder_line=reorder_line,
            rounding_text=ROUNDING_TEXT.get(reorder_line.rounding_reason, "") if reorder_line else "",
            projection_chart=projection_figure(reorder_line) if reorder_line else None,
        )
        return context


# Order today -------------------------------------------------------------------------------------------------------

ORDER_TODAY_PAGE_SIZE = 100
WATCH_LIST_SHOWN = 50
WATCH_URGENCIES = (ReorderLine.Urgency.SOON, ReorderLine.Urgency.LATER)
URGENCY_CHOICES = [
    ("", "Any urgency"),
    *((value, label) for value, label in ReorderLine.Urgency.choices if value != ReorderLine.Urgency.NONE),
]


def _budget_field() -> forms.DecimalField:
    return forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text="Cash you can spend on this plan; blank: no limit.",
    )


class OrderTodayFilterForm(forms.Form):
    budget = _budget_field()
    supplier = forms.ModelChoiceField(
        queryset=Supplier.objects.none(),
        required=False,
        empty_label="All suppliers",
        widget=forms.Select(attrs={"aria-label": "Supplier"}),
    )
    urgency = forms.ChoiceField(
        choices=URGENCY_CHOICES, required=False, widget=forms.Select(attrs={"aria-label": "Urgency"})
    )

    def __init__(self, *args, merchant: Merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supplier"].queryset = supplier_list(merchant=merchant)


class BudgetForm(forms.Form):
    budget = _budget_field()


@dataclass(frozen=True)
class BudgetFit:
    """Which ordering lines of a plan a budget funds, ranked as the plan ranks them."""

    budget: Decimal | None
    funded: frozenset[int]
    rank: dict[int, int]
    cash_used: Decimal
    cash_total: Decimal
    lines_total: int

    @property
    def deferred_count(self) -> int:
        return self.lines_total - len(self.funded)


@dataclass
class SupplierSection:
    """One supplier's ordering lines on this page, with totals over all its lines in the plan."""

    supplier: Supplier | None
    lines_total: int = 0
    units: int = 0
    cash: Decimal = Decimal(0)
    cash_within_budget: Decimal = Decimal(0)
    revenue_at_risk: Decimal = Decimal(0)
    line_ids: list[int] = field(default_factory=list)
    lines: list[ReorderLine] = field(default_factory=list)


def merchant_default_budget(*, merchant: Merchant) -> Decimal | None:
    row = replenishment_settings_list(merchant=merchant).filter(category__isnull=True, product__isnull=True).first()
    return row.budget if row is not None else None


def plan_budget_fit(*, merchant: Merchant, plan: ReorderPlan, budget: Decimal | None) -> BudgetFit:
    """Funds the plan's ordering lines within ``budget`` exactly as the plan itself was funded (greedy by revenue
    at risk per unit of cash; a line that does not fit is skipped and cheaper lines are still tried), from the
    lines' current quantities and cash, over the whole plan whatever the page is filtered to."""
    rows = list(
        reorder_line_list(merchant=merchant, plan=plan, ordering_only=True).values_list(
            "pk", "cash_needed", "revenue_at_risk"
        )
    )
    allocation = prioritise_within_budget(
        [BudgetCandidate(key=pk, cash_needed=float(cash), revenue_at_risk=float(risk)) for pk, cash, risk in rows],
        budget=float(budget) if budget is not None else None,
    )
    funded = frozenset(candidate.key for candidate in allocation.funded)
    return BudgetFit(
        budget=budget,
        funded=funded,
        rank=allocation.priority,
        cash_used=sum((cash for pk, cash, _risk in rows if pk in funded), Decimal(0)),
        cash_total=sum((cash for _pk, cash, _risk in rows), Decimal(0)),
        lines_total=len(rows),
    )


def supplier_sections(
    *, merchant: Merchant, plan: ReorderPlan, fit: BudgetFit, supplier: Supplier | None, urgency: str | None
) -> list[SupplierSection]:
    """The ordering lines' ids grouped by supplier: groups by revenue at risk (largest first), lines likewise
    inside a group; lines without a supplier last. Totals cover every line of a group."""
    rows = reorder_line_list(
        merchant=merchant,
        plan=plan,
        supplier_id=supplier.pk if supplier else None,
        urgency=urgency or None,
        ordering_only=True,
    ).values_list("pk", "supplier_id", "final_quantity", "cash_needed", "revenue_at_risk")
    by_supplier: dict[int | None, SupplierSection] = {}
    risk_of: dict[int, Decimal] = {}
    for pk, supplier_id, quantity, cash, risk in rows:
        section = by_supplier.setdefault(supplier_id, SupplierSection(supplier=None))
        section.lines_total += 1
        section.units += quantity
        section.cash += cash
        section.revenue_at_risk += risk
        if pk in fit.funded:
            section.cash_within_budget += cash
        section.line_ids.append(pk)
        risk_of[pk] = risk
    suppliers = supplier_list(merchant=merchant).in_bulk([key for key in by_supplier if key is not None])
    for supplier_id, section in by_supplier.items():
        section.supplier = suppliers.get(supplier_id)
        section.line_ids.sort(key=lambda pk: (-risk_of[pk], pk))
    return sorted(
        by_supplier.values(),
        key=lambda section: (section.supplier is None, -section.revenue_at_risk, str(section.supplier or "")),
    )


class OrderTodayView(MerchantPageMixin, View):
    """The latest plan's ordering lines by supplier, funded within a budget the merchant can try out (?budget=),
    with the watch list of products that need no order yet but run out later."""

    section = "order-today"

    def get(self, request: HttpRequest) -> HttpResponse:
        merchant = request.merchant
        plan = reorder_plan_latest(merchant=merchant)
        context = {
            "section": self.section,
            "plan": plan,
            "can_write": request.membership.can_write,
        }
        if plan is None:
            return render(request, "inventory/order_today.html", context)
        form = OrderTodayFilterForm(request.GET, merchant=merchant)
        form.is_valid()
        cleaned = form.cleaned_data
        budget = (
            cleaned["budget"]
            if "budget" in request.GET and "budget" in cleaned
            else merchant_default_budget(merchant=merchant)
        )
        supplier, urgency = cleaned.get("supplier"), cleaned.get("urgency") or None
        fit = plan_budget_fit(merchant=merchant, plan=plan, budget=budget)
        sections = supplier_sections(merchant=merchant, plan=plan, fit=fit, supplier=supplier, urgency=urgency)
        ordered_ids = [pk for section in sections for pk in section.line_ids]
        page = Paginator(ordered_ids, ORDER_TODAY_PAGE_SIZE).get_page(request.GET.get("page"))
        page_ids = list(page.object_list)
        lines = reorder_line_list(merchant=merchant, plan=plan).filter(pk__in=page_ids).defer("projection").in_bulk()
        section_of = {pk: section for section in sections for pk in section.line_ids}
        for pk in page_ids:
            line = lines[pk]
            line.fits_budget = pk in fit.funded
            line.budget_rank = fit.rank[pk]
            section_of[pk].lines.append(line)
        watch = (
            reorder_line_list(merchant=merchant, plan=plan, supplier_id=supplier.pk if supplier else None)
            .filter(final_quantity=0, urgency__in=WATCH_URGENCIES)
            .defer("projection")
            .order_by("order_by", "priority", "pk")
        )
        if urgency:
            watch = watch.filter(urgency=urgency)
        context.update(
            form=form,
            budget_form=BudgetForm(initial={"budget": fit.budget}),
            fit=fit,
            sections=[section for section in sections if section.lines],
            page=page,
            lines_shown=len(ordered_ids),
            watch_lines=list(watch[:WATCH_LIST_SHOWN]),
            watch_count=watch.count(),
            budget_value="" if fit.budget is None else f"{fit.budget:.2f}",
            filtered=bool(supplier or urgency),
        )
        return render(request, "inventory/order_today.html", context, status=400 if form.errors else 200)


class PlanWritePageMixin(MerchantPageMixin):
    """A POST on the Order today page: owners and analysts only; the plan must be the merchant's."""

    section = "order-today"

    def dispatch(self, request: HttpRequest, *args, **kwargs):
        membership = getattr(request, "membership", None)
        if membership is not None and not membership.can_write:
            return render(request, "ecomforecast/forbidden.html", {"section": self.section}, status=403)
        return super().dispatch(request, *args, **kwargs)


def _order_today_url(budget: Decimal | None) -> str:
    return f"{reverse('order-today')}?{urlencode({'budget': '' if budget is None else f'{budget:.2f}'})}"


def _posted_budget(request: HttpRequest) -> tuple[Decimal | None, str | None]:
    """(the posted budget, None), or (None, what is wrong with it)."""
    form = BudgetForm(request.POST)
    if not form.is_valid():
        return None, " ".join(form.errors["budget"])
    return form.cleaned_data["budget"], None


class OrderTodayBudgetView(PlanWritePageMixin, View):
    """Saves the budget being tried as the merchant default, which the next plans are funded within."""

    def post(self, request: HttpRequest) -> HttpResponse:
        budget, error = _posted_budget(request)
        if error:
            messages.error(request, f"Budget not saved: {error}")
            return redirect("order-today")
        services.replenishment_budget_set(merchant=request.merchant, budget=budget)
        currency = request.merchant.currency
        if budget is None:
            messages.success(request, "Default budget cleared: plans fund every line.")
        else:
            messages.success(
                request, f"Default budget set to {budget:,.2f} {currency}; the next plan is funded within it."
            )
        return redirect(_order_today_url(budget))


class OrderTodayApproveView(PlanWritePageMixin, View):
    """Approves the plan's proposed lines that fit the budget shown on the page."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = get_object_or_404(reorder_plan_list(merchant=request.merchant), pk=pk)
        budget, error = _posted_budget(request)
        if error:
            messages.error(request, f"Nothing approved: {error}")
            return redirect("order-today")
        fit = plan_budget_fit(merchant=request.merchant, plan=plan, budget=budget)
        newly = reorder_line_list(merchant=request.merchant, plan=plan, ordering_only=True).filter(
            pk__in=fit.funded, status=ReorderLine.Status.PROPOSED
        )
        approving = newly.aggregate(lines=Count("pk"), cash=Sum("cash_needed"))
        services.reorder_plan_approve(merchant=request.merchant, plan=plan, line_ids=sorted(fit.funded))
        currency = request.merchant.currency
        if approving["lines"]:
            messages.success(
                request,
                f"Approved {approving['lines']} line{'s' if approving['lines'] != 1 else ''} "
                f"({approving['cash']:,.2f} {currency}). Create the draft purchase orders when you are ready.",
            )
        elif fit.funded:
            messages.info(request, "Every line within the budget was already approved.")
        else:
            messages.warning(request, "No line fits this budget: nothing approved.")
        return redirect(_order_today_url(budget))


class OrderTodayPurchaseOrdersView(PlanWritePageMixin, View):
    """Turns the plan's approved lines into one draft purchase order per supplier."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        plan = get_object_or_404(reorder_plan_list(merchant=request.merchant), pk=pk)
        orders = services.purchase_orders_create_from_plan(merchant=request.merchant, plan=plan)
        if orders:
            names = ", ".join(f"{order.external_id} ({order.supplier.name})" for order in orders)
            messages.success(
                request, f"Created {len(orders)} draft purchase order{'s' if len(orders) != 1 else ''}: {names}."
            )
        else:
            messages.warning(request, "No approved line with a supplier to order: approve lines first.")
        budget, error = _posted_budget(request)
        return redirect("order-today") if error or "budget" not in request.POST else redirect(_order_today_url(budget))
