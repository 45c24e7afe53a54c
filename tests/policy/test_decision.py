from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from inventory.policy.decision import (
    IncomingOrder,
    ItemTerms,
    PolicySettings,
    StockPosition,
    decide_order,
    required_horizon,
)
from inventory.policy.leadtime import LeadTimeLaw
from inventory.policy.rounding import RoundingReason

TODAY = dt.date(2024, 3, 1)
FIXED_FIVE_DAYS = LeadTimeLaw(mean_days=5)
SETTINGS = PolicySettings(service_level=0.95, review_days=2)


def constant_paths(per_day: float, horizon: int = 30, n: int = 50) -> np.ndarray:
    return np.full((n, horizon), per_day)


def test_it_orders_up_to_the_protection_interval_demand_rounded_to_packs():
    # 10/day over 5 + 2 days = 70; position 20 on hand + 10 arriving in 3 days = 30 -> 40, in packs of 12 -> 48.
    decision = decide_order(
        today=TODAY,
        position=StockPosition(on_hand=20, incoming=(IncomingOrder(quantity=10, expected_on=TODAY + dt.timedelta(3)),)),
        paths=constant_paths(10),
        terms=ItemTerms(lead_time=FIXED_FIVE_DAYS, unit_cost=2, price=5, pack_size=12),
        settings=SETTINGS,
    )

    assert decision.lead_time_demand_p50 == decision.lead_time_demand_p90 == 70
    assert decision.safety_stock == 0
    assert decision.reorder_point == decision.order_up_to == 70
    assert decision.inventory_position == 30
    assert decision.suggested_quantity == 40
    assert (decision.quantity, decision.rounded.reason) == (48, RoundingReason.PACK_SIZE)
    assert decision.order_by == TODAY
    # Day 0 sells 10 of 20, day 1 the rest, day 2 wants 30 in total with 20 available: out on day 2.
    assert decision.stockout_p50 == decision.stockout_p90 == TODAY + dt.timedelta(days=2)
    assert decision.days_of_cover_before == 3
    assert decision.days_of_cover_after == pytest.approx(7.8)
    assert decision.cash_needed == 96
    assert decision.revenue_at_risk == 200  # 40 units short over the interval x price 5
    assert decision.explanation.startswith("Order 48 units by 2024-03-01 (rounded up from 40 to 48 for whole packs")
    assert "runs out around 2024-03-03" in decision.explanation


def test_it_predicts_a_known_stockout_date_and_the_order_by_date_without_ordering_yet():
    decision = decide_order(
        today=TODAY,
        position=StockPosition(on_hand=200),
        paths=constant_paths(10),
        terms=ItemTerms(lead_time=FIXED_FIVE_DAYS, unit_cost=2, price=5),
        settings=SETTINGS,
    )

    assert decision.quantity == 0
    assert decision.rounded.reason is RoundingReason.NO_ORDER
    assert decision.stockout_p50 == TODAY + dt.timedelta(days=20)  # cumulative demand 210 > 200 on day 20
    assert decision.order_by == TODAY + dt.timedelta(days=15)  # five days of lead time before that
    assert decision.explanation.startswith("No order: stock position 200")


def test_it_runs_out_earlier_at_p90_demand_than_at_p50():
    low, high = np.full((50, 30), 5.0), np.full((50, 30), 20.0)
    paths = np.vstack([low, low[:40], high[:10]])  # P50 day 5 units, P90 day 20

    decision = decide_order(
        today=TODAY,
        position=StockPosition(on_hand=100),
        paths=paths,
        terms=ItemTerms(lead_time=FIXED_FIVE_DAYS, unit_cost=1, price=2),
        settings=SETTINGS,
    )

    assert decision.stockout_p50 == TODAY + dt.timedelta(days=20)  # 5 x 21 = 105 > 100
    assert decision.stockout_p90 < decision.stockout_p50


def test_it_subtracts_committed_units_from_the_position():
    decision = decide_order(
        today=TODAY,
        position=StockPosition(on_hand=100, committed=40),
        paths=constant_paths(10),
        terms=ItemTerms(lead_time=FIXED_FIVE_DAYS, unit_cost=1, price=2),
        settings=SETTINGS,
    )

    assert decision.inventory_position == 60
    assert decision.quantity == 10


def test_it_raises_the_order_up_to_level_by_the_eoq_surplus():
    # 10/day: D = 3,650/yr, S = 50, H = 0.25 x 4 = 1 -> EOQ = sqrt(365,000) = 604.2; one review's demand is 20.
    decision = decide_order(
        today=TODAY,
        position=StockPosition(on_hand=0),
        paths=constant_paths(10),
        terms=ItemTerms(lead_time=FIXED_FIVE_DAYS, unit_cost=4, price=8, ordering_cost=50),
        settings=SETTINGS,
    )

    assert decision.economic_order_quantity == pytest.approx(604.15, abs=0.01)
    assert decision.order_up_to == pytest.approx(70 + 604.15 - 20, abs=0.01)


def test_it_keeps_a_safety_stock_for_uncertain_demand_and_lead_time():
    paths = np.random.default_rng(0).poisson(10, size=(4000, 60)).astype(float)
    terms = ItemTerms(lead_time=LeadTimeLaw(mean_days=10, std_days=3), unit_cost=1, price=2)
    settings = PolicySettings(service_level=0.95, review_days=7)

    decision = decide_order(today=TODAY, position=StockPosition(on_hand=0), paths=paths, terms=terms, settings=settings)

    # Normal approximation: mean 170, std sqrt(17 x 10 + 100 x 9) = 32.7 -> safety stock about 1.645 x 32.7.
    assert decision.lead_time_demand_mean == pytest.approx(170, rel=0.02)
    assert decision.safety_stock == pytest.approx(1.645 * 32.7, rel=0.15)
    assert required_horizon(terms.lead_time, 7) <= 60
