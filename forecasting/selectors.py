"""Reads of forecast runs and results; every query takes the merchant."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict

from django.db.models import QuerySet

from ecomforecast.models import Merchant
from forecasting.models import ForecastResult, ForecastRun, ForecastValue
from inventory.models import Product


def forecast_run_list(*, merchant: Merchant) -> QuerySet[ForecastRun]:
    return ForecastRun.objects.filter(merchant=merchant)


def forecast_run_latest(*, merchant: Merchant, kind: str = ForecastRun.Kind.SALES) -> ForecastRun | None:
    return (
        ForecastRun.objects.filter(merchant=merchant, kind=kind, status=ForecastRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )


def forecast_run_succeeded(*, merchant: Merchant, run_id: int, kind: str = ForecastRun.Kind.SALES) -> ForecastRun:
    """One succeeded run of the merchant (ForecastRun.DoesNotExist otherwise)."""
    return ForecastRun.objects.get(merchant=merchant, pk=run_id, kind=kind, status=ForecastRun.Status.SUCCEEDED)


def forecast_value_list(*, merchant: Merchant, run: ForecastRun | None) -> QuerySet[ForecastValue]:
    """Daily values of a run (the latest succeeded one when run is None), with their SKU and chosen model."""
    run = run or forecast_run_latest(merchant=merchant)
    if run is None:
        return ForecastValue.objects.none()
    return (
        ForecastValue.objects.filter(merchant=merchant, result__run=run)
        .select_related("result__product")
        .order_by("result__product__sku", "date")
    )


def forecast_result_latest(*, merchant: Merchant, product: Product) -> ForecastResult | None:
    """The product's result in the latest succeeded run (one indexed lookup after the run)."""
    run = forecast_run_latest(merchant=merchant)
    if run is None:
        return None
    return (
        ForecastResult.objects.filter(merchant=merchant, run=run, product=product)
        .select_related("run", "product")
        .prefetch_related("values")
        .first()
    )


def forecast_result_list(*, merchant: Merchant, run: ForecastRun) -> QuerySet[ForecastResult]:
    return ForecastResult.objects.filter(merchant=merchant, run=run).select_related("product")


def forecast_summary(*, merchant: Merchant, run: ForecastRun, worst: int = 10) -> dict:
    """Backtest accuracy by demand class, the model mix per class, and the SKUs the engine forecasts worst."""
    rows = list(
        ForecastResult.objects.filter(merchant=merchant, run=run).values(
            "product__sku", "product__name", "model", "demand_class", "metrics", "fallback", "explanation__members"
        )
    )
    by_class: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_class[row["demand_class"]].append(row)
    classes = []
    for demand_class, members in sorted(by_class.items()):
        mase = [row["metrics"]["mase"] for row in members if "mase" in row["metrics"]]
        wape = [row["metrics"]["wape"] for row in members if "wape" in row["metrics"]]
        classes.append(
            {
                "demand_class": demand_class,
                "series": len(members),
                "median_mase": statistics.median(mase) if mase else None,
                "median_wape": statistics.median(wape) if wape else None,
                "fallbacks": sum(row["fallback"] for row in members),
                "model_mix": dict(Counter(row["model"] for row in members).most_common()),
                "member_mix": _member_mix(members),
            }
        )
    scored = [row for row in rows if "mase" in row["metrics"]]
    scored.sort(key=lambda row: row["metrics"]["mase"], reverse=True)
    return {
        "run": run.pk,
        "data_cutoff": run.data_cutoff,
        "series": len(rows),
        "classes": classes,
        "mase_values": [row["metrics"]["mase"] for row in scored],
        "wape_values": [row["metrics"]["wape"] for row in rows if "wape" in row["metrics"]],
        "worst": [
            {
                "sku": row["product__sku"],
                "name": row["product__name"],
                "model": row["model"],
                "demand_class": row["demand_class"],
                "mase": row["metrics"]["mase"],
                "wape": row["metrics"].get("wape"),
            }
            for row in scored[:worst]
        ],
    }


def _member_mix(rows: list[dict]) -> dict[str, float]:
    """SKUs per underlying model, an ensemble of k models counting 1/k for each of its members."""
    mix: Counter[str] = Counter()
    for row in rows:
        members = row["explanation__members"] or [row["model"]]
        for member in members:
            mix[member] += 1 / len(members)
    return dict(mix.most_common())


def forecast_cumulative_by_product(
    *, merchant: Merchant, run: ForecastRun, product_ids: list[int] | None = None
) -> dict[int, tuple[list[float], list[dict[str, float]]]]:
    """{product id: (levels, cumulative quantiles per forecast day in date order)} of one run.

    The reorder planner's input: it reads only these numbers, and copies what it used onto its plan lines.
    """
    rows = ForecastValue.objects.filter(merchant=merchant, result__run=run)
    if product_ids is not None:
        rows = rows.filter(result__product_id__in=product_ids)
    out: dict[int, tuple[list[float], list[dict[str, float]]]] = {}
    for product_id, cumulative in (
        rows.order_by("result_id", "date").values_list("result__product_id", "cumulative").iterator(chunk_size=20_000)
    ):
        if product_id not in out:
            out[product_id] = (sorted(float(level) for level in cumulative), [])
        out[product_id][1].append(cumulative)
    return out
