"""A small shop with a reorder plan whose every number can be checked by hand.

Forecasts are written directly: each product's cumulative-demand quantiles are the same at every level (demand is
known: d units a day), so the planner's numbers follow from arithmetic. Suppliers deliver in exactly 10 days and
the plan reviews every 7, so the protection interval is 17 days: reorder point = 17 d, no safety stock, quantity =
17 d - on hand, revenue at risk = that shortfall x price, cash = quantity x unit cost.

    SKU      supplier  d  on hand  price  cost  order  cash  revenue at risk  risk per cash
    MUG-1    Alpha     2  4        10     2     30     60    300              5
    TEA-9    Alpha     3  11       10     5     40     200   400              2
    JAR-3    Beta      1  7        6      4     10     40    60               1.5
    BOWL-4   Beta      1  20       5      2     0      -     -   (watch list: runs out on day 21, order by 06-11)
    SPOON-5  Beta      0  5        5      2     0      -     -   (no stock-out in sight: shown nowhere)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from forecasting.models import ForecastResult, ForecastRun, ForecastValue
from forecasting.services import CUMULATIVE_QUANTILES
from inventory.models import Product, ReorderPlan, Supplier
from inventory.services import reorder_plan_build
from tests.factories import ProductFactory, StockLevelFactory, SupplierFactory, SupplierProductFactory

DATA_CUTOFF = dt.date(2024, 5, 31)
PLAN_DATE = DATA_CUTOFF + dt.timedelta(days=1)
HORIZON = 28

# sku, name, supplier code, daily demand, on hand, price, unit cost
PRODUCTS = (
    ("MUG-1", "Blue mug", "ALP", 2, 4, "10", "2"),
    ("TEA-9", "Green tea", "ALP", 3, 11, "10", "5"),
    ("JAR-3", "Glass jar", "BET", 1, 7, "6", "4"),
    ("BOWL-4", "Soup bowl", "BET", 1, 20, "5", "2"),
    ("SPOON-5", "Tea spoon", "BET", 0, 5, "5", "2"),
)


@dataclass(frozen=True)
class Shop:
    plan: ReorderPlan
    products: dict[str, Product]
    suppliers: dict[str, Supplier]


def forecast_run_with_known_demand(
    *, merchant, daily: dict[Product, float], data_cutoff: dt.date = DATA_CUTOFF, horizon: int = HORIZON
) -> ForecastRun:
    """A succeeded sales run whose cumulative quantiles say each product sells exactly ``daily`` units a day."""
    run = ForecastRun.objects.create(
        merchant=merchant,
        status=ForecastRun.Status.SUCCEEDED,
        idempotency_key=f"known-demand-{data_cutoff}-{len(daily)}-{ForecastRun.objects.count()}",
        data_cutoff=data_cutoff,
        horizon=horizon,
    )
    first_day = data_cutoff + dt.timedelta(days=1)
    for product, rate in daily.items():
        result = ForecastResult.objects.create(
            merchant=merchant, run=run, product=product, model="known", demand_class="smooth"
        )
        ForecastValue.objects.bulk_create(
            ForecastValue(
                merchant=merchant,
                result=result,
                date=first_day + dt.timedelta(days=day),
                mean=rate,
                p10=rate,
                p50=rate,
                p90=rate,
                quantiles={f"{level:g}": rate for level in CUMULATIVE_QUANTILES},
                cumulative={f"{level:g}": rate * (day + 1) for level in CUMULATIVE_QUANTILES},
            )
            for day in range(horizon)
        )
    return run


def build_shop(merchant, products=PRODUCTS) -> Shop:
    suppliers = {
        code: SupplierFactory(merchant=merchant, code=code, name=name, lead_time_mean_days=10, lead_time_std_days=0)
        for code, name in (("ALP", "Alpha Ceramics"), ("BET", "Beta Glass"))
    }
    made: dict[str, Product] = {}
    daily: dict[Product, float] = {}
    for sku, name, supplier_code, rate, on_hand, price, cost in products:
        product = ProductFactory(merchant=merchant, sku=sku, name=name, price=Decimal(price), unit_cost=Decimal(cost))
        SupplierProductFactory(
            supplier=suppliers[supplier_code], product=product, supplier_sku=f"{supplier_code}-{sku}"
        )
        StockLevelFactory(product=product, date=DATA_CUTOFF, on_hand=on_hand)
        made[sku] = product
        daily[product] = float(rate)
    run = forecast_run_with_known_demand(merchant=merchant, daily=daily)
    return Shop(plan=reorder_plan_build(merchant=merchant, forecast_run_id=run.pk), products=made, suppliers=suppliers)
