"""ORM rows -> the campaign engine's inputs (forecasting.engine.campaigns) for one campaign.

A campaign's products are its own and every product of its categories or their subcategories (io's rule). Beside
them the panel carries up to OTHERS_LIMIT other products of the merchant with sales, those of the promoted products'
categories first: every series helps auto estimate the campaign effects, and for a readout the others that no
campaign touched during the window are the controls. Covariates are io's campaign flag and discount; the baseline
is the same days with this campaign switched off (other campaigns stay where they are). Prices, unit costs and the
stock position come from inventory's plan inputs, the same ones the reorder plan uses. The siblings of the promoted
products (the others of their categories, which the same-categories-first rule puts in the panel up to
OTHERS_LIMIT) also get their price and unit cost, for the cannibalisation the campaign causes
(forecasting.engine.cannibalisation); every row carries its category.

Reads a bounded number of queries whatever the numbers of products and campaigns (see the tests).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Case, IntegerField, Value, When

from customers.models import Campaign, OrderLine
from customers.selectors import counted_lines
from ecomforecast.models import Merchant
from forecasting import io
from inventory.io import plan_items
from inventory.models import Product

OTHERS_LIMIT = 200


class CampaignEvaluationError(ValueError):
    """A campaign that cannot be evaluated as asked; the message is shown to the merchant as it is."""


@dataclass(frozen=True)
class CampaignPanel:
    """The engine's inputs for one campaign.

    product_ids: the promoted products with a history, the panel's first rows; other_ids: the other products, the
    following rows. series, X: every row's history (to the day before ``first_day``) and its covariates;
    X_campaign / X_baseline: (horizon, k) covariates from ``first_day`` with and without the campaign. actual:
    every row's demand from ``first_day`` over the horizon (readouts only). untreated: the other rows no campaign
    touched over the horizon. price, unit_cost, on_hand: per promoted product; incoming: per promoted product,
    the open purchase orders as (expected date, units). skipped: promoted products without a sale before
    first_day. categories: every row's category id (None: none); sibling_price / sibling_unit_cost: per other row
    of a promoted product's category, by product id."""

    first_day: dt.date
    horizon: int
    product_ids: list[int]
    other_ids: list[int]
    series: list[np.ndarray]
    X: list[np.ndarray]
    X_campaign: list[np.ndarray]
    X_baseline: list[np.ndarray]
    actual: list[np.ndarray] | None
    untreated: list[int]
    price: np.ndarray
    unit_cost: np.ndarray
    on_hand: np.ndarray
    incoming: list[list[tuple[dt.date, float]]]
    assumed: dict[str, int]
    skipped: list[int]
    categories: list[int | None]
    sibling_price: dict[int, float]
    sibling_unit_cost: dict[int, float]


def campaign_with_links(*, merchant: Merchant, campaign_id: int) -> Campaign:
    return Campaign.objects.filter(merchant=merchant).prefetch_related("products", "categories").get(pk=campaign_id)


def campaign_definition(campaign: Campaign) -> dict[str, object]:
    """What the evaluation depends on (and what a merchant sees it was made for); needs products/categories."""
    return {
        **io.campaign_reference(campaign),
        "cost": float(campaign.cost),
        "channel": campaign.channel,
        "products": sorted(product.pk for product in campaign.products.all()),
        "categories": sorted(category.pk for category in campaign.categories.all()),
    }


def campaign_product_ids(*, merchant: Merchant, campaign: Campaign) -> list[int]:
    """The products the campaign promotes: its own, and those of its categories and their subcategories."""
    candidates = [product.pk for product in campaign.products.all()]
    if campaign.categories.all():
        candidates = (
            list(Product.objects.filter(merchant=merchant, category__isnull=False).values_list("pk", flat=True))
            + candidates
        )
    covered = io.campaign_products(merchant=merchant, campaigns=[campaign], product_ids=candidates)
    return sorted(covered[campaign.pk])


def campaign_panel(
    *,
    merchant: Merchant,
    campaign: Campaign,
    first_day: dt.date,
    horizon: int,
    with_actual: bool = False,
    others_limit: int = OTHERS_LIMIT,
) -> CampaignPanel:
    """History to the day before ``first_day`` and the ``horizon`` days from it, for the promoted products and up to
    ``others_limit`` others; ``with_actual`` also reads the demand of those days (a readout)."""
    promoted = campaign_product_ids(merchant=merchant, campaign=campaign)
    if not promoted:
        raise CampaignEvaluationError("The campaign promotes no product: add products or categories to it.")
    cutoff = first_day - dt.timedelta(days=1)
    others = _other_products(merchant=merchant, promoted=promoted, cutoff=cutoff, limit=others_limit)
    last_day = first_day + dt.timedelta(days=horizon - 1) if with_actual else cutoff
    demand = {
        item.product_id: item
        for item in io.demand_series(merchant=merchant, product_ids=[*promoted, *others], cutoff=last_day)
        if item.start <= cutoff
    }
    product_ids = [product_id for product_id in promoted if product_id in demand]
    if not product_ids:
        raise CampaignEvaluationError(
            f"None of the campaign's {len(promoted)} product(s) sold anything up to {cutoff.isoformat()}: "
            "there is no sales history to forecast from."
        )
    other_ids = [product_id for product_id in others if product_id in demand]
    rows = [*product_ids, *other_ids]
    covariates = io.campaign_covariates(
        merchant=merchant, starts={pid: demand[pid].start for pid in rows}, cutoff=cutoff, horizon=horizon
    )
    if covariates is None:
        raise CampaignEvaluationError("The campaign covers none of its products on its own days.")

    promoted_set = set(product_ids)
    X_baseline = [
        _without_campaign(covariates.future[pid], covariates.planned.get(pid, []), campaign.pk, first_day)
        if pid in promoted_set
        else covariates.future[pid]
        for pid in rows
    ]
    split = {pid: (first_day - demand[pid].start).days for pid in rows}
    series = [demand[pid].values[: split[pid]] for pid in rows]
    actual = [demand[pid].values[split[pid] :] for pid in rows] if with_actual else None

    category_of = dict(Product.objects.filter(merchant=merchant, pk__in=rows).values_list("pk", "category_id"))
    promoted_categories = {category_of[pid] for pid in product_ids} - {None}
    sibling_ids = [pid for pid in other_ids if category_of[pid] in promoted_categories]
    items = {
        item.product_id: item
        for item in plan_items(merchant=merchant, product_ids=[*product_ids, *sibling_ids], today=first_day)
    }
    assumed: dict[str, int] = {}
    for item in (items[pid] for pid in product_ids if pid in items):
        for reason in item.assumed:
            assumed[reason] = assumed.get(reason, 0) + 1
    return CampaignPanel(
        first_day=first_day,
        horizon=horizon,
        product_ids=product_ids,
        other_ids=other_ids,
        series=series,
        X=[covariates.history[pid] for pid in rows],
        X_campaign=[covariates.future[pid] for pid in rows],
        X_baseline=X_baseline,
        actual=actual,
        untreated=[pid for pid in other_ids if pid not in covariates.planned],
        price=np.array([items[pid].terms.price for pid in product_ids], dtype=float),
        unit_cost=np.array([items[pid].terms.unit_cost for pid in product_ids], dtype=float),
        on_hand=np.array([items[pid].position.on_hand for pid in product_ids], dtype=float),
        incoming=[
            [(order.expected_on, float(order.quantity)) for order in items[pid].position.incoming]
            for pid in product_ids
        ],
        assumed=assumed,
        skipped=[product_id for product_id in promoted if product_id not in promoted_set],
        categories=[category_of[pid] for pid in rows],
        sibling_price={pid: float(items[pid].terms.price) for pid in sibling_ids if pid in items},
        sibling_unit_cost={pid: float(items[pid].terms.unit_cost) for pid in sibling_ids if pid in items},
    )


def _other_products(*, merchant: Merchant, promoted: Sequence[int], cutoff: dt.date, limit: int) -> list[int]:
    """Up to ``limit`` unpromoted products that sold by the cutoff, those of the promoted products' categories first."""
    if limit <= 0:
        return []
    tz = zoneinfo.ZoneInfo(merchant.timezone)
    end = dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    sold = counted_lines(merchant=merchant).filter(kind=OrderLine.Kind.SALE, placed_at__lt=end).values("product_id")
    promoted_categories = Product.objects.filter(merchant=merchant, pk__in=promoted, category__isnull=False).values(
        "category_id"
    )
    return list(
        Product.objects.filter(merchant=merchant, pk__in=sold)
        .exclude(pk__in=promoted)
        .annotate(
            related=Case(
                When(category_id__in=promoted_categories, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("related", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _without_campaign(
    future: np.ndarray, planned: list[dict[str, object]], campaign_id: int, first_day: dt.date
) -> np.ndarray:
    """The horizon's covariates of a product with one campaign left out: the other campaigns that cover it there
    (io's ``planned`` list) laid again, the largest discount where they overlap."""
    baseline = np.zeros_like(future)
    first = first_day.toordinal()
    for other in planned:
        if other["id"] == campaign_id:
            continue
        lower = max(dt.date.fromisoformat(str(other["starts_on"])).toordinal() - first, 0)
        upper = dt.date.fromisoformat(str(other["ends_on"])).toordinal() - first + 1
        if upper <= lower:
            continue
        baseline[lower:upper, 0] = 1.0
        baseline[lower:upper, 1] = np.maximum(baseline[lower:upper, 1], float(other["discount_pct"]) / 100.0)
    return baseline
