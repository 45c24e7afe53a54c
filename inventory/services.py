"""Writes on the catalogue, suppliers, stock levels and purchase orders, and reorder plans.

The bulk upserts take a pandas frame with natural keys already resolved to ids where the docstring says so,
write it set-based (see :mod:`ecomforecast.importing.upsert`) and report what was created, updated or left
unchanged. They are what the importers and any other bulk writer (API bulk endpoints, demo data) call.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction
from django.utils import timezone

from ecomforecast.importing.lookups import ids_by
from ecomforecast.importing.upsert import On, UpsertResult, bulk_upsert
from ecomforecast.models import Merchant
from forecasting.campaign_selectors import campaign_stock_needs
from forecasting.selectors import forecast_cumulative_by_product, forecast_run_succeeded
from inventory import io as inventory_io
from inventory.campaign_needs import CampaignStockNeed
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
from inventory.policy.campaign import CampaignRequirement, campaign_requirement
from inventory.policy.decision import OrderDecision, PolicySettings, decide_order, required_horizon
from inventory.policy.paths import paths_from_cumulative_quantiles
from inventory.policy.rounding import RoundedQuantity, round_order_quantity

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
    of cash and funded within the merchant's budget. Every number is copied onto the line. The stock checks of
    planned campaigns already evaluated at the same data cutoff are then applied in the same transaction (see
    :func:`reorder_plan_apply_campaign_needs`), so the plan and the campaign evaluation may finish in either order.
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

    lines = [
        _line(merchant, item, decision, settings, projection, assumed)
        for item, decision, settings, projection, assumed in decided
    ]
    cash_within_budget = _fund_and_rank(lines, budget=defaults.budget)
    try:
        with transaction.atomic():
            # Serialises with reorder_plan_apply_campaign_needs: a campaign evaluation committed before this lock
            # is read below, one committed after it finds this plan.
            Merchant.objects.select_for_update().only("pk").get(pk=merchant.pk)
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
                cash_within_budget=cash_within_budget,
                notes=notes,
                **_plan_totals(lines),
            )
            for line in lines:
                line.plan = plan
            ReorderLine.objects.bulk_create(lines, batch_size=2_000)
            needs = campaign_stock_needs(merchant=merchant, data_cutoff=run.data_cutoff)
            if needs:
                reorder_plan_apply_campaign_needs(merchant=merchant, needs=needs, plan=plan)
                plan.refresh_from_db()
    except IntegrityError:  # built meanwhile by another worker for the same run
        return ReorderPlan.objects.get(merchant=merchant, forecast_run_id=forecast_run_id)
    return plan


def _line(merchant, item, d: OrderDecision, settings: PlanSettings, projection, assumed) -> ReorderLine:
    """The line of one decision; its priority and budget flag are set by _fund_and_rank."""
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
        priority=0,
        explanation=explanation,
        projection=projection,
    )


def _fund_and_rank(lines: Sequence[ReorderLine], *, budget: Decimal | None) -> Decimal:
    """Ranks ordering lines by revenue at risk per unit of cash and funds them within the budget; lines that
    order nothing follow, the soonest P90 stock-out first. Sets each line's priority and within_budget; returns
    the cash funded."""
    ordering = [line for line in lines if line.final_quantity > 0]
    allocation = prioritise_within_budget(
        [
            BudgetCandidate(
                key=line.product_id, cash_needed=float(line.cash_needed), revenue_at_risk=float(line.revenue_at_risk)
            )
            for line in ordering
        ],
        budget=float(budget) if budget is not None else None,
    )
    rank = allocation.priority
    funded = {candidate.key for candidate in allocation.funded}
    later = sorted(
        (line for line in lines if line.product_id not in rank),
        key=lambda line: (line.stockout_p90 or dt.date.max, -line.revenue_at_risk, line.product_id),
    )
    for position, line in enumerate(later, start=len(rank) + 1):
        rank[line.product_id] = position
    for line in lines:
        line.priority = rank[line.product_id]
        line.within_budget = line.product_id in funded or line.final_quantity == 0
    return _money(allocation.cash_used)


def _plan_totals(lines: Sequence[ReorderLine]) -> dict:
    ordering = [line for line in lines if line.final_quantity > 0]
    return {
        "lines_total": len(lines),
        "lines_to_order": len(ordering),
        "units_to_order": sum(line.final_quantity for line in ordering),
        "cash_needed": _money(sum(float(line.cash_needed) for line in ordering)),
        "revenue_at_risk": _money(sum(float(line.revenue_at_risk) for line in ordering)),
    }


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


# Campaign stock check ---------------------------------------------------------------------------------------------

CAMPAIGN_SUMMARY_KEYS = ("applied", "raised", "already_covered", "stale", "no_line", "blocked")
CAMPAIGN_LINE_FIELDS = (
    "suggested_quantity",
    "rounded_quantity",
    "final_quantity",
    "rounding_reason",
    "order_by",
    "needed_by",
    "urgency",
    "days_of_cover_after",
    "cash_needed",
    "revenue_at_risk",
    "explanation",
    "projection",
    "campaign_needs",
)


@transaction.atomic
def reorder_plan_apply_campaign_needs(
    *, merchant, needs: Sequence[CampaignStockNeed], plan: ReorderPlan | None = None
) -> dict:
    """Raises a plan's proposed lines to what planned campaigns need in stock by their start.

    The plan defaults to the merchant's latest draft plan dated on the needs' forecast start; a need counted from
    another day than the plan date does not fit the plan's stock position and is skipped as ``stale`` (all of
    them when no such plan exists). Per need, on the product's line: required units = P90 demand to the
    campaign's end - stock available on its start (the line's projected on hand - committed + open orders due by
    then; past the projection, the whole position). A proposed line ordering less is raised to the requirement
    rounded to the supplier's MOQ and pack size, to be ordered by the start minus the P90 lead time; the
    requirement of a product in several campaigns is the largest, each counted from the same plan date. Each
    campaign keeps one entry in ``campaign_needs``, replaced when applied again, so applying twice changes
    nothing. Approved and ordered lines are never changed: a need they do not cover is counted ``blocked``. A
    product without a line (no forecast in the plan's run) is counted ``no_line``. The budget allocation and the
    plan totals are then redone over the plan's lines as reorder_plan_build does.
    """
    summary: dict = {"plan_id": None, **dict.fromkeys(CAMPAIGN_SUMMARY_KEYS, 0)}
    # Serialises with reorder_plan_build, which reads the needs after taking the same lock.
    Merchant.objects.select_for_update().only("pk").get(pk=merchant.pk)
    if plan is None:
        plan = (
            ReorderPlan.objects.filter(
                merchant=merchant,
                status=ReorderPlan.Status.DRAFT,
                plan_date__in={need.forecast_start for need in needs},
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if plan is None:
            summary["stale"] = len(needs)
            return summary
    plan = ReorderPlan.objects.select_for_update().get(merchant=merchant, pk=plan.pk)
    summary["plan_id"] = plan.pk
    current = sorted(
        (need for need in needs if need.forecast_start == plan.plan_date),
        key=lambda need: (need.product_id, need.starts_on, need.campaign_id),
    )
    summary["stale"] = len(needs) - len(current)
    if not current:
        return summary

    lines = list(ReorderLine.objects.select_for_update().filter(merchant=merchant, plan=plan).order_by("pk"))
    by_product = {line.product_id: line for line in lines}
    rounding = inventory_io.order_rounding_terms(
        merchant=merchant,
        supplier_products=[
            (by_product[need.product_id].supplier_id, need.product_id)
            for need in current
            if need.product_id in by_product
        ],
    )
    bases: dict[int, str] = {}
    for need in current:
        line = by_product.get(need.product_id)
        if line is None:
            summary["no_line"] += 1
            continue
        available = _available_on(line, plan.plan_date, max(need.starts_on, plan.plan_date))
        requirement = campaign_requirement(
            today=plan.plan_date,
            starts_on=need.starts_on,
            demand_mean=need.demand_to_end_mean,
            demand_p90=need.demand_to_end_p90,
            available=available,
            lead_time_days_p90=line.lead_time_days_p90,
        )
        covered = requirement.required_units <= line.final_quantity
        if line.status != ReorderLine.Status.PROPOSED:
            summary["already_covered" if covered else "blocked"] += 1
            continue
        if line.pk not in bases:
            bases[line.pk] = _explanation_base(line)
        _record_campaign_need(line, need, requirement, available)
        if not covered:
            minimum_order, pack_size = rounding[line.product_id]
            _raise_line(
                line,
                round_order_quantity(requirement.required_units, minimum_order=minimum_order, pack_size=pack_size),
            )
        line.revenue_at_risk = max(line.revenue_at_risk, _money(requirement.expected_shortfall * float(line.price)))
        summary["applied"] += 1
        summary["already_covered" if covered else "raised"] += 1

    if not bases:
        return summary
    touched = [line for line in lines if line.pk in bases]
    for line in touched:
        _date_campaign_line(line, plan.plan_date)
        line.cash_needed = _money(line.final_quantity * float(line.unit_cost))
        line.explanation = " ".join([bases[line.pk], *_campaign_sentences(line)])
    ReorderLine.objects.bulk_update(touched, CAMPAIGN_LINE_FIELDS)
    ranked_before = {line.pk: (line.priority, line.within_budget) for line in lines}
    plan.cash_within_budget = _fund_and_rank(lines, budget=plan.budget)
    reranked = [line for line in lines if (line.priority, line.within_budget) != ranked_before[line.pk]]
    ReorderLine.objects.bulk_update(reranked, ["priority", "within_budget"], batch_size=2_000)
    totals = _plan_totals(lines)
    for name, value in totals.items():
        setattr(plan, name, value)
    plan.save(update_fields=["cash_within_budget", *totals])
    return summary


def _available_on(line: ReorderLine, plan_date: dt.date, day: dt.date) -> float:
    """Stock that can serve demand on ``day``: the line's projected on hand - committed + arrivals by then; past
    the projection's horizon, every open order is assumed in (the inventory position)."""
    available = (line.projection or {}).get("available") or []
    index = (day - plan_date).days
    return float(available[index]) if 0 <= index < len(available) else float(line.inventory_position)


def _record_campaign_need(
    line: ReorderLine, need: CampaignStockNeed, requirement: CampaignRequirement, available: float
) -> None:
    entry = {
        "campaign_id": need.campaign_id,
        "name": need.campaign_name,
        "starts_on": need.starts_on.isoformat(),
        "ends_on": need.ends_on.isoformat(),
        "demand_p90": round(need.demand_to_end_p90, 1),
        "demand_mean": round(need.demand_to_end_mean, 1),
        "available": round(available, 1),
        "required_units": requirement.required_units,
        "needed_by": requirement.needed_by.isoformat(),
        "order_by": requirement.order_by.isoformat(),
        "late": requirement.late,
    }
    others = [item for item in line.campaign_needs if item["campaign_id"] != need.campaign_id]
    line.campaign_needs = sorted([*others, entry], key=lambda item: (item["starts_on"], item["campaign_id"]))


def _raise_line(line: ReorderLine, rounded: RoundedQuantity) -> None:
    """Raises a proposed line's order to a campaign's rounded requirement, and the chart's stock with it."""
    line.suggested_quantity = max(line.suggested_quantity, rounded.suggested)
    line.rounded_quantity = rounded.quantity
    line.final_quantity = rounded.quantity
    line.rounding_reason = str(rounded.reason)
    if line.mean_daily_demand > 0:
        line.days_of_cover_after = (line.inventory_position + line.final_quantity) / line.mean_daily_demand


def _date_campaign_line(line: ReorderLine, plan_date: dt.date) -> None:
    """Needed-by and order-by dates from the campaigns that need an order; urgency from the order-by date."""
    needing = [item for item in line.campaign_needs if item["required_units"] > 0]
    if not needing:
        return
    line.needed_by = min(dt.date.fromisoformat(item["needed_by"]) for item in needing)
    campaign_order_by = min(dt.date.fromisoformat(item["order_by"]) for item in needing)
    line.order_by = min(line.order_by, campaign_order_by) if line.order_by else campaign_order_by
    if line.order_by <= plan_date:
        line.urgency = ReorderLine.Urgency.NOW
    elif line.order_by < plan_date + dt.timedelta(days=line.review_days):
        line.urgency = ReorderLine.Urgency.SOON
    else:
        line.urgency = ReorderLine.Urgency.LATER
    projection = line.projection or {}
    if projection.get("available"):
        arrival = (line.order_by - plan_date).days + round(line.lead_time_days_mean)
        projection["available_with_order"] = [
            round(value + (line.final_quantity if day >= arrival else 0), 2)
            for day, value in enumerate(projection["available"])
        ]
        projection["order_by"] = line.order_by.isoformat()
        line.projection = projection


def _campaign_sentences(line: ReorderLine) -> list[str]:
    """One sentence per campaign entry, made from the entry alone so that the previous ones can be recognised."""
    sentences = []
    for item in line.campaign_needs:
        sentence = (
            f"Campaign {item['name']} ({item['starts_on']}–{item['ends_on']}) needs about {item['demand_p90']:.0f} "
            f"units at P90 by {item['needed_by']} (demand from the plan date to its last day)"
        )
        if item["required_units"] <= 0:
            sentence += f"; the {item['available']:.0f} available by then cover it."
        else:
            sentence += (
                f"; {item['available']:.0f} are available by then, so at least {item['required_units']} units must "
                f"be ordered by {item['order_by']}"
            )
            sentence += (
                f", and at the {line.lead_time_days_p90}-day P90 lead time they may still arrive late."
                if item["late"]
                else "."
            )
        sentences.append(sentence)
    return sentences


def _explanation_base(line: ReorderLine) -> str:
    """The line's explanation without the campaign sentences a previous application appended."""
    previous = " ".join(_campaign_sentences(line))
    if previous and line.explanation.endswith(" " + previous):
        return line.explanation[: -len(previous) - 1]
    return line.explanation


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
