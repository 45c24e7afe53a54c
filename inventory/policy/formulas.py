"""Textbook inventory formulas: normal-demand reorder point, EOQ and the newsvendor quantile.

These are the closed forms a planner can check by hand; the order decision (decision.py) uses sample paths
instead of the normal approximation, and these functions give it the economic order quantity and the
critical ratio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm


@dataclass(frozen=True)
class NormalReorderPoint:
    """Lead-time demand mean and std, safety stock and reorder point under normal demand and lead time."""

    lead_time_demand_mean: float
    lead_time_demand_std: float
    z: float
    safety_stock: float
    reorder_point: float


def normal_reorder_point(
    *,
    daily_demand_mean: float,
    daily_demand_std: float,
    lead_time_mean: float,
    lead_time_std: float,
    service_level: float,
) -> NormalReorderPoint:
    """ROP = mu_L + z * sigma_L with mu_L = L * mu_d and sigma_L = sqrt(L sigma_d^2 + mu_d^2 sigma_L^2).

    The variance adds the demand noise over the mean lead time and the lead time's own variance, both
    independent; z is the standard normal quantile of the target cycle service level.
    """
    if not 0.0 < service_level < 1.0:
        raise ValueError("service_level must be strictly between 0 and 1")
    mean = lead_time_mean * daily_demand_mean
    std = math.sqrt(lead_time_mean * daily_demand_std**2 + daily_demand_mean**2 * lead_time_std**2)
    z = float(norm.ppf(service_level))
    return NormalReorderPoint(
        lead_time_demand_mean=mean,
        lead_time_demand_std=std,
        z=z,
        safety_stock=z * std,
        reorder_point=mean + z * std,
    )


def economic_order_quantity(
    *, annual_demand: float, ordering_cost: float, annual_holding_cost_per_unit: float
) -> float:
    """EOQ = sqrt(2 D S / H): the order size that balances ordering and holding cost (0 when either is 0)."""
    if annual_demand < 0 or ordering_cost < 0 or annual_holding_cost_per_unit < 0:
        raise ValueError("demand and costs must be non-negative")
    if annual_demand == 0 or ordering_cost == 0:
        return 0.0
    if annual_holding_cost_per_unit == 0:
        return math.inf
    return math.sqrt(2.0 * annual_demand * ordering_cost / annual_holding_cost_per_unit)


def critical_ratio(*, underage_cost: float, overage_cost: float) -> float:
    """Cu / (Cu + Co): the newsvendor's optimal probability of not running out."""
    if underage_cost < 0 or overage_cost < 0 or underage_cost + overage_cost == 0:
        raise ValueError("costs must be non-negative and not both zero")
    return underage_cost / (underage_cost + overage_cost)


def newsvendor_quantity(*, demand_samples: np.ndarray, underage_cost: float, overage_cost: float) -> float:
    """The demand quantile at the critical ratio: the stock that minimises expected under- plus over-stock cost.

    Uses the inverted empirical distribution (the smallest sample whose CDF reaches the ratio), which is the
    exact minimiser of the sample's expected cost rather than an interpolated value.
    """
    ratio = critical_ratio(underage_cost=underage_cost, overage_cost=overage_cost)
    samples = np.asarray(demand_samples, dtype=float)
    if samples.size == 0:
        raise ValueError("demand_samples is empty")
    return float(np.quantile(samples, ratio, method="inverted_cdf"))
