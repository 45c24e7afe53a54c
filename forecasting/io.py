"""ORM rows <-> the engine's arrays: daily demand per SKU, and forecasts back into rows.

Demand is units sold per merchant-local day (cancelled orders sold nothing), net of returns and cancellation
documents booked that day, clipped at zero (a bulk order cancelled the same day nets to nothing). Days on which
the merchant recorded no stock (on_hand <= 0) and sold nothing are censored: the engine sees NaN there, not a
zero that would teach it that nobody wanted the item.

Campaigns enter the forecast as covariates known in advance (campaign_covariates): a planned campaign is in the
database before it runs, so its days are known for the horizon as well as for the history.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Case, Prefetch, Sum, Value, When
from django.db.models.functions import TruncDate

from customers.models import Campaign, OrderLine
from customers.selectors import counted_lines, net_units_expression
from ecomforecast.models import Merchant
from forecasting.engine.base import Forecast
from forecasting.engine.covariates import FLAG, NUMERIC
from inventory.models import Category, Product, StockLevel

# The campaign covariates (see campaign_covariates): a 0/1 flag and the discount as a fraction of the price.
CAMPAIGN_COVARIATE_NAMES = ("campaign", "discount")
CAMPAIGN_COVARIATE_KINDS = (FLAG, NUMERIC)


@dataclass(frozen=True)
class DemandSeries:
    product_id: int
    start: dt.date
    values: np.ndarray  # daily units from start to the cutoff; NaN on censored (stock-out) days
    censored_days: int


def last_sale_day(*, merchant: Merchant) -> dt.date | None:
    tz = zoneinfo.ZoneInfo(merchant.timezone)
    latest = OrderLine.objects.filter(merchant=merchant).order_by("-placed_at").values_list("placed_at", flat=True)
    first = latest.first()
    return first.astimezone(tz).date() if first else None


def products_with_sales(*, merchant: Merchant, cutoff: dt.date) -> list[int]:
    tz = zoneinfo.ZoneInfo(merchant.timezone)
    end = dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return list(
        counted_lines(merchant=merchant)
        .filter(kind=OrderLine.Kind.SALE, placed_at__lt=end)
        .values_list("product_id", flat=True)
        .distinct()
        .order_by("product_id")
    )


def demand_series(*, merchant: Merchant, product_ids: Sequence[int], cutoff: dt.date) -> list[DemandSeries]:
    """Daily net demand of each product from its first sale to the cutoff, in the merchant's time zone."""
    tz = zoneinfo.ZoneInfo(merchant.timezone)
    end = dt.datetime.combine(cutoff + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    rows = list(
        counted_lines(merchant=merchant)
        .filter(product_id__in=product_ids, placed_at__lt=end)
        .annotate(day=TruncDate("placed_at", tzinfo=tz))
        .values("product_id", "day")
        .annotate(
            units=Sum(net_units_expression()), sold=Sum(Case(When(kind=OrderLine.Kind.SALE, then=Value(1)), default=0))
        )
        .values_list("product_id", "day", "units", "sold")
        .order_by("product_id", "day")
    )
    stockouts = _stockout_days(merchant=merchant, product_ids=product_ids, cutoff=cutoff)
    if not rows:
        return []
    products = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    days = np.fromiter((row[1].toordinal() for row in rows), dtype=np.int64, count=len(rows))
    units = np.fromiter((row[2] for row in rows), dtype=float, count=len(rows))
    sold = np.fromiter((row[3] for row in rows), dtype=np.int64, count=len(rows)) > 0
    bounds = np.flatnonzero(np.diff(products)) + 1
    first_rows = np.concatenate([[0], bounds])
    last_rows = np.concatenate([bounds, [len(rows)]])
    by_product = {int(products[first]): (first, last) for first, last in zip(first_rows, last_rows, strict=True)}
    cutoff_ordinal = cutoff.toordinal()

    series: list[DemandSeries] = []
    for product_id in product_ids:
        if product_id not in by_product:
            continue
        first, last = by_product[product_id]
        sale_days = days[first:last][sold[first:last]]
        if sale_days.size == 0:
            continue
        start = int(sale_days.min())
        values = np.zeros(cutoff_ordinal - start + 1)
        kept = days[first:last] >= start
        np.add.at(values, days[first:last][kept] - start, units[first:last][kept])
        np.clip(values, 0, None, out=values)
        censored = 0
        for day in stockouts.get(product_id, ()):
            index = day.toordinal() - start
            if 0 <= index < len(values) and values[index] == 0:
                values[index] = np.nan
                censored += 1
        series.append(
            DemandSeries(product_id=product_id, start=dt.date.fromordinal(start), values=values, censored_days=censored)
        )
    return series


def _stockout_days(*, merchant: Merchant, product_ids: Sequence[int], cutoff: dt.date) -> dict[int, list[dt.date]]:
    days: dict[int, list[dt.date]] = {}
    rows = StockLevel.objects.filter(
        merchant=merchant, product_id__in=product_ids, date__lte=cutoff, on_hand__lte=0
    ).values_list("product_id", "date")
    for product_id, day in rows.iterator(chunk_size=20_000):
        days.setdefault(product_id, []).append(day)
    return days


@dataclass(frozen=True)
class CampaignCovariates:
    """Campaign covariates of a set of products, laid on each product's own history and on the horizon.

    history[product_id]: (days from the product's first day to the cutoff, k); future[product_id]: (horizon, k);
    columns CAMPAIGN_COVARIATE_NAMES of kinds CAMPAIGN_COVARIATE_KINDS. planned[product_id]: the campaigns that
    cover the product on a day of the horizon (id, external_id, name, starts_on, ends_on, discount_pct), for the
    forecast's explanation; a product no campaign covers there is absent."""

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    history: dict[int, np.ndarray]
    future: dict[int, np.ndarray]
    planned: dict[int, list[dict[str, object]]]


def campaign_covariates(
    *, merchant: Merchant, starts: Mapping[int, dt.date], cutoff: dt.date, horizon: int
) -> CampaignCovariates | None:
    """The campaign covariates of the products `starts` maps to their first day, from that day to cutoff + horizon.

    A campaign covers its products and every product of its categories or of their subcategories, on the days
    from starts_on to ends_on (merchant-local calendar days, like demand_series). Two columns:

    - ``campaign`` (flag): 1 on a day the product is in a running campaign. auto's covariate features add
      ``campaign:after``, the day after a campaign, for the dip once customers have stocked up. The flag carries
      what a campaign does regardless of its discount (an email, a homepage slot: a zero-discount campaign still
      sells).
    - ``discount`` (numeric): the campaign's discount as a fraction (0.2 for 20% off), the largest one where
      campaigns overlap (discounts do not stack at the till); 0 outside campaigns. Its effect is a log lift per
      unit of discount, so a 40% campaign is expected to lift more than a 10% one. A "price" column (1 - discount)
      was the other choice; covariates.py would re-derive the discount from it as the price over the largest price
      of the trailing price_window days, which reads a campaign longer than that window, or two campaigns back to
      back, as the regular price. The discount is known exactly, so it goes in as it is.

    None when no campaign covers any of the products on a day from its first day to cutoff + horizon (a
    merchant without campaigns, or none on these products), so that the forecast runs exactly as without
    covariates. Reads at most five queries whatever the number of products and campaigns: the overlapping
    campaigns with their product and category links, and, when a campaign names categories, the products'
    categories and the category tree.
    """
    if not starts:
        return None
    product_ids = sorted(starts)
    last_day = cutoff + dt.timedelta(days=horizon)
    campaigns = list(
        Campaign.objects.filter(merchant=merchant, starts_on__lte=last_day, ends_on__gte=min(starts.values()))
        .order_by("starts_on", "pk")
        .prefetch_related(
            Prefetch("products", queryset=Product.objects.filter(pk__in=product_ids).only("pk")),
            Prefetch("categories", queryset=Category.objects.only("pk")),
        )
    )
    covered = campaign_products(merchant=merchant, campaigns=campaigns, product_ids=product_ids)
    if not any(covered.values()):
        return None

    width = len(CAMPAIGN_COVARIATE_NAMES)
    history: dict[int, np.ndarray] = {}
    future: dict[int, np.ndarray] = {}
    planned: dict[int, list[dict[str, object]]] = {}
    first_future = cutoff.toordinal() + 1
    touched = False
    for product_id, start in starts.items():
        first = start.toordinal()
        days = np.zeros((last_day.toordinal() - first + 1, width))
        for campaign in campaigns:
            if product_id not in covered[campaign.pk]:
                continue
            lower = max(campaign.starts_on.toordinal(), first) - first
            upper = campaign.ends_on.toordinal() - first + 1
            if upper <= lower:
                continue
            touched = True
            days[lower:upper, 0] = 1.0
            days[lower:upper, 1] = np.maximum(days[lower:upper, 1], float(campaign.discount_pct) / 100.0)
            if campaign.ends_on.toordinal() >= first_future:
                planned.setdefault(product_id, []).append(campaign_reference(campaign))
        split = first_future - first
        history[product_id] = days[:split]
        future[product_id] = days[split:]
    if not touched:
        return None
    return CampaignCovariates(
        names=CAMPAIGN_COVARIATE_NAMES, kinds=CAMPAIGN_COVARIATE_KINDS, history=history, future=future, planned=planned
    )


def campaign_products(*, merchant: Merchant, campaigns: list[Campaign], product_ids: list[int]) -> dict[int, set[int]]:
    """Campaign id -> the products among product_ids it covers, directly or through a category or its subtree."""
    covered = {campaign.pk: {product.pk for product in campaign.products.all()} for campaign in campaigns}
    by_category = {campaign.pk: {category.pk for category in campaign.categories.all()} for campaign in campaigns}
    if not any(by_category.values()):
        return covered
    parents = dict(Category.objects.filter(merchant=merchant).values_list("pk", "parent_id"))
    product_categories = Product.objects.filter(merchant=merchant, pk__in=product_ids, category__isnull=False)
    for product_id, category_id in product_categories.values_list("pk", "category_id"):
        lineage = set()
        while category_id is not None and category_id not in lineage:
            lineage.add(category_id)
            category_id = parents.get(category_id)
        for campaign_id, categories in by_category.items():
            if categories & lineage:
                covered[campaign_id].add(product_id)
    return covered


def campaign_reference(campaign: Campaign) -> dict[str, object]:
    return {
        "id": campaign.pk,
        "external_id": campaign.external_id,
        "name": campaign.name,
        "starts_on": campaign.starts_on.isoformat(),
        "ends_on": campaign.ends_on.isoformat(),
        "discount_pct": float(campaign.discount_pct),
    }


def forecast_value_rows(
    *, forecast: Forecast, first_day: dt.date, cumulative_levels: Iterable[float]
) -> list[dict[str, object]]:
    """One dict per forecast day: mean, p10/p50/p90, all daily quantiles and cumulative-demand quantiles."""
    daily = {round(float(level), 6): forecast.quantiles[i] for i, level in enumerate(forecast.quantile_levels)}
    cumulative_levels = tuple(float(level) for level in cumulative_levels)
    cumulative = forecast.cumulative_quantiles(cumulative_levels) if forecast.paths is not None else None
    rows = []
    for step in range(forecast.horizon):
        rows.append(
            {
                "date": first_day + dt.timedelta(days=step),
                "mean": float(forecast.mean[step]),
                "p10": float(daily[0.1][step]),
                "p50": float(daily[0.5][step]),
                "p90": float(daily[0.9][step]),
                "quantiles": {f"{level:g}": round(float(values[step]), 4) for level, values in daily.items()},
                "cumulative": {}
                if cumulative is None
                else {f"{level:g}": round(float(cumulative[i, step]), 4) for i, level in enumerate(cumulative_levels)},
            }
        )
    return rows
