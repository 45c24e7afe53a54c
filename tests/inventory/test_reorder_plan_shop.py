"""A plan made the whole way on a generated shop: orders -> forecast run -> reorder plan."""

from __future__ import annotations

import datetime as dt

import pytest

from ecomforecast.pipeline import run_pipeline
from inventory.models import ReorderLine
from tests.factories import StockLevelFactory, SupplierFactory, SupplierProductFactory
from tests.forecasting.shop import make_daily_sales

pytestmark = pytest.mark.django_db

START = dt.date(2024, 1, 1)
DAYS = 180


def test_it_predicts_a_known_stock_out_on_a_generated_shop(merchant):
    steady, slow = make_daily_sales(merchant=merchant, skus=2, days=DAYS, start=START, seed=3)
    cutoff = START + dt.timedelta(days=DAYS - 1)
    supplier = SupplierFactory(merchant=merchant, lead_time_mean_days=5, lead_time_std_days=0)
    for product in (steady, slow):
        SupplierProductFactory(supplier=supplier, product=product, lead_time_days=5, lead_time_std_days=0)
    # Units each SKU sold in the last 8 weeks give its daily rate; stock for exactly ten days of it.
    rates = {
        product: sum(
            product.order_lines.filter(placed_at__date__gt=cutoff - dt.timedelta(days=56)).values_list(
                "quantity", flat=True
            )
        )
        / 56
        for product in (steady, slow)
    }
    StockLevelFactory(product=steady, date=cutoff, on_hand=round(10 * rates[steady]))
    StockLevelFactory(product=slow, date=cutoff, on_hand=round(200 * rates[slow]))

    plan = run_pipeline(merchant=merchant)["reorder_plan"]

    today = cutoff + dt.timedelta(days=1)
    steady_line = plan.lines.get(product=steady)
    # Ten days of stock at the SKU's own rate: the median stock-out falls on day 10 or 11 (Saturday peaks and
    # Poisson noise move it by a day, never more), and at P90 demand no later than that.
    assert (steady_line.stockout_p50 - today).days in {9, 10, 11}
    assert steady_line.stockout_p90 <= steady_line.stockout_p50
    assert steady_line.urgency == ReorderLine.Urgency.NOW
    assert steady_line.final_quantity > 0
    # Five days' lead time + seven days' review: the reorder point is about twelve days of demand, with safety.
    assert 12 * rates[steady] <= steady_line.reorder_point <= 20 * rates[steady]
    slow_line = plan.lines.get(product=slow)
    assert slow_line.stockout_p50 is None
    assert slow_line.final_quantity == 0
    assert slow_line.urgency == ReorderLine.Urgency.NONE
