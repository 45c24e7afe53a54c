"""ORM rows <-> the engine's arrays: daily demand per SKU, and forecasts back into rows.

Demand is units sold per merchant-local day (cancelled orders sold nothing), net of returns and cancellation
documents booked that day, clipped at zero (a bulk order cancelled the same day nets to nothing). Days on which
the merchant recorded no stock (on_hand <= 0) and sold nothing are censored: the engine sees NaN there, not a
zero that would teach it that nobody wanted the item.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Case, Sum, Value, When
from django.db.models.functions import TruncDate

from customers.models import OrderLine
from customers.selectors import counted_lines, net_units_expression
from ecomforecast.models import Merchant
from forecasting.engine.base import Forecast
from inventory.models import StockLevel


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
