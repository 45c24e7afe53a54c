from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest

from inventory.policy.decision import ItemTerms, PolicySettings
from inventory.policy.leadtime import LeadTimeLaw
from inventory.policy.simulation import (
    DaysOfCoverRule,
    ForecastPolicy,
    MinMaxRule,
    SimulationItem,
    cap_paths_at_history,
    match_fill_rate,
    simulate,
)

FIRST_DATE = dt.date(2024, 1, 1)
SETTINGS = PolicySettings(service_level=0.95, review_days=5, holding_cost_rate=0.365)
HISTORY_DAYS = 90
ITEM = SimulationItem(
    sku="A", terms=ItemTerms(lead_time=LeadTimeLaw(mean_days=3), unit_cost=2, price=3, ordering_cost=5)
)


def constant_demand(per_day: float = 2.0, days: int = HISTORY_DAYS + 10) -> np.ndarray:
    return np.full((1, days), per_day)


def replay(rule, item: SimulationItem = ITEM, **kwargs):
    return simulate(
        demand=constant_demand(),
        items=[item],
        rule=rule,
        settings=SETTINGS,
        start=HISTORY_DAYS,
        days=10,
        first_date=FIRST_DATE,
        **kwargs,
    )


def test_it_reproduces_a_hand_computed_min_max_replay():
    # avg 2/day, L = 3, R = 5: min 6, max 16. Day 0 starts with 10 and no order (10 >= 6); days 0-4 sell 10;
    # day 5 orders 16 (position 0 < 6), lost 2 on days 5, 6, 7; the order lands on day 8.
    result = replay(MinMaxRule(settings=SETTINGS), initial_on_hand=np.array([10.0]))

    assert result.demand_units == 20
    assert result.sold_units == 14
    assert result.lost_units == 6
    assert result.fill_rate == pytest.approx(0.7)
    assert result.stockout_days == 3
    assert result.cycle_service_level == 0.5  # of the two five-day cycles, the second lost sales
    assert result.orders_placed == 1
    # End-of-day stock 8, 6, 4, 2, 0, 0, 0, 0, 14, 12: 46 unit-days -> 4.6 units x cost 2.
    assert result.average_inventory_value == pytest.approx(9.2)
    assert result.holding_cost == pytest.approx(92 * 0.365 / 365)
    assert result.ordering_cost == 5
    assert result.stockout_cost == 6  # 6 lost units x margin 1
    assert result.turns == pytest.approx(28 / 9.2 * 365 / 10)


def test_it_reproduces_a_hand_computed_replay_of_our_policy_without_peeking():
    seen: list[int] = []

    def forecaster(histories: list[np.ndarray], horizon: int) -> list[np.ndarray]:
        seen.append(len(histories[0]))
        return [np.full((20, horizon), float(np.mean(history))) for history in histories]

    # No ordering cost, so no EOQ batch: protection demand 2 x (3 + 5) = 16 is the order-up-to level. The rule
    # starts with 16; day 5 finds 6 and orders 10, landing on day 8 when 0 are left. Nothing is ever lost.
    free_orders = SimulationItem(sku="A", terms=replace(ITEM.terms, ordering_cost=0))
    result = replay(ForecastPolicy(settings=SETTINGS, forecaster=forecaster), item=free_orders)

    assert seen == [90, 90, 95]  # the opening stock, then the reviews of days 0 and 5: history before each
    assert result.fill_rate == 1.0
    assert result.cycle_service_level == 1.0
    assert result.orders_placed == 1
    # End-of-day stock 14, 12, 10, 8, 6, 4, 2, 0, 8, 6: 70 unit-days.
    assert result.average_inventory_value == pytest.approx(14.0)


def test_it_loses_sales_instead_of_backordering_them():
    result = replay(MinMaxRule(settings=SETTINGS), initial_on_hand=np.array([0.0]))

    # Day 0 orders 16 (lands day 3); days 0-2 are lost, then 16 covers days 3-9 (14 units) without a backlog.
    assert result.lost_units == 6
    assert result.sold_units == 14


def test_it_applies_the_baseline_formulas():
    average, lead = np.array([2.0, 0.5]), np.array([3.0, 10.0])

    minimum, maximum = MinMaxRule(settings=SETTINGS).levels(average, lead)
    target, same = DaysOfCoverRule(settings=SETTINGS, safety_days=7).levels(average, lead)

    assert minimum.tolist() == [6.0, 5.0]  # average x lead time
    assert maximum.tolist() == [16.0, 7.5]  # min + average x review days
    assert target.tolist() == same.tolist() == [30.0, 11.0]  # average x (lead + review + 7)


def test_it_averages_the_trailing_ninety_days_for_the_baselines():
    demand = np.concatenate([np.full(HISTORY_DAYS, 1.0), np.full(HISTORY_DAYS, 3.0)])[None, :]
    demand = np.concatenate([demand, np.full((1, 10), 3.0)], axis=1)

    result = simulate(
        demand=demand,
        items=[ITEM],
        rule=MinMaxRule(settings=SETTINGS),
        settings=SETTINGS,
        start=2 * HISTORY_DAYS,
        days=4,
        first_date=FIRST_DATE,
        initial_on_hand=np.array([0.0]),
    )

    # max with the last 90 days' average of 3 (not the all-time 2): 3 x 3 + 3 x 5 = 24 units, landing on day 3
    # and leaving 21 after its sales: 21 units x cost 2 over 4 days.
    assert result.orders_placed == 1
    assert result.average_inventory_value == pytest.approx(21 * 2 / 4)


def test_it_finds_the_safety_days_that_match_a_fill_rate():
    safety, result = match_fill_rate(
        make_rule=lambda days: MinMaxRule(settings=SETTINGS, safety_days=days),
        target_fill_rate=1.0,
        run=lambda rule: replay(rule, initial_on_hand=np.array([10.0])),
        iterations=10,
    )

    assert result.fill_rate == 1.0
    # Day 0 must order: position 10 below min 2 x (3 + k) needs k > 2; the bisection lands just above it.
    assert 2.0 < safety < 2.2


def test_it_caps_path_days_at_the_largest_day_of_the_history():
    paths = np.array([[1.0, 500.0, 3.0]])

    capped = cap_paths_at_history(paths, np.array([0.0, 4.0, np.nan, 2.0]), factor=0.5)

    assert capped.tolist() == [[1.0, 2.0, 2.0]]
