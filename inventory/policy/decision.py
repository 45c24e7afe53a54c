"""The order decision for one SKU at one review: periodic review (R, s, S) from demand sample paths.

At each review the planner looks at the inventory position (on hand + on order - committed) and the demand
over the protection interval, lead time L + review period R, because an order placed now is the last one that
can arrive before the one placed at the next review:

- reorder point s = the service-level quantile of protection-interval demand (L drawn per path from the
  supplier's law, so lead-time variability is in the quantile); safety stock = s - its mean;
- order-up-to S = s, raised by the EOQ surplus over one review's demand when ordering is expensive enough that
  ordering at every review would cost more than holding the larger batch;
- when the position is below s, the suggestion is S - position, rounded up to MOQ and pack size.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from inventory.policy.formulas import economic_order_quantity
from inventory.policy.leadtime import LeadTimeLaw, protection_demand
from inventory.policy.rounding import RoundedQuantity, RoundingReason, round_order_quantity


@dataclass(frozen=True)
class IncomingOrder:
    quantity: float
    expected_on: dt.date


@dataclass(frozen=True)
class StockPosition:
    on_hand: float
    committed: float = 0.0
    incoming: tuple[IncomingOrder, ...] = ()

    @property
    def on_order(self) -> float:
        return float(sum(order.quantity for order in self.incoming))

    @property
    def inventory_position(self) -> float:
        return self.on_hand + self.on_order - self.committed


@dataclass(frozen=True)
class ItemTerms:
    """What the supplier and the catalogue say about one SKU."""

    lead_time: LeadTimeLaw
    unit_cost: float
    price: float
    minimum_order: int = 1
    pack_size: int = 1
    ordering_cost: float = 0.0


@dataclass(frozen=True)
class PolicySettings:
    service_level: float = 0.95  # target cycle service level: P(no stock-out in a review cycle)
    review_days: int = 7
    holding_cost_rate: float = 0.25  # per year, as a share of unit cost

    def __post_init__(self) -> None:
        if not 0.0 < self.service_level < 1.0:
            raise ValueError("service_level must be strictly between 0 and 1")
        if self.review_days < 1:
            raise ValueError("review_days must be at least 1")


@dataclass(frozen=True)
class OrderDecision:
    """Every number a reorder-plan line shows, and the sentence that explains it."""

    today: dt.date
    inventory_position: float
    on_hand: float
    on_order: float
    committed: float
    mean_daily_demand: float
    lead_time_days_mean: float
    lead_time_days_p90: int
    review_days: int
    service_level: float
    lead_time_demand_p50: float  # demand over lead time + review period (the protection interval)
    lead_time_demand_p90: float
    lead_time_demand_mean: float
    safety_stock: float
    reorder_point: float
    order_up_to: float
    economic_order_quantity: float
    suggested_quantity: float
    rounded: RoundedQuantity
    order_by: dt.date | None
    stockout_p50: dt.date | None  # first day cumulative P50 demand exceeds the stock available that day
    stockout_p90: dt.date | None
    days_of_cover_before: float | None
    days_of_cover_after: float | None
    cash_needed: float
    revenue_at_risk: float  # expected lost sales value over the protection interval if nothing is ordered
    explanation: str = field(default="")

    @property
    def quantity(self) -> int:
        return self.rounded.quantity


def required_horizon(law: LeadTimeLaw, review_days: int) -> int:
    """Days of sample paths the decision needs: the longest provisioned lead time plus the review period."""
    return law.max_days() + review_days


def decide_order(
    *,
    today: dt.date,
    position: StockPosition,
    paths: np.ndarray,
    terms: ItemTerms,
    settings: PolicySettings,
    seed: int = 0,
) -> OrderDecision:
    """The order to place today for one SKU, from (n, h) daily demand paths starting today."""
    paths = np.clip(np.nan_to_num(np.asarray(paths, dtype=float)), 0.0, None)
    if paths.ndim != 2 or paths.shape[0] == 0:
        raise ValueError("paths must be a non-empty (n, h) array")
    n_paths, horizon = paths.shape
    review = settings.review_days
    if horizon <= review:
        raise ValueError(f"paths cover {horizon} days; they must exceed the review period of {review}")
    rng = np.random.default_rng(seed)
    # Lead times beyond the paths' horizon are provisioned at the horizon: callers ask for required_horizon().
    lead_times = np.minimum(terms.lead_time.draw(n_paths, rng), horizon - review)
    demand = protection_demand(paths, lead_times=lead_times, review_days=review)

    level = settings.service_level
    reorder_point = float(np.quantile(demand, level))
    demand_mean = float(demand.mean())
    mean_daily = float(paths.mean())
    eoq = economic_order_quantity(
        annual_demand=mean_daily * 365.0,
        ordering_cost=terms.ordering_cost,
        annual_holding_cost_per_unit=terms.unit_cost * settings.holding_cost_rate,
    )
    review_demand = mean_daily * review
    order_up_to = reorder_point + (max(0.0, eoq - review_demand) if math.isfinite(eoq) else 0.0)

    ip = position.inventory_position
    suggested = order_up_to - ip if ip < reorder_point else 0.0
    rounded = round_order_quantity(suggested, minimum_order=terms.minimum_order, pack_size=terms.pack_size)

    cumulative = np.quantile(np.cumsum(paths, axis=1), (0.5, 0.9), axis=0)
    available = _available_by_day(today=today, position=position, horizon=horizon)
    stockout_p50 = _first_shortfall(today, cumulative[0], available)
    stockout_p90 = _first_shortfall(today, cumulative[1], available)
    lead_p90 = terms.lead_time.quantile(0.9)
    order_by = _order_by(today, rounded.quantity > 0, stockout_p90, lead_p90)
    shortfall = np.clip(demand - ip, 0.0, None)
    revenue_at_risk = float(shortfall.mean()) * terms.price
    decision = OrderDecision(
        today=today,
        inventory_position=ip,
        on_hand=position.on_hand,
        on_order=position.on_order,
        committed=position.committed,
        mean_daily_demand=mean_daily,
        lead_time_days_mean=terms.lead_time.mean_days,
        lead_time_days_p90=lead_p90,
        review_days=review,
        service_level=level,
        lead_time_demand_p50=float(np.quantile(demand, 0.5)),
        lead_time_demand_p90=float(np.quantile(demand, 0.9)),
        lead_time_demand_mean=demand_mean,
        safety_stock=reorder_point - demand_mean,
        reorder_point=reorder_point,
        order_up_to=order_up_to,
        economic_order_quantity=eoq,
        suggested_quantity=max(0.0, suggested),
        rounded=rounded,
        order_by=order_by,
        stockout_p50=stockout_p50,
        stockout_p90=stockout_p90,
        days_of_cover_before=_cover(ip, mean_daily),
        days_of_cover_after=_cover(ip + rounded.quantity, mean_daily),
        cash_needed=rounded.quantity * terms.unit_cost,
        revenue_at_risk=revenue_at_risk,
    )
    return _with_explanation(decision, terms)


def _available_by_day(*, today: dt.date, position: StockPosition, horizon: int) -> np.ndarray:
    """Stock that can serve demand on day k (k = 0 is today): on hand - committed + arrivals up to day k."""
    arrivals = np.zeros(horizon)
    for order in position.incoming:
        day = max(0, (order.expected_on - today).days)
        if day < horizon:
            arrivals[day] += order.quantity
    return position.on_hand - position.committed + np.cumsum(arrivals)


def _first_shortfall(today: dt.date, cumulative_demand: np.ndarray, available: np.ndarray) -> dt.date | None:
    short = np.flatnonzero(cumulative_demand > available + 1e-9)
    return today + dt.timedelta(days=int(short[0])) if short.size else None


def _order_by(today: dt.date, ordering: bool, stockout_p90: dt.date | None, lead_p90: int) -> dt.date | None:
    """Today when the position is already below the reorder point; else the last day an order placed with a
    P90 lead time still lands before the P90-demand stock-out; None when no stock-out is in sight."""
    if ordering:
        return today
    if stockout_p90 is None:
        return None
    return max(today, stockout_p90 - dt.timedelta(days=lead_p90))


def _cover(units: float, mean_daily: float) -> float | None:
    return units / mean_daily if mean_daily > 0 else None


def _with_explanation(decision: OrderDecision, terms: ItemTerms) -> OrderDecision:
    d = decision
    interval = (
        f"the {d.lead_time_days_mean:.0f}-day lead time ({terms.lead_time.source}) plus the {d.review_days}-day review"
    )
    position = f"stock position {d.inventory_position:.0f} (on hand {d.on_hand:.0f} + on order {d.on_order:.0f}"
    position += f" - committed {d.committed:.0f})" if d.committed else ")"
    demand = (
        f"over {interval}, demand is {d.lead_time_demand_p50:.0f} units at P50 and {d.lead_time_demand_p90:.0f} at P90"
    )
    target = (
        f"covering {d.service_level:.0%} of outcomes needs {d.reorder_point:.0f} units "
        f"(safety stock {d.safety_stock:.0f})"
    )
    if d.rounded.reason is RoundingReason.NO_ORDER:
        sentence = f"No order: {position} is at or above the reorder point {d.reorder_point:.0f}; {demand}."
        if d.stockout_p90:
            sentence += f" At P90 demand stock runs out on {d.stockout_p90.isoformat()}"
            sentence += f"; order by {d.order_by.isoformat()}." if d.order_by else "."
        return _replace_explanation(d, sentence)
    rounding = d.rounded.describe(minimum_order=terms.minimum_order, pack_size=terms.pack_size)
    sentence = (
        f"Order {d.quantity} units by {d.order_by.isoformat() if d.order_by else d.today.isoformat()} "
        f"({rounding}): {position} is below the reorder point; {demand}; {target}; "
        f"ordering up to {d.order_up_to:.0f} costs {d.cash_needed:.2f} and protects {d.revenue_at_risk:.2f} of "
        f"expected sales."
    )
    if d.stockout_p50:
        sentence += f" Without it, stock runs out around {d.stockout_p50.isoformat()} (P50 demand)"
        sentence += f", {d.stockout_p90.isoformat()} at P90." if d.stockout_p90 else "."
    if d.days_of_cover_before is not None and d.days_of_cover_after is not None:
        sentence += f" Cover goes from {d.days_of_cover_before:.0f} to {d.days_of_cover_after:.0f} days."
    return _replace_explanation(d, sentence)


def _replace_explanation(decision: OrderDecision, text: str) -> OrderDecision:
    return replace(decision, explanation=text)


def lead_time_demand_quantiles(
    paths: np.ndarray, *, law: LeadTimeLaw, review_days: int, levels: Sequence[float], seed: int = 0
) -> np.ndarray:
    """Quantiles of protection-interval demand from sample paths, L drawn per path: the decision's own law."""
    paths = np.asarray(paths, dtype=float)
    lead_times = np.minimum(law.draw(paths.shape[0], np.random.default_rng(seed)), paths.shape[1] - review_days)
    return np.quantile(protection_demand(paths, lead_times=lead_times, review_days=review_days), list(levels))
