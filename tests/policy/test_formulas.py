from __future__ import annotations

import math

import numpy as np
import pytest

from inventory.policy.formulas import critical_ratio, economic_order_quantity, newsvendor_quantity, normal_reorder_point


def test_it_computes_the_textbook_reorder_point_with_lead_time_variability():
    # mu_d = 10/day, sigma_d = 3, L = 9 days, sigma_L = 2 days, 95% cycle service.
    result = normal_reorder_point(
        daily_demand_mean=10, daily_demand_std=3, lead_time_mean=9, lead_time_std=2, service_level=0.95
    )

    assert result.lead_time_demand_mean == 90
    assert result.lead_time_demand_std == pytest.approx(math.sqrt(9 * 9 + 100 * 4))  # sqrt(481) = 21.932
    assert result.z == pytest.approx(1.644854, abs=1e-6)
    assert result.safety_stock == pytest.approx(36.075, abs=1e-3)
    assert result.reorder_point == pytest.approx(126.075, abs=1e-3)


def test_it_reduces_to_demand_noise_only_when_the_lead_time_is_fixed():
    result = normal_reorder_point(
        daily_demand_mean=4, daily_demand_std=2, lead_time_mean=16, lead_time_std=0, service_level=0.5
    )

    assert result.lead_time_demand_std == 8
    assert result.safety_stock == 0
    assert result.reorder_point == 64


def test_it_rejects_a_service_level_of_one():
    with pytest.raises(ValueError, match="service_level"):
        normal_reorder_point(
            daily_demand_mean=1, daily_demand_std=1, lead_time_mean=1, lead_time_std=0, service_level=1
        )


def test_it_computes_the_textbook_eoq():
    # D = 1,200 units/year, S = 50 per order, H = 3 per unit-year: sqrt(2 * 1200 * 50 / 3) = 200.
    assert economic_order_quantity(annual_demand=1200, ordering_cost=50, annual_holding_cost_per_unit=3) == 200


def test_it_gives_no_eoq_without_an_ordering_cost():
    assert economic_order_quantity(annual_demand=1200, ordering_cost=0, annual_holding_cost_per_unit=3) == 0


def test_it_takes_the_newsvendor_quantile_at_the_critical_ratio():
    # Price 10, cost 4, no salvage: underage 6, overage 4, ratio 0.6; demand uniform on 1..10 -> stock 6.
    assert critical_ratio(underage_cost=6, overage_cost=4) == 0.6
    assert newsvendor_quantity(demand_samples=np.arange(1, 11), underage_cost=6, overage_cost=4) == 6


def test_it_matches_the_normal_newsvendor_on_many_samples():
    samples = np.random.default_rng(3).normal(100, 20, size=200_000)

    quantity = newsvendor_quantity(demand_samples=samples, underage_cost=9, overage_cost=1)

    assert quantity == pytest.approx(100 + 20 * 1.281552, abs=0.5)
