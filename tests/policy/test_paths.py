"""Sample paths rebuilt from stored cumulative-demand quantiles reproduce those quantiles."""

from __future__ import annotations

import numpy as np
import pytest

from inventory.policy.leadtime import protection_demand
from inventory.policy.paths import paths_from_cumulative_quantiles

LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995)


def poisson_cumulative_table(rate: float, days: int) -> np.ndarray:
    draws = np.random.default_rng(1).poisson(rate, size=(200_000, days)).cumsum(axis=1)
    return np.quantile(draws, LEVELS, axis=0)


def test_it_reproduces_the_stored_quantiles_of_cumulative_demand_on_every_day():
    table = poisson_cumulative_table(3.0, 20)
    paths = paths_from_cumulative_quantiles(LEVELS, table, n_paths=4000, seed=3)

    rebuilt = np.quantile(paths.cumsum(axis=1), [0.5, 0.9, 0.99], axis=0)

    for row, level in enumerate((0.5, 0.9, 0.99)):
        stored = table[LEVELS.index(level)]
        assert np.allclose(rebuilt[row], stored, atol=1.0), level


def test_it_gives_the_lead_time_demand_law_for_a_random_lead_time():
    """With L drawn per path, protection demand is the mixture of the stored laws at L + R."""
    table = poisson_cumulative_table(2.0, 30)
    paths = paths_from_cumulative_quantiles(LEVELS, table, n_paths=8000, seed=5)
    lead_times = np.where(np.arange(8000) % 2 == 0, 5, 15)  # half the paths 5 days, half 15

    demand = protection_demand(paths, lead_times=lead_times, review_days=5)

    # Ten-day demand is Poisson(20), twenty-day demand Poisson(40): the mixture's mean is 30.
    assert demand.mean() == pytest.approx(30.0, abs=0.6)
    assert demand[lead_times == 5].mean() == pytest.approx(20.0, abs=0.6)
    assert demand[lead_times == 15].mean() == pytest.approx(40.0, abs=0.8)


def test_it_extends_each_path_at_its_own_recent_rate_past_the_stored_horizon():
    table = np.array([[k + 1.0 for k in range(14)], [2.0 * (k + 1) for k in range(14)]])  # 1/day at P25, 2 at P75

    paths = paths_from_cumulative_quantiles((0.25, 0.75), table, n_paths=2, horizon=20, seed=0)

    totals = paths.cumsum(axis=1)
    for path in totals:
        rate = path[13] / 14
        assert path[19] == pytest.approx(path[13] + 6 * rate)


def test_it_repairs_quantiles_that_cross_or_fall_and_never_goes_negative():
    table = np.array([[1.0, 3.0, 2.5], [0.5, 4.0, 6.0], [-1.0, 5.0, 7.0]])

    paths = paths_from_cumulative_quantiles((0.1, 0.5, 0.9), table, n_paths=50)

    assert (paths >= 0).all()
    assert (np.diff(paths.cumsum(axis=1), axis=1) >= -1e-12).all()


def test_it_rejects_levels_outside_the_open_unit_interval():
    with pytest.raises(ValueError, match="levels"):
        paths_from_cumulative_quantiles((0.0, 0.5), np.ones((2, 3)))
