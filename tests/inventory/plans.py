"""Forecast runs written by hand, so a plan's numbers can be checked against arithmetic."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from django.utils import timezone

from forecasting.models import ForecastResult, ForecastRun, ForecastValue
from forecasting.services import CUMULATIVE_QUANTILES
from inventory.models import Product

CUTOFF = dt.date(2024, 3, 31)
TODAY = CUTOFF + dt.timedelta(days=1)


def forecast_run_by_hand(
    *,
    merchant,
    products: dict[Product, Callable[[float, int], float]],
    horizon: int = 28,
    cutoff: dt.date = CUTOFF,
) -> ForecastRun:
    """A succeeded run whose cumulative demand at level q after day k (0-based) is cumulative(q, k)."""
    run = ForecastRun.objects.create(
        merchant=merchant,
        idempotency_key=uuid.uuid4().hex,
        data_cutoff=cutoff,
        horizon=horizon,
        status=ForecastRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
    )
    for product, cumulative in products.items():
        result = ForecastResult.objects.create(
            merchant=merchant, run=run, product=product, model="hand", demand_class="smooth"
        )
        values = []
        for day in range(horizon):
            mean = cumulative(0.5, day) - (cumulative(0.5, day - 1) if day else 0.0)
            values.append(
                ForecastValue(
                    merchant=merchant,
                    result=result,
                    date=cutoff + dt.timedelta(days=day + 1),
                    mean=mean,
                    p10=mean,
                    p50=mean,
                    p90=mean,
                    cumulative={f"{level:g}": cumulative(level, day) for level in CUMULATIVE_QUANTILES},
                )
            )
        ForecastValue.objects.bulk_create(values)
    return run


def constant(rate: float) -> Callable[[float, int], float]:
    """Certain demand: rate units every day at every level."""
    return lambda _level, day: rate * (day + 1)


def spread(rate: float, width: float) -> Callable[[float, int], float]:
    """Demand whose cumulative total after k days is rate * (k+1) * (1 + width * (q - 0.5)): a level uncertainty."""
    return lambda level, day: rate * (day + 1) * (1.0 + width * (level - 0.5))
