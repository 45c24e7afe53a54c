"""Writes on the catalogue, suppliers, stock levels and purchase orders, and reorder plans.

The bulk upserts take a pandas frame with natural keys already resolved to ids where the docstring says so,
write it set-based (see :mod:`ecomforecast.importing.upsert`) and report what was created, updated or left
unchanged. They are what the importers and any other bulk writer (API bulk endpoints, demo data) call.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction
from django.utils import timezone

from ecomforecast.importing.lookups import ids_by
from ecomforecast.importing.upsert import On, UpsertResult, bulk_upsert
from forecasting.selectors import forecast_cumulative_by_product, forecast_run_succeeded
from inventory import io as inventory_io
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    ReorderLine,
    ReorderPlan,
    ReplenishmentSettings,
    StockLevel,
    Supplier,
    SupplierProduct,
)
from inventory.policy.budget import BudgetCandidate, prioritise_within_budget
from inventory.policy.decision import OrderDecision, PolicySettings, decide_order, required_horizon
from inventory.policy.paths import paths_from_cumulative_quantiles

PRODUCT_COLUMNS = ("name", "category_id", "price", "unit_cost", "active")


@transaction.atomic
def categories_ensure(*, merchant, names: Iterable[str]) -> dict[str, int]:
    """{name: id} for the given category names, creating the missing ones."""
    wanted = {name for name in names if name}
    existing = ids_by(model=Category, merchant=merchant, column="name", values=wanted)
    missing = wanted - existing.keys()
    if missing:
        Category.objects.bulk_create(
            [Category(merchant=merchant, name=name) for name in sorted(missing)], ignore_conflicts=True
        )
        existing.update(ids_by(model=Category, merchant=merchant, column="name", values=missing))
    return existing


@transaction.atomic
def products_upsert(*, merchant, rows: pd.DataFrame, keep_existing: bool = False) -> UpsertResult:
    """Upserts products by SKU; returns their ids (``ids``: sku, id).

    ``rows`` has ``sku`` and any of name, category (a name; created when missing), price, unit_cost, active.
    With ``keep_existing`` (products discovered in an order file) values already set on a product are kept and
    only blanks are filled, so order history never overwrites the merchant's catalogue.
    """
    frame = rows.copy()
    if "category" in frame.columns:
        category_ids = categories_ensure(merchant=merchant, names=frame["category"].unique())
        frame["category_id"] = frame.pop("category").map(category_ids).astype("Int64")
    frame["merchant_id"] = merchant.pk
    policy = On.FILL if keep_existing else On.OVERWRITE
    update = {column: policy for column in PRODUCT_COLUMNS if column in frame.columns}
    if keep_existing:
        update.pop("active", None)
    return bulk_upsert(model=Product, frame=frame, key=["merchant_id", "sku"], update=update, with_ids=True)


@transaction.atomic
def suppliers_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts suppliers by code: code, name, lead_time_mean_days, lead_time_std_days, order_cost, currency."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {column: On.OVERWRITE for column in frame.columns if column not in {"merchant_id", "code"}}
    return bulk_upsert(model=Supplier, frame=frame, key=["merchant_id", "code"], update=update, with_ids=True)


@transaction.atomic
def supplier_products_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts supplier terms by (supplier_id, product_id): supplier_sku, min_order_qty, pack_size, unit_cost,
    lead_time_days (ids must be the merchant's)."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {
        column: On.OVERWRITE for column in frame.columns if column not in {"merchant_id", "supplier_id", "product_id"}
    }
    return bulk_upsert(model=SupplierProduct, frame=frame, key=["supplier_id", "product_id"], update=update)


@transaction.atomic
def stock_levels_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts end-of-day on-hand units by (product_id, date): product_id, date, on_hand."""
    frame = rows.assign(merchant_id=merchant.pk)
    return bulk_upsert(model=StockLevel, frame=frame, key=["product_id", "date"], update={"on_hand": On.OVERWRITE})


@transaction.atomic
def purchase_orders_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts purchase orders by external_id: external_id, supplier_id, status, ordered_at, expected_at,
    received_at; returns their ids (``ids``: external_id, id)."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {column: On.OVERWRITE for column in frame.columns if column not in {"merchant_id", "external_id"}}
    return bulk_upsert(
        model=PurchaseOrder, frame=frame, key=["merchant_id", "external_id"], update=update, with_ids=True
    )


@transaction.atomic
def purchase_order_lines_upsert(*, merchant, rows: pd.DataFrame) -> UpsertResult:
    """Upserts purchase order lines by (purchase_order_id, product_id): quantity, received_quantity, unit_cost."""
    frame = rows.assign(merchant_id=merchant.pk)
    update = {
        column: On.OVERWRITE
        for column in frame.columns
        if column not in {"merchant_id", "purchase_order_id", "product_id"}
    }
    return bulk_upsert(model=PurchaseOrderLine, frame=frame, key=["purchase_order_id", "product_id"], update=update)


def product_ids(*, merchant, skus: Iterable[str]) -> dict[str, int]:
    """{sku: id} of the merchant's products among ``skus``."""
    return ids_by(model=Product, merchant=merchant, column="sku", values=skus)


def supplier_ids(*, merchant, codes: Iterable[str]) -> dict[str, int]:
    return ids_by(model=Supplier, merchant=merchant, column="code", values=codes)


# Reorder plans ---------------------------------------------------------------------------------------------------

# Sample paths rebuilt per SKU from the stored cumulative quantiles; 400 resolve a 99.5% quantile to 2 paths.
PLAN_PATHS = 400
Progress = Callable[[int, int], None]
ASSUMPTION_TEXT = {
    **inventory_io.PLAN_ASSUMPTIONS,
    "beyond_horizon": "demand past the forecast horizon continues at each path's last two weeks' rate",
}


@dataclass(frozen=True)
class PlanSettings:
    service_level: float = PolicySettings.service_level
    review_days: int = PolicySettings.review_days
    holding_cost_rate: float = PolicySettings.holding_cost_rate
    budget: Decimal | None = None

    def policy(self) -> PolicySettings:
        return PolicySettings(
            service_level=self.service_level, review_days=self.review_days, holding_cost_rate=self.holding_cost_rate
        )


def settings_resolve(*, rows: dict[str, dict], product_id: int | None, category_id: int | None) -> PlanSettings:
    """Built-in defaults, overridden by the merchant default, then the category row, then the product row."""
    merged: dict = {}
    merged.update(rows.get("default", {}))
    if category_id is not None:
        merged.update(rows.get("category", {}).get(category_id, {}))
    if product_id is not None:
        merged.update(rows.get("product", {}).get(product_id, {}))
    merged.pop("budget", None)
    return PlanSettings(**merged, budget=rows.get("default", {}).get("budget"))


def reorder_plan_build(*, merchant, forecast_run_id: int, progress: Progress | None = None) -> ReorderPlan:
    """The plan for one succeeded sales forecast run (once: a second call returns the plan already built).

    Per SKU: sample paths rebuilt from the run's cumulative-demand quantiles, the stock position on the plan date
    (the first forecast day), the supplier's terms and the resolved settings go through
    :func:`inventory.policy.decision.decide_order`; ordering lines are then ranked by revenue at risk per unit
    of cash and funded within the merchant's budget. Every number is copied onto the line.
    """
    existing = ReorderPlan.objects.filter(merchant=merchant, forecast_run_id=forecast_run_id).first()
    if existing is not None:
        return existing
    run = forecast_run_succeeded(merchant=merchant, run_id=forecast_run_id)
    today = run.data_cutoff + dt.timedelta(days=1)
    forecasts = forecast_cumulative_by_product(merchant=merchant, run=run)
    items = inventory_io.plan_items(merchant=merchant, product_ids=list(forecasts), today=today)
    settings_rows = inventory_io.replenishment_settings(merchant=merchant)
    defaults = settings_resolve(rows=settings_rows, product_id=None, category_id=None)

    decided: list[tuple[inventory_io.PlanItem, OrderDecision, PlanSettings, dict, list[str]]] = []
    notes: dict[str, int] = {}
    skipped = 0
    for done, item in enumerate(items, start=1):
        levels, days = forecasts[item.product_id]
        if not levels:
            skipped += 1
            continue
        settings = settings_resolve(rows=settings_rows, product_id=item.product_id, category_id=item.category_id)
        table = np.array([[day[f"{level:g}"] for day in days] for level in levels], dtype=float)
        needed = required_horizon(item.terms.lead_time, settings.review_days)
        paths = paths_from_cumulative_quantiles(
            levels, table, n_paths=PLAN_PATHS, horizon=max(needed, table.shape[1]), seed=item.product_id
        )
        decision = decide_order(
            today=today,
            position=item.position,
            paths=paths,
            terms=item.terms,
            settings=settings.policy(),
            seed=item.product_id,
        )
        assumed = list(item.assumed)
        if needed > table.shape[1]:
            assumed.append("beyond_horizon")
        for reason in assumed:
            notes[reason] = notes.get(reason, 0) + 1
        decided.append((item, decision, settings, _projection(today, levels, table, item, decision), assumed))
        if progress and (done % 200 == 0 or done == len(items)):
            progress(done, len(items))
    if skipped:
        notes["no_cumulative_quantiles"] = skipped

    allocation = prioritise_within_budget(
        [
            BudgetCandidate(key=item.product_id, cash_needed=d.cash_needed, revenue_at_risk=d.revenue_at_risk)
            for item, d, *_ in decided
            if d.quantity > 0
        ],
        budget=float(defaults.budget) if defaults.budget is not None else None,
    )
    rank = allocation.priority
    funded = {candidate.key for candidate in allocation.funded}
    # Lines that order nothing follow, the soonest P90 stock-out first.
    later = sorted(
        (entry for entry in decided if entry[0].product_id not in rank),
        key=lambda entry: (entry[1].stockout_p90 or dt.date.max, -entry[1].revenue_at_risk, entry[0].product_id),
    )
    for position, entry in enumerate(later, start=len(rank) + 1):
        rank[entry[0].product_id] = position

    lines = [
        _line(merchant, item, decision, settings, projection, assumed, rank[item.product_id], item.product_id in funded)
        for item, decision, settings, projection, assumed in decided
    ]
    ordering = [line for line in lines if line.final_quantity > 0]
    try:
        with transaction.atomic():
            plan = ReorderPlan.objects.create(
                merchant=merchant,
                forecast_run_id=run.pk,
                plan_date=today,
                budget=defaults.budget,
                settings={
                    "service_level": defaults.service_level,
                    "review_days": defaults.review_days,
                    "holding_cost_rate": defaults.holding_cost_rate,
                    "paths": PLAN_PATHS,
                },
                lines_total=len(lines),
                lines_to_order=len(ordering),
                units_to_order=sum(line.final_quantity for line in ordering),
                cash_needed=_money(sum(float(line.cash_needed) for line in ordering)),
                cash_within_budget=_money(allocation.cash_used),
                revenue_at_risk=_money(sum(float(line.revenue_at_risk) for line in ordering)),
                notes=notes,
            )
            for line in lines:
                line.plan = plan
            ReorderLine.objects.bulk_create(lines, batch_size=2_000)
    except IntegrityError:  # built meanwhile by another worker for the same run
        return ReorderPlan.objects.get(merchant=merchant, forecast_run_id=forecast_run_id)
    return plan


def _line(merchant, item, d: OrderDecision, settings: PlanSettings, projection, assumed, priority, funded):
    explanation = d.explanation
    if assumed:
        explanation += " Assumed: " + "; ".join(ASSUMPTION_TEXT[reason] for reason in assumed) + "."
    return ReorderLine(
        merchant=merchant,
        product_id=item.product_id,
        supplier_id=item.supplier_id,
        urgency=_urgency(d, settings.review_days),
        on_hand=d.on_hand,
        on_order=d.on_order,
        committed=d.committed,
        inventory_position=d.inventory_position,
        stock_known=item.stock_known,
        mean_daily_demand=d.mean_daily_demand,
        lead_time_days_mean=d.lead_time_days_mean,
        lead_time_days_p90=d.lead_time_days_p90,
        lead_time_source=item.terms.lead_time.source if item.supplier_id else "assumed",
        review_days=d.review_days,
        service_level=d.service_level,
        lead_time_demand_p50=d.lead_time_demand_p50,
        lead_time_demand_p90=d.lead_time_demand_p90,
        safety_stock=d.safety_stock,
        reorder_point=d.reorder_point,
        order_up_to=d.order_up_to,
        economic_order_quantity=d.economic_order_quantity if math.isfinite(d.economic_order_quantity) else None,
        suggested_quantity=d.suggested_quantity,
        rounded_quantity=d.quantity,
        final_quantity=d.quantity,
        rounding_reason=str(d.rounded.reason),
        order_by=d.order_by,
        stockout_p50=d.stockout_p50,
        stockout_p90=d.stockout_p90,
        days_of_cover_before=d.days_of_cover_before,
        days_of_cover_after=d.days_of_cover_after,
        unit_cost=_money(item.terms.unit_cost),
        price=_money(item.terms.price),
        cash_needed=_money(d.cash_needed),
        revenue_at_risk=_money(d.revenue_at_risk),
        priority=priority,
        within_budget=funded or d.quantity == 0,
        explanation=explanation,
        projection=projection,
    )


def _urgency(decision: OrderDecision, review_days: int) -> str:
    if decision.quantity > 0:
        return ReorderLine.Urgency.NOW
    if decision.order_by is None:
        return ReorderLine.Urgency.NONE
    if decision.order_by < decision.today + dt.timedelta(days=review_days):
        return ReorderLine.Urgency.SOON
    return ReorderLine.Urgency.LATER


def _projection(today, levels, table, item, decision: OrderDecision) -> dict:
    """What the product page's projected-stock chart draws: stock available each forecast day (on hand -
    committed + arrivals) without and with the suggested order, against cumulative demand at P50 and P90."""
    level_list = [round(level, 6) for level in levels]
    p50 = np.array([np.interp(0.5, level_list, table[:, k]) for k in range(table.shape[1])])
    p90 = np.array([np.interp(0.9, level_list, table[:, k]) for k in range(table.shape[1])])
    horizon = table.shape[1]
    arrivals = np.zeros(horizon)
    for order in item.position.incoming:
        day = (order.expected_on - today).days
        if 0 <= day < horizon:
            arrivals[day] += order.quantity
    available = item.position.on_hand - item.position.committed + np.cumsum(arrivals)
    with_order = available.copy()
    arrival_day = round(decision.lead_time_days_mean)
    if decision.quantity > 0 and arrival_day < horizon:
        with_order[arrival_day:] += decision.quantity
    return {
        "dates": [(today + dt.timedelta(days=k)).isoformat() for k in range(horizon)],
        "demand_p50": [round(float(value), 2) for value in p50],
        "demand_p90": [round(float(value), 2) for value in p90],
        "available": [round(float(value), 2) for value in available],
        "available_with_order": [round(float(value), 2) for value in with_order],
        "reorder_point": round(decision.reorder_point, 2),
        "order_by": decision.order_by.isoformat() if decision.order_by else None,
    }


def _money(value: float) -> Decimal:
    return Decimal(str(round(float(value), 2)))


@transaction.atomic
def reorder_plan_approve(
    *, merchant, plan: ReorderPlan, line_ids: Iterable[int] | None = None, quantities: dict[int, int] | None = None
) -> ReorderPlan:
    """Approve lines of a draft or approved plan: the given ones, or every ordering line within the budget.

    ``quantities`` sets a line's final quantity first (the merchant overrides the suggestion; 0 drops it).
    Lines already turned into purchase orders are left as they are.
    """
    plan = ReorderPlan.objects.select_for_update().get(merchant=merchant, pk=plan.pk)
    lines = {
        line.pk: line
        for line in ReorderLine.objects.select_for_update().filter(merchant=merchant, plan=plan).order_by("pk")
    }
    quantities = quantities or {}
    unknown = (set(quantities) | set(line_ids or ())) - set(lines)
    if unknown:
        raise ValueError(f"lines not in plan {plan.pk}: {sorted(unknown)}")
    for line_id, quantity in quantities.items():
        line = lines[line_id]
        if line.status == ReorderLine.Status.ORDERED:
            continue
        line.final_quantity = int(quantity)
        line.cash_needed = _money(int(quantity) * float(line.unit_cost))
    chosen = (
        [lines[line_id] for line_id in line_ids]
        if line_ids is not None
        else [line for line in lines.values() if line.within_budget and line.final_quantity > 0]
    )
    for line in chosen:
        if line.status == ReorderLine.Status.PROPOSED and line.final_quantity > 0:
            line.status = ReorderLine.Status.APPROVED
    ReorderLine.objects.bulk_update(list(lines.values()), ["final_quantity", "cash_needed", "status"])
    if plan.status == ReorderPlan.Status.DRAFT and any(
        line.status == ReorderLine.Status.APPROVED for line in lines.values()
    ):
        plan.status = ReorderPlan.Status.APPROVED
        plan.approved_at = timezone.now()
        plan.save(update_fields=["status", "approved_at"])
    return plan


@transaction.atomic
def purchase_orders_create_from_plan(*, merchant, plan: ReorderPlan) -> list[PurchaseOrder]:
    """One draft purchase order per supplier with the plan's approved lines (lines without a supplier stay
    approved for the merchant to place by hand). Calling it again creates nothing new."""
    plan = ReorderPlan.objects.select_for_update().get(merchant=merchant, pk=plan.pk)
    approved = list(
        ReorderLine.objects.select_for_update()
        .filter(merchant=merchant, plan=plan, status=ReorderLine.Status.APPROVED, supplier__isnull=False)
        .select_related("supplier")
        .order_by("supplier_id", "priority")
    )
    by_supplier: dict[int, list[ReorderLine]] = {}
    for line in approved:
        by_supplier.setdefault(line.supplier_id, []).append(line)
    orders = []
    for lines in by_supplier.values():
        supplier = lines[0].supplier
        lead = max(line.lead_time_days_mean for line in lines)
        order, _created = PurchaseOrder.objects.get_or_create(
            merchant=merchant,
            external_id=f"RP{plan.pk}-{supplier.code}"[:64],
            defaults={
                "supplier": supplier,
                "status": PurchaseOrder.Status.DRAFT,
                "expected_at": plan.plan_date + dt.timedelta(days=math.ceil(lead)),
            },
        )
        PurchaseOrderLine.objects.bulk_create(
            [
                PurchaseOrderLine(
                    merchant=merchant,
                    purchase_order=order,
                    product_id=line.product_id,
                    quantity=line.final_quantity,
                    unit_cost=line.unit_cost,
                )
                for line in lines
            ],
            ignore_conflicts=True,
        )
        for line in lines:
            line.status = ReorderLine.Status.ORDERED
            line.purchase_order = order
        orders.append(order)
    ReorderLine.objects.bulk_update(approved, ["status", "purchase_order"])
    if (
        orders
        and not ReorderLine.objects.filter(merchant=merchant, plan=plan, status=ReorderLine.Status.APPROVED).exists()
    ):
        plan.status = ReorderPlan.Status.ORDERED
        plan.save(update_fields=["status"])
    return orders


@transaction.atomic
def replenishment_budget_set(*, merchant, budget: Decimal | None) -> ReplenishmentSettings:
    """Sets the merchant-wide cash limit per plan on the merchant default settings row (None: no limit).

    The next plan is funded within it; plans already built keep the budget they were made with.
    """
    if budget is not None and budget < 0:
        raise ValueError("The budget cannot be negative.")
    settings, _created = ReplenishmentSettings.objects.select_for_update().get_or_create(
        merchant=merchant, category=None, product=None
    )
    settings.budget = budget
    settings.save(update_fields=["budget", "updated_at"])
    return settings
