from __future__ import annotations

import numpy as np
import pytest

from inventory.policy.decision import lead_time_demand_quantiles
from inventory.policy.leadtime import LeadTimeLaw, protection_demand


def test_it_sums_each_paths_first_lead_time_plus_review_days():
    paths = np.array([[1.0, 2, 3, 4, 5], [10, 20, 30, 40, 50]])

    totals = protection_demand(paths, lead_times=np.array([2, 3]), review_days=1)

    assert totals.tolist() == [6.0, 100.0]


def test_it_refuses_paths_shorter_than_the_protection_interval():
    with pytest.raises(ValueError, match="protection interval"):
        protection_demand(np.ones((2, 5)), lead_times=np.array([4, 5]), review_days=1)


def test_it_takes_quantiles_of_the_sums_not_the_sum_of_daily_quantiles():
    rng = np.random.default_rng(7)
    paths = rng.poisson(3.0, size=(20_000, 14)).astype(float)
    law = LeadTimeLaw(mean_days=7)

    ours = lead_time_demand_quantiles(paths, law=law, review_days=3, levels=(0.9,))[0]
    summed_daily = np.quantile(paths[:, :10], 0.9, axis=0).sum()

    # Ten independent Poisson(3) days sum to Poisson(30), whose P90 is 37; ten daily P90s (5 each) make 50.
    assert ours == pytest.approx(37, abs=1)
    assert summed_daily == 50
    assert summed_daily - ours > 10


def test_it_matches_a_monte_carlo_check_with_a_random_lead_time():
    law = LeadTimeLaw(mean_days=10, std_days=3)
    paths = np.random.default_rng(1).gamma(2.0, 2.5, size=(40_000, 40))  # daily mean 5, std 3.54

    ours = lead_time_demand_quantiles(paths, law=law, review_days=7, levels=(0.5, 0.95), seed=2)

    # Independent simulation of the same process: L from the law, then L + 7 fresh daily demands.
    rng = np.random.default_rng(99)
    lead_times = law.draw(40_000, rng)
    totals = np.array([rng.gamma(2.0, 2.5, size=days + 7).sum() for days in lead_times])
    expected = np.quantile(totals, (0.5, 0.95))
    assert ours == pytest.approx(expected, rel=0.02)


def test_it_bootstraps_lead_times_from_purchase_order_history():
    law = LeadTimeLaw.from_history([5, 9, 12])

    draws = law.draw(1000, np.random.default_rng(0))

    assert set(draws.tolist()) == {5, 9, 12}
    assert law.mean_days == pytest.approx(26 / 3)
    assert law.source == "purchase-order history"


def test_it_draws_a_gamma_law_with_the_stated_mean_and_std():
    draws = LeadTimeLaw(mean_days=14, std_days=4).draw(50_000, np.random.default_rng(0))

    assert draws.mean() == pytest.approx(14, abs=0.1)
    assert draws.std() == pytest.approx(4, abs=0.15)
    assert draws.min() >= 1


def test_it_generates_the_same_lead_time_for_the_same_sku():
    first = LeadTimeLaw.generated_for("85123A")

    assert first == LeadTimeLaw.generated_for("85123A")
    assert 7 <= first.mean_days <= 21
    assert first.std_days == pytest.approx(0.2 * first.mean_days)
    assert len({LeadTimeLaw.generated_for(f"SKU{n}").mean_days for n in range(200)}) == 15
