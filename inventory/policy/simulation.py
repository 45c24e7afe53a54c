"""Replaying a replenishment rule over historical demand, and the baselines it is compared with.

The replay is daily and vectorised over SKUs. On day t (0-based index into the demand matrix):

1. orders due on day t arrive and can be sold that day;
2. on a review day the rule sees the demand history strictly before t (never day t or later), the stock on
   hand and the orders in transit with their expected arrival, and returns an order quantity per SKU; each
   order's true lead time is drawn from the SKU's lead-time law with a generator seeded by (seed, SKU, day),
   so every rule faces the same supplier behaviour;
3. demand of day t is served from stock; what cannot be served is lost (an e-commerce shopper buys elsewhere
   rather than waiting), so a stock-out does not create backorders that inflate later demand.

Each rule starts with the stock it would order up to from an empty shelf on the first day, so the replay does
not open with a stock-out or a glut that belongs to no rule. Costs: holding = inventory value x annual rate
/ 365 per day; ordering = the SKU's ordering cost per order placed; stock-out = lost units x unit margin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from forecasting.engine.auto import AutoForecaster
from inventory.policy.decision import (
    IncomingOrder,
    ItemTerms,
    PolicySettings,
    StockPosition,
    decide_order,
    required_horizon,
)
from inventory.policy.rounding import round_order_quantity

# Path days are clipped at this multiple of the largest day in the SKU's history (picked on an earlier window).
HISTORY_CAP_FACTOR = 1.0
# Sparse demand classes forecast without the weekly seasonal index: multiplied into a lumpy series it turns a few
# bulk days into a high daily mean (picked on an earlier window than the one reported; docs/reorder_policy.md).
SPARSE_CANDIDATES = ("tsb", "sba", "imapa", "ses", "moving_average")
POLICY_CANDIDATES: Mapping[str, Sequence[str]] = {"intermittent": SPARSE_CANDIDATES, "lumpy": SPARSE_CANDIDATES}
# (histories, horizon) -> one (n_paths, horizon) array of daily demand paths per history.
PathForecaster = Callable[[list[np.ndarray], int], list[np.ndarray]]


@dataclass(frozen=True)
class SimulationItem:
    sku: str
    terms: ItemTerms
    first_index: int = 0  # the SKU's first day with a sale; history before it is not the SKU's demand


@dataclass(frozen=True)
class ReviewState:
    """What a rule may look at on a review day."""

    day: int
    today: dt.date
    history: np.ndarray  # (n, day): demand strictly before the review day, NaN where unknown
    on_hand: np.ndarray  # (n,)
    in_transit: tuple[tuple[IncomingOrder, ...], ...]  # per SKU, with expected (not true) arrival dates


def cap_paths_at_history(paths: np.ndarray, history: np.ndarray, *, factor: float) -> np.ndarray:
    """Clip every path day at factor x the largest day of the SKU's history.

    Calibrated paths multiply the forecast by backtest ratios actual / forecast drawn independently per day; a
    bulk order that met a near-zero backtest forecast gives a ratio in the thousands, and one such draw makes a
    path day far beyond anything the SKU has ever sold. Planning stock for it is never worth it, so the policy
    bounds a day by what has been seen (with no history there is nothing to bound by).
    """
    observed = history[np.isfinite(history)]
    if observed.size == 0:
        return paths
    return np.minimum(paths, factor * float(observed.max()))


class ReplenishmentRule:
    name: str = ""

    def order_quantities(self, state: ReviewState, items: Sequence[SimulationItem]) -> np.ndarray:
        raise NotImplementedError


class ForecastPolicy(ReplenishmentRule):
    """Ours: (R, s, S) from the forecaster's sample paths (decision.decide_order), all SKUs in one forecast."""

    name = "probabilistic (ours)"

    def __init__(
        self,
        *,
        settings: PolicySettings,
        forecaster: PathForecaster,
        seed: int = 0,
        history_cap_factor: float | None = HISTORY_CAP_FACTOR,
    ) -> None:
        self.settings = settings
        self.forecaster = forecaster
        self.seed = seed
        self.history_cap_factor = history_cap_factor

    def order_quantities(self, state: ReviewState, items: Sequence[SimulationItem]) -> np.ndarray:
        horizon = max(required_horizon(item.terms.lead_time, self.settings.review_days) for item in items)
        histories = [state.history[i, item.first_index : state.day] for i, item in enumerate(items)]
        paths = self.forecaster(histories, horizon)
        if self.history_cap_factor is not None:
            paths = [
                cap_paths_at_history(item_paths, history, factor=self.history_cap_factor)
                for item_paths, history in zip(paths, histories, strict=True)
            ]
        quantities = np.zeros(len(items))
        for i, item in enumerate(items):
            position = StockPosition(on_hand=float(state.on_hand[i]), incoming=state.in_transit[i])
            decision = decide_order(
                today=state.today,
                position=position,
                paths=paths[i],
                terms=item.terms,
                settings=self.settings,
                seed=self.seed + state.day,
            )
            quantities[i] = decision.quantity
        return quantities


class TrailingAverageRule(ReplenishmentRule):
    """Baselines on the trailing average daily demand: order up to `max` when the position is below `min`."""

    def __init__(self, *, settings: PolicySettings, safety_days: float = 0.0, window_days: int = 90) -> None:
        self.settings = settings
        self.safety_days = safety_days
        self.window_days = window_days

    def levels(self, average: np.ndarray, lead_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def order_quantities(self, state: ReviewState, items: Sequence[SimulationItem]) -> np.ndarray:
        window = np.nan_to_num(state.history[:, max(0, state.day - self.window_days) : state.day])
        average = window.sum(axis=1) / self.window_days if window.shape[1] else np.zeros(len(items))
        lead_days = np.array([item.terms.lead_time.mean_days for item in items])
        minimum, maximum = self.levels(average, lead_days)
        position = state.on_hand + np.array([sum(order.quantity for order in orders) for orders in state.in_transit])
        suggested = np.where(position < minimum, maximum - position, 0.0)
        return np.array(
            [
                round_order_quantity(
                    float(quantity), minimum_order=item.terms.minimum_order, pack_size=item.terms.pack_size
                ).quantity
                for quantity, item in zip(suggested, items, strict=True)
            ],
            dtype=float,
        )


class MinMaxRule(TrailingAverageRule):
    """Odoo-style reordering rule: min = average x lead time, max = min + average x review days.

    safety_days (0 in Odoo's textbook form) adds that many days of average demand to both levels, which is how
    the comparison finds the min/max that matches another rule's fill rate.
    """

    name = "min/max"

    def levels(self, average: np.ndarray, lead_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        minimum = average * (lead_days + self.safety_days)
        return minimum, minimum + average * self.settings.review_days


class DaysOfCoverRule(TrailingAverageRule):
    """Keep lead time + review + safety_days days of average demand: order up to that at every review."""

    name = "days of cover"

    def levels(self, average: np.ndarray, lead_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        target = average * (lead_days + self.settings.review_days + self.safety_days)
        return target, target


@dataclass(frozen=True)
class SimulationResult:
    rule: str
    items: int
    days: int
    demand_units: float
    sold_units: float
    lost_units: float
    fill_rate: float  # units sold / units demanded
    cycle_service_level: float  # share of (SKU, review cycle) pairs without a lost sale
    stockout_days: int  # (SKU, day) pairs with a lost sale
    average_inventory_value: float
    turns: float  # annualised cost of goods sold / average inventory value
    orders_placed: int
    holding_cost: float
    ordering_cost: float
    stockout_cost: float
    item_average_inventory_value: np.ndarray  # (n,) per SKU, to see which SKUs hold the stock
    item_fill_rate: np.ndarray  # (n,) per SKU; 1 where the SKU had no demand in the window

    @property
    def total_cost(self) -> float:
        return self.holding_cost + self.ordering_cost + self.stockout_cost


def simulate(
    *,
    demand: np.ndarray,
    items: Sequence[SimulationItem],
    rule: ReplenishmentRule,
    settings: PolicySettings,
    start: int,
    days: int,
    first_date: dt.date,
    seed: int = 0,
    initial_on_hand: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Replay `rule` on days [start, start + days) of `demand` (n SKUs x T days; day 0 is first_date)."""
    demand = np.asarray(demand, dtype=float)
    n_items, total_days = demand.shape
    if len(items) != n_items:
        raise ValueError("one item per demand row")
    if start < 1 or start + days > total_days:
        raise ValueError("the window needs history before it and must end inside the demand matrix")
    actual = np.nan_to_num(demand)
    unit_cost = np.array([item.terms.unit_cost for item in items])
    margin = np.array([max(0.0, item.terms.price - item.terms.unit_cost) for item in items])
    ordering_cost = np.array([item.terms.ordering_cost for item in items])
    review = settings.review_days

    arrivals: dict[int, np.ndarray] = {}
    in_transit: list[list[tuple[int, IncomingOrder]]] = [[] for _ in range(n_items)]
    if initial_on_hand is None:
        empty = ReviewState(
            day=start,
            today=first_date + dt.timedelta(days=start),
            history=demand[:, :start],
            on_hand=np.zeros(n_items),
            in_transit=tuple(() for _ in range(n_items)),
        )
        initial_on_hand = rule.order_quantities(empty, items)
    on_hand = np.asarray(initial_on_hand, dtype=float).copy()

    lost = np.zeros((n_items, days))
    sold_total = 0.0
    inventory_value = np.zeros(days)
    item_inventory_units = np.zeros(n_items)
    orders_placed = np.zeros(n_items)
    for offset in range(days):
        day = start + offset
        today = first_date + dt.timedelta(days=day)
        on_hand += arrivals.pop(day, 0.0)
        for transit in in_transit:
            transit[:] = [(arrival, order) for arrival, order in transit if arrival > day]
        if offset % review == 0:
            state = ReviewState(
                day=day,
                today=today,
                history=demand[:, :day],
                on_hand=on_hand.copy(),
                in_transit=tuple(tuple(order for _arrival, order in transit) for transit in in_transit),
            )
            quantities = rule.order_quantities(state, items)
            for i in np.flatnonzero(quantities > 0):
                law = items[i].terms.lead_time
                lead = int(law.draw(1, np.random.default_rng([seed, int(i), day]))[0])
                arrivals.setdefault(day + lead, np.zeros(n_items))[i] += quantities[i]
                expected = today + dt.timedelta(days=round(law.mean_days))
                in_transit[i].append((day + lead, IncomingOrder(quantity=float(quantities[i]), expected_on=expected)))
                orders_placed[i] += 1
        served = np.minimum(on_hand, actual[:, day])
        on_hand -= served
        sold_total += float(served.sum())
        lost[:, offset] = actual[:, day] - served
        inventory_value[offset] = float(on_hand @ unit_cost)
        item_inventory_units += on_hand
        if progress is not None:
            progress(1)

    window = actual[:, start : start + days]
    full_cycles = days // review
    cycles = (
        lost[:, : full_cycles * review].reshape(n_items, full_cycles, review).sum(axis=2)
        if full_cycles
        else lost[:, :0]
    )
    average_value = float(inventory_value.mean())
    cogs = float(((window - lost) * unit_cost[:, None]).sum())
    demand_units = float(window.sum())
    item_demand = window.sum(axis=1)
    item_lost = lost.sum(axis=1)
    return SimulationResult(
        rule=rule.name,
        items=n_items,
        days=days,
        demand_units=demand_units,
        sold_units=sold_total,
        lost_units=float(lost.sum()),
        fill_rate=sold_total / demand_units if demand_units else 1.0,
        cycle_service_level=float((cycles <= 1e-9).mean()) if cycles.size else 1.0,
        stockout_days=int((lost > 1e-9).sum()),
        average_inventory_value=average_value,
        turns=cogs / average_value * 365.0 / days if average_value else 0.0,
        orders_placed=int(orders_placed.sum()),
        holding_cost=float(inventory_value.sum()) * settings.holding_cost_rate / 365.0,
        ordering_cost=float(orders_placed @ ordering_cost),
        stockout_cost=float(item_lost @ margin),
        item_average_inventory_value=item_inventory_units / days * unit_cost,
        item_fill_rate=np.divide(item_demand - item_lost, item_demand, out=np.ones(n_items), where=item_demand > 0),
    )


def match_fill_rate(
    *,
    make_rule: Callable[[float], ReplenishmentRule],
    target_fill_rate: float,
    run: Callable[[ReplenishmentRule], SimulationResult],
    max_safety_days: float = 365.0,
    iterations: int = 10,
) -> tuple[float, SimulationResult]:
    """The fewest safety days (bisection) at which a baseline's fill rate reaches the target, and its result.

    Fill rate rises with safety days, so bisection converges; if even max_safety_days falls short, that
    result is returned and the caller sees a fill rate below the target.
    """
    low, high = 0.0, max_safety_days
    best = run(make_rule(high))
    if best.fill_rate < target_fill_rate:
        return high, best
    result_low = run(make_rule(low))
    if result_low.fill_rate >= target_fill_rate:
        return low, result_low
    for _ in range(iterations):
        middle = (low + high) / 2.0
        result = run(make_rule(middle))
        if result.fill_rate >= target_fill_rate:
            high, best = middle, result
        else:
            low = middle
    return high, best


def auto_path_forecaster(
    *, n_paths: int = 200, seed: int = 0, candidates: Mapping[str, Sequence[str]] | None = POLICY_CANDIDATES
) -> PathForecaster:
    """The engine's AutoForecaster as a PathForecaster: one call for every SKU of a decision date.

    candidates overrides the engine's routes per demand class (None keeps the engine's own for every class).
    """

    def forecast(histories: list[np.ndarray], horizon: int) -> list[np.ndarray]:
        forecaster = AutoForecaster(season_length=7, n_paths=n_paths, seed=seed, candidates=candidates)
        results = forecaster.forecast(histories, horizon, quantiles=(0.5, 0.9))
        return [
            result.forecast.paths if result.forecast.paths is not None else result.forecast.mean[None, :]
            for result in results
        ]

    return forecast
