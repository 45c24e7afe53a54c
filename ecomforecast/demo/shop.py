"""A deterministic synthetic shop whose ground truth is known, for demos and for testing forecasts against.

Pure numpy/pandas: no Django. `generate_demo_shop` returns the shop as DataFrames in the importers' generic
layouts plus a `DemoTruth` holding what generated them (true rates, planted lifts, churn days, stock-outs).
The model and every parameter are described in docs/demo_shop.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DEMAND_CLASSES = ("smooth", "intermittent", "lumpy", "new", "dead")
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class CategorySpec:
    name: str
    yearly_amplitude: float
    peak_day_of_year: int
    return_rate: float
    nouns: tuple[str, ...]


DEFAULT_CATEGORIES = (
    CategorySpec("Kitchen", 0.10, 340, 0.03, ("Mug", "Teapot", "Bowl", "Chopping Board", "Tea Towel", "Storage Jar")),
    CategorySpec(
        "Garden", 0.45, 160, 0.04, ("Planter", "Watering Can", "Seed Tin", "Bird Feeder", "Trowel", "Lantern")
    ),
    CategorySpec("Toys", 0.30, 350, 0.05, ("Puzzle", "Spinning Top", "Kite", "Building Set", "Plush Bear", "Yo-Yo")),
    CategorySpec("Stationery", 0.20, 245, 0.02, ("Notebook", "Pencil Set", "Card Pack", "Washi Tape", "Planner")),
    CategorySpec("Gifts", 0.50, 352, 0.06, ("Candle", "Gift Box", "Photo Frame", "Ornament", "Keyring", "Bauble")),
    CategorySpec("Apparel", 0.20, 20, 0.08, ("Scarf", "Beanie", "Tote Bag", "Apron", "Socks", "Gloves")),
)
ADJECTIVES = ("Vintage", "Enamel", "Rustic", "Classic", "Nordic", "Retro", "Botanical", "Striped", "Spotty", "Woodland")
COLOURS = ("Red", "Blue", "Green", "Pink", "Ivory", "Black", "Mustard", "Teal")
SUPPLIER_NAMES = (
    "Northwind Trading",
    "Harbour Crafts",
    "Bluebell Wholesale",
    "Kestrel Imports",
    "Meadow & Co",
    "Granite Goods",
    "Lantern Supply",
    "Oakridge Makers",
)
CAMPAIGN_THEMES = ("Spring", "Summer", "Autumn", "Winter", "Weekend", "Flash", "Member", "Clearance")


@dataclass(frozen=True)
class ShopModel:
    """Every parameter of the synthetic shop; docs/demo_shop.md explains each one."""

    class_shares: tuple[tuple[str, float], ...] = (
        ("smooth", 0.45),
        ("intermittent", 0.20),
        ("lumpy", 0.13),
        ("new", 0.12),
        ("dead", 0.10),
    )
    categories: tuple[CategorySpec, ...] = DEFAULT_CATEGORIES
    weekly_profile: tuple[float, ...] = (1.00, 1.05, 1.05, 1.10, 1.15, 0.85, 0.80)
    smooth_line_rate_median: float = 1.6
    smooth_line_rate_sigma: float = 0.5
    smooth_line_rate_bounds: tuple[float, float] = (1.0, 6.0)
    smooth_quantity_mean: tuple[float, float] = (1.05, 1.6)
    intermittent_line_rate: tuple[float, float] = (0.08, 0.35)
    intermittent_quantity_mean: tuple[float, float] = (1.0, 1.5)
    lumpy_line_rate: tuple[float, float] = (0.05, 0.25)
    lumpy_quantity_mean: tuple[float, float] = (4.0, 15.0)
    lumpy_quantity_dispersion: float = 0.8
    trend_sigma_per_year: float = 0.15
    trend_bound_per_year: float = 0.4
    new_launch_window: tuple[float, float] = (0.45, 0.9)
    new_ramp_days: int = 21
    new_ramp_floor: float = 0.2
    dead_end_window: tuple[float, float] = (0.3, 0.7)
    dead_fade_days: int = 30
    price_median: float = 12.0
    price_sigma: float = 0.6
    price_changes_per_year: float = 0.8
    price_change_range: tuple[float, float] = (0.90, 1.12)
    price_elasticity_range: tuple[float, float] = (1.0, 2.0)
    unit_cost_ratio: tuple[float, float] = (0.35, 0.60)
    campaign_every_days: int = 30
    campaign_duration_days: tuple[int, int] = (5, 14)
    campaign_lead_in_days: int = 7
    campaign_discounts: tuple[int, ...] = (10, 15, 20, 25, 30, 40)
    campaign_sensitivity_range: tuple[float, float] = (2.5, 5.0)
    campaign_no_effect_share: float = 0.1
    campaign_category_share: float = 0.35
    campaign_sku_count: tuple[int, int] = (2, 5)
    campaign_cost_per_day: tuple[float, float] = (10.0, 60.0)
    campaign_channels: tuple[str, ...] = ("email", "social", "search", "site")
    campaign_segments: tuple[str, ...] = ("all", "returning", "lapsed", "new")
    dip_days: int = 7
    dip_per_unit_lift: float = 0.25
    dip_max: float = 0.4
    suppliers: int = 6
    supplier_lead_time_mean: tuple[float, float] = (5.0, 28.0)
    supplier_lead_time_cv: tuple[float, float] = (0.1, 0.4)
    supplier_order_cost: tuple[float, float] = (20.0, 120.0)
    review_days: int = 7
    extra_cover_days: tuple[int, int] = (0, 14)
    lean_share: float = 0.3
    lean_safety_factor: tuple[float, float] = (-0.5, 0.3)
    safety_factor: tuple[float, float] = (1.0, 2.0)
    pack_sizes: tuple[tuple[int, float], ...] = ((1, 0.5), (6, 0.3), (12, 0.2))
    moq_packs: tuple[int, ...] = (1, 2, 4)
    return_delay_days: tuple[int, int] = (3, 28)
    basket_extra_lines: float = 0.5
    guest_share: float = 0.04
    new_customer_share: float = 0.35
    initial_customers_per_daily_order: float = 20.0
    purchase_rate_shape: float = 0.8
    dropout_beta: tuple[float, float] = (1.2, 8.0)
    cancelled_share: float = 0.01
    channels: tuple[tuple[str, float], ...] = (("web", 0.65), ("app", 0.30), ("marketplace", 0.05))
    countries: tuple[tuple[str, float], ...] = (
        ("United Kingdom", 0.82),
        ("Germany", 0.05),
        ("France", 0.05),
        ("Ireland", 0.04),
        ("Netherlands", 0.02),
        ("Spain", 0.02),
    )
    order_hours: tuple[float, ...] = (3, 4, 5, 5, 5, 5, 5, 6, 7, 8, 10, 11, 10, 6)  # weights of 08:00..21:00 UTC
    activity_days: int = 90
    browse_sessions_per_order: float = 1.0
    abandoned_cart_probability: float = 0.3
    search_probability: float = 0.5
    currency: str = "GBP"


@dataclass(frozen=True, eq=False)
class DemoTruth:
    """What generated the shop, for tests and evaluations to check against.

    skus: one row per SKU (demand class, true base line rate, mean line quantity, mean daily units, ...).
    daily: one row per SKU and day (expected units with and without campaign effects, realised demand before
        censoring, sales, end-of-day stock, whether the day was a stock-out).
    campaigns: one row per campaign (true lift multiplier, post-campaign dip, promoted SKUs).
    customers: one row per customer who ordered (relative purchase rate, dropout probability, churn date).
    stockout_days: (sku, date) of every day a stocked, selling SKU started with nothing on hand.
    """

    weekly_profile: tuple[float, ...]
    skus: pd.DataFrame
    daily: pd.DataFrame
    campaigns: pd.DataFrame
    customers: pd.DataFrame
    suppliers: pd.DataFrame
    stockout_days: pd.DataFrame


@dataclass(frozen=True, eq=False)
class DemoShop:
    seed: int
    start: dt.date
    end: dt.date
    suppliers: pd.DataFrame
    products: pd.DataFrame
    stock: pd.DataFrame
    purchase_orders: pd.DataFrame
    campaigns: pd.DataFrame
    orders: pd.DataFrame
    activity: pd.DataFrame
    truth: DemoTruth = field(repr=False)


def default_start(days: int, *, today: dt.date | None = None) -> dt.date:
    """The first day of a history of `days` days that ends yesterday."""
    today = today or dt.date.today()
    return today - dt.timedelta(days=days)


def generate_demo_shop(
    seed: int, skus: int, days: int, start: dt.date | None = None, model: ShopModel | None = None
) -> DemoShop:
    """The same seed, size, start and model always give identical frames."""
    if skus < 1 or days < 28:
        raise ValueError("a demo shop needs at least 1 SKU and 28 days")
    return _ShopBuilder(seed, skus, days, start or default_start(days), model or ShopModel()).build()


class _ShopBuilder:
    def __init__(self, seed: int, skus: int, days: int, start: dt.date, model: ShopModel) -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.model = model
        self.n_skus = skus
        self.n_days = days
        self.start = start
        self.dates = pd.date_range(start, periods=days, freq="D")
        # Ordering looks ahead past the end of the history, so expected demand is computed further out.
        self.lookahead = 120
        self.horizon_dates = pd.date_range(start, periods=days + self.lookahead, freq="D")

    def build(self) -> DemoShop:
        self._draw_catalogue()
        self._draw_suppliers()
        self._draw_demand_rates()
        self._draw_campaigns()
        self._draw_demand()
        self._simulate_stock()
        self._simulate_customers()
        return self._assemble()

    # Catalogue -----------------------------------------------------------------------------------------

    def _draw_catalogue(self) -> None:
        m, rng, k = self.model, self.rng, self.n_skus
        names = [name for name, _ in m.class_shares]
        shares = np.array([share for _, share in m.class_shares])
        counts = np.floor(shares / shares.sum() * k).astype(int)
        if k >= len(names):
            counts = np.maximum(counts, 1)
        while counts.sum() > k:
            counts[np.argmax(counts)] -= 1
        remainders = shares / shares.sum() * k - np.floor(shares / shares.sum() * k)
        for index in np.argsort(-remainders, kind="stable"):
            if counts.sum() >= k:
                break
            counts[index] += 1
        self.demand_class = rng.permutation(np.repeat(np.array(names), counts))
        self.category = rng.integers(0, len(m.categories), size=k)
        self.sku_codes = np.array([f"SKU-{i + 1:04d}" for i in range(k)])
        self.product_names = np.array(
            [
                f"{rng.choice(ADJECTIVES)} {rng.choice(m.categories[c].nouns)} {rng.choice(COLOURS)}"
                for c in self.category
            ]
        )
        base_price = np.exp(rng.normal(np.log(m.price_median), m.price_sigma, size=k))
        self.base_price = _retail_price(base_price)
        self.unit_cost = np.round(self.base_price * rng.uniform(*m.unit_cost_ratio, size=k), 2)
        pack_values = np.array([size for size, _ in m.pack_sizes])
        pack_weights = np.array([weight for _, weight in m.pack_sizes])
        self.pack_size = rng.choice(pack_values, size=k, p=pack_weights / pack_weights.sum())
        self.min_order_qty = self.pack_size * rng.choice(np.array(m.moq_packs), size=k)

    def _draw_suppliers(self) -> None:
        m, rng = self.model, self.rng
        n = max(1, min(m.suppliers, len(SUPPLIER_NAMES), self.n_skus))
        self.supplier_codes = np.array([f"SUP-{i + 1:02d}" for i in range(n)])
        self.supplier_names = np.array(SUPPLIER_NAMES[:n])
        self.lead_mean = np.round(rng.uniform(*m.supplier_lead_time_mean, size=n), 1)
        self.lead_std = np.round(self.lead_mean * rng.uniform(*m.supplier_lead_time_cv, size=n), 1)
        self.order_cost = np.round(rng.uniform(*m.supplier_order_cost, size=n), 2)
        # Every supplier gets at least one SKU when there are enough SKUs.
        self.supplier = rng.permutation(np.resize(np.arange(n), self.n_skus))
        self.review_offset = np.arange(n) % m.review_days

    # Demand --------------------------------------------------------------------------------------------

    def _draw_demand_rates(self) -> None:
        m, rng, k, n_days = self.model, self.rng, self.n_skus, self.n_days
        horizon = n_days + self.lookahead
        t = np.arange(horizon)
        cls = self.demand_class
        line_rate = np.exp(rng.normal(np.log(m.smooth_line_rate_median), m.smooth_line_rate_sigma, size=k))
        line_rate = np.clip(line_rate, *m.smooth_line_rate_bounds)
        quantity_mean = rng.uniform(*m.smooth_quantity_mean, size=k)
        intermittent = cls == "intermittent"
        lumpy = cls == "lumpy"
        line_rate[intermittent] = rng.uniform(*m.intermittent_line_rate, size=intermittent.sum())
        quantity_mean[intermittent] = rng.uniform(*m.intermittent_quantity_mean, size=intermittent.sum())
        line_rate[lumpy] = rng.uniform(*m.lumpy_line_rate, size=lumpy.sum())
        quantity_mean[lumpy] = rng.uniform(*m.lumpy_quantity_mean, size=lumpy.sum())
        self.base_line_rate = line_rate
        self.quantity_mean = quantity_mean
        # E[q^2] of the line-quantity law, for the variance of demand over a lead time.
        poisson_part = quantity_mean - 1
        self.quantity_second_moment = np.where(
            lumpy,
            quantity_mean**2 + poisson_part + poisson_part**2 / m.lumpy_quantity_dispersion,
            quantity_mean**2 + poisson_part,
        )

        self.trend_per_year = np.clip(
            rng.normal(0, m.trend_sigma_per_year, size=k), -m.trend_bound_per_year, m.trend_bound_per_year
        )
        self.price_elasticity = rng.uniform(*m.price_elasticity_range, size=k)

        launch = np.full(k, -1)
        end = np.full(k, -1)
        new = cls == "new"
        dead = cls == "dead"
        launch[new] = (rng.uniform(*m.new_launch_window, size=new.sum()) * n_days).astype(int)
        end[dead] = (rng.uniform(*m.dead_end_window, size=dead.sum()) * n_days).astype(int)
        self.launch_day, self.end_day = launch, end

        lifecycle = np.ones((k, horizon))
        for i in np.flatnonzero(new):
            ramp = np.clip((t - launch[i] + 1) / m.new_ramp_days, 0, 1)
            lifecycle[i] = np.where(t >= launch[i], np.maximum(ramp, m.new_ramp_floor), 0.0)
        for i in np.flatnonzero(dead):
            fade = np.clip((end[i] - t) / m.dead_fade_days, 0, 1)
            lifecycle[i] = np.where(t < end[i], fade, 0.0)
        self.lifecycle = lifecycle

        self.price = np.empty((k, horizon))
        for i in range(k):
            n_changes = rng.poisson(m.price_changes_per_year * n_days / 365)
            change_days = np.sort(rng.integers(1, n_days, size=n_changes))
            factors = rng.uniform(*m.price_change_range, size=n_changes)
            level = np.ones(horizon)
            for day, factor in zip(change_days, factors, strict=True):
                level[day:] *= factor
            self.price[i] = _retail_price(self.base_price[i] * level)

        weekly = np.array(m.weekly_profile)
        self.weekly_profile = weekly / weekly.mean()
        weekday = self.horizon_dates.weekday.to_numpy()
        day_of_year = self.horizon_dates.dayofyear.to_numpy()
        amplitude = np.array([m.categories[c].yearly_amplitude for c in self.category])[:, None]
        peak = np.array([m.categories[c].peak_day_of_year for c in self.category])[:, None]
        yearly = 1 + amplitude * np.cos(2 * np.pi * (day_of_year[None, :] - peak) / 365.25)
        trend = np.exp(self.trend_per_year[:, None] * (t[None, :] - n_days / 2) / 365)
        price_effect = (self.price / self.base_price[:, None]) ** (-self.price_elasticity[:, None])
        self.base_lines = (
            line_rate[:, None] * self.weekly_profile[weekday][None, :] * yearly * trend * lifecycle * price_effect
        )

    def _draw_campaigns(self) -> None:
        m, rng, k, n_days = self.model, self.rng, self.n_skus, self.n_days
        horizon = n_days + self.lookahead
        self.promo_multiplier = np.ones((k, horizon))
        self.promo_discount = np.zeros((k, n_days))
        self.campaign_index = np.full((k, n_days), -1)
        records = []
        slot = m.campaign_every_days
        for slot_start in range(0, n_days - slot + 1, slot):
            duration = int(rng.integers(m.campaign_duration_days[0], m.campaign_duration_days[1] + 1))
            latest = slot_start + slot - duration - m.dip_days
            first = slot_start + m.campaign_lead_in_days
            if latest < first:
                continue
            start = int(rng.integers(first, latest + 1))
            window = np.arange(start, start + duration)
            active = self.lifecycle[:, window].min(axis=1) > 0
            if not active.any():
                continue
            by_category = rng.random() < m.campaign_category_share
            if by_category:
                category = int(rng.choice(np.unique(self.category[active])))
                promoted = np.flatnonzero(self.category == category)
            else:
                candidates = np.flatnonzero(active)
                weights = self.base_lines[candidates][:, window].mean(axis=1)
                n_promoted = min(
                    len(candidates), int(rng.integers(m.campaign_sku_count[0], m.campaign_sku_count[1] + 1))
                )
                promoted = np.sort(rng.choice(candidates, size=n_promoted, replace=False, p=weights / weights.sum()))
                category = -1
            if rng.random() < m.campaign_no_effect_share:
                discount, lift, dip = 0, 1.0, 0.0
            else:
                discount = int(rng.choice(np.array(m.campaign_discounts)))
                lift = float(1 + discount / 100 * rng.uniform(*m.campaign_sensitivity_range))
                dip = float(min(m.dip_max, m.dip_per_unit_lift * (lift - 1)))
            index = len(records)
            self.promo_multiplier[np.ix_(promoted, window)] *= lift
            dip_window = np.arange(start + duration, start + duration + m.dip_days)
            dip_shape = 1 - dip * (1 - np.arange(m.dip_days) / m.dip_days)
            self.promo_multiplier[np.ix_(promoted, dip_window)] *= dip_shape[None, :]
            self.promo_discount[np.ix_(promoted, window)] = discount
            self.campaign_index[np.ix_(promoted, window)] = index
            channel = str(rng.choice(np.array(m.campaign_channels)))
            theme = str(rng.choice(np.array(CAMPAIGN_THEMES)))
            subject = m.categories[category].name if category >= 0 else "Selected lines"
            title = f"{theme} {subject} {discount}% off" if discount else f"{theme} {subject} spotlight"
            records.append(
                {
                    "campaign_id": f"CMP-{index + 1:03d}",
                    "name": title,
                    "start_day": start,
                    "end_day": start + duration - 1,
                    "discount_pct": discount,
                    "channel": channel,
                    "category": category,
                    "skus": promoted,
                    "target_segment": str(rng.choice(np.array(m.campaign_segments))),
                    "cost": round(float(rng.uniform(*m.campaign_cost_per_day)) * duration, 2),
                    "lift": lift,
                    "dip_depth": dip,
                }
            )
        self.campaign_records = records
        self.expected_lines = self.base_lines * self.promo_multiplier
        self.expected_units = self.expected_lines * self.quantity_mean[:, None]

    def _draw_demand(self) -> None:
        m, rng, k, n_days = self.model, self.rng, self.n_skus, self.n_days
        lines_per_cell = rng.poisson(self.expected_lines[:, :n_days])
        # Lines are stored day-major then SKU, so one day's lines form one contiguous slice.
        counts = lines_per_cell.T.ravel()
        self.line_sku = np.repeat(np.tile(np.arange(k), n_days), counts)
        self.line_day = np.repeat(np.repeat(np.arange(n_days), k), counts)
        qmean = self.quantity_mean[self.line_sku]
        lumpy = self.demand_class[self.line_sku] == "lumpy"
        quantity = 1 + rng.poisson(np.maximum(qmean - 1, 0))
        dispersion = m.lumpy_quantity_dispersion
        n_lumpy = int(lumpy.sum())
        if n_lumpy:
            p = dispersion / (dispersion + qmean[lumpy] - 1)
            quantity[lumpy] = 1 + rng.negative_binomial(dispersion, p, size=n_lumpy)
        self.line_quantity = quantity
        self.day_offsets = np.concatenate([[0], np.cumsum(lines_per_cell.sum(axis=0))])
        demand = np.zeros((k, n_days), dtype=np.int64)
        np.add.at(demand, (self.line_sku, self.line_day), quantity)
        self.demand_units = demand

    # Stock and purchase orders ------------------------------------------------------------------------

    def _simulate_stock(self) -> None:
        m, rng, k, n_days = self.model, self.rng, self.n_skus, self.n_days
        lean = rng.random(k) < m.lean_share
        self.safety = np.where(lean, rng.uniform(*m.lean_safety_factor, size=k), rng.uniform(*m.safety_factor, size=k))
        self.extra_cover = rng.integers(m.extra_cover_days[0], m.extra_cover_days[1] + 1, size=k)
        cumulative_units = np.concatenate([np.zeros((k, 1)), np.cumsum(self.expected_units, axis=1)], axis=1)
        cumulative_variance = np.concatenate(
            [np.zeros((k, 1)), np.cumsum(self.expected_lines * self.quantity_second_moment[:, None], axis=1)], axis=1
        )
        sku_lead_mean = self.lead_mean[self.supplier]
        sku_lead_std = self.lead_std[self.supplier]
        cover = np.ceil(sku_lead_mean + m.review_days + self.extra_cover).astype(int)
        rows = np.arange(k)

        def order_up_to(day: int) -> np.ndarray:
            until = np.minimum(day + cover, cumulative_units.shape[1] - 1)
            mean = cumulative_units[rows, until] - cumulative_units[:, day]
            variance = cumulative_variance[rows, until] - cumulative_variance[:, day]
            daily = mean / cover
            return mean + self.safety * np.sqrt(variance + (daily * sku_lead_std) ** 2)

        on_hand = np.where(self.lifecycle[:, 0] > 0, np.ceil(np.maximum(order_up_to(0), 0)), 0).astype(np.int64)
        stocked_from = np.where(on_hand > 0, 0, -1)
        receipts = np.zeros((k, n_days + 1), dtype=np.int64)
        restock = np.zeros((k, n_days + 1), dtype=np.int64)
        on_order = np.zeros(k, dtype=np.int64)
        self.line_sold = np.zeros_like(self.line_quantity)
        start_on_hand = np.zeros((k, n_days), dtype=np.int64)
        end_on_hand = np.zeros((k, n_days), dtype=np.int64)
        po_records = []
        return_rate = np.array([c.return_rate for c in m.categories])[self.category]
        returned_lines: list[np.ndarray] = []
        returned_quantity: list[np.ndarray] = []
        return_day: list[np.ndarray] = []

        for day in range(n_days):
            arrived = receipts[:, day]
            on_hand += arrived + restock[:, day]
            on_order -= arrived
            newly_stocked = (stocked_from < 0) & (on_hand > 0)
            stocked_from[newly_stocked] = day
            start_on_hand[:, day] = on_hand
            first, last = self.day_offsets[day], self.day_offsets[day + 1]
            if last > first:
                day_skus = self.line_sku[first:last]
                day_quantity = self.line_quantity[first:last]
                enough = on_hand >= self.demand_units[:, day]
                fully_served = enough[day_skus]
                self.line_sold[first:last][fully_served] = day_quantity[fully_served]
                on_hand[enough] -= self.demand_units[enough, day]
                for sku in np.flatnonzero(~enough):
                    positions = first + np.flatnonzero(day_skus == sku)
                    quantities = self.line_quantity[positions]
                    sold = np.minimum(quantities, np.maximum(on_hand[sku] - (np.cumsum(quantities) - quantities), 0))
                    self.line_sold[positions] = sold
                    on_hand[sku] -= sold.sum()
                sold_positions = first + np.flatnonzero(self.line_sold[first:last] > 0)
                is_returned = rng.random(len(sold_positions)) < return_rate[self.line_sku[sold_positions]]
                positions = sold_positions[is_returned]
                if len(positions):
                    sold = self.line_sold[positions]
                    quantity = 1 + rng.binomial(sold - 1, 0.5)
                    when = day + rng.integers(m.return_delay_days[0], m.return_delay_days[1] + 1, size=len(positions))
                    within = when < n_days
                    np.add.at(restock, (self.line_sku[positions[within]], when[within]), quantity[within])
                    returned_lines.append(positions[within])
                    returned_quantity.append(quantity[within])
                    return_day.append(when[within])
            end_on_hand[:, day] = on_hand

            for supplier in np.flatnonzero(self.review_offset == day % m.review_days):
                members = np.flatnonzero(self.supplier == supplier)
                target = order_up_to(day)[members]
                need = target - (on_hand[members] + on_order[members])
                weekly_demand = cumulative_units[members, day + m.review_days] - cumulative_units[members, day]
                orders = (need > 0.5 * weekly_demand) & (need >= 1)
                if not orders.any():
                    continue
                ordered = members[orders]
                packs = np.ceil(need[orders] / self.pack_size[ordered])
                quantity = np.maximum(packs * self.pack_size[ordered], self.min_order_qty[ordered]).astype(np.int64)
                shape = (self.lead_mean[supplier] / max(self.lead_std[supplier], 0.1)) ** 2
                scale = self.lead_mean[supplier] / shape
                lead = max(1, round(float(rng.gamma(shape, scale))))
                on_order[ordered] += quantity
                if day + lead <= n_days:
                    receipts[ordered, day + lead] += quantity
                po_records.append(
                    {
                        "number": len(po_records) + 1,
                        "supplier": supplier,
                        "day": day,
                        "lead": lead,
                        "skus": ordered,
                        "quantity": quantity,
                    }
                )

        self.po_records = po_records
        self.start_on_hand = start_on_hand
        self.end_on_hand = end_on_hand
        self.returned_line = np.concatenate(returned_lines) if returned_lines else np.zeros(0, dtype=np.int64)
        self.returned_quantity = np.concatenate(returned_quantity) if returned_quantity else np.zeros(0, dtype=np.int64)
        self.return_day = np.concatenate(return_day) if return_day else np.zeros(0, dtype=np.int64)
        stocked = (np.arange(n_days)[None, :] >= stocked_from[:, None]) & (stocked_from[:, None] >= 0)
        self.stocked = stocked
        self.stockout = stocked & (start_on_hand <= 0) & (self.expected_lines[:, :n_days] > 0)

    # Customers and orders ------------------------------------------------------------------------------

    def _simulate_customers(self) -> None:
        m, rng, n_days = self.model, self.rng, self.n_days
        sold_mask = self.line_sold > 0
        orders_per_day = sold_mask.sum() / n_days / (1 + m.basket_extra_lines)
        n_initial = max(1, round(float(m.initial_customers_per_daily_order * orders_per_day)))
        customers = _CustomerPool(rng, m)
        customers.add(n_initial, joined=-rng.integers(1, 366, size=n_initial))
        line_basket = np.full(len(self.line_sold), -1)
        basket_day: list[int] = []
        basket_customer: list[int] = []
        cancelled_lines: list[tuple[int, int]] = []
        browse_sessions: list[tuple[int, int]] = []
        activity_from = n_days - m.activity_days

        for day in range(n_days):
            first, last = self.day_offsets[day], self.day_offsets[day + 1]
            positions = first + np.flatnonzero(sold_mask[first:last])
            positions = rng.permutation(positions)
            sizes = 1 + rng.poisson(m.basket_extra_lines, size=len(positions))
            basket_of_line = np.searchsorted(np.cumsum(sizes), np.arange(len(positions)), side="right")
            n_baskets = int(basket_of_line.max()) + 1 if len(positions) else 0
            n_cancelled = int(rng.binomial(n_baskets, m.cancelled_share)) if n_baskets else 0
            buyers, first_order = customers.draw_buyers(n_baskets + n_cancelled, day=day)
            line_basket[positions] = len(basket_day) + basket_of_line
            basket_day.extend([day] * (n_baskets + n_cancelled))
            basket_customer.extend(buyers.tolist())
            weights = self.expected_lines[:, day] * (self.start_on_hand[:, day] > 0)
            for offset in range(n_cancelled):
                if weights.sum() <= 0:
                    break
                basket = len(basket_day) - n_cancelled + offset
                for sku in rng.choice(self.n_skus, size=1 + int(rng.random() < 0.3), p=weights / weights.sum()):
                    cancelled_lines.append((basket, int(sku)))
            if day >= activity_from and n_baskets:
                n_browse = int(rng.poisson(m.browse_sessions_per_order * n_baskets))
                browse_sessions.extend((day, int(c)) for c in customers.draw_browsers(n_browse))
            customers.drop_out(buyers[:n_baskets], first_order[:n_baskets], day=day)

        self.customers = customers
        self.line_basket = line_basket
        self.basket_day = np.array(basket_day, dtype=np.int64)
        self.basket_customer = np.array(basket_customer, dtype=np.int64)
        self.cancelled_lines = cancelled_lines
        self.browse_sessions = browse_sessions
        n_baskets = len(basket_day)
        hours = np.array(m.order_hours, dtype=float)
        hour = 8 + rng.choice(len(hours), size=n_baskets, p=hours / hours.sum())
        self.basket_second = hour * 3600 + rng.integers(0, 3600, size=n_baskets)
        channels = np.array([c for c, _ in m.channels])
        channel_weights = np.array([w for _, w in m.channels])
        self.basket_channel = rng.choice(channels, size=n_baskets, p=channel_weights / channel_weights.sum())
        countries = np.array([c for c, _ in m.countries])
        country_weights = np.array([w for _, w in m.countries])
        self.guest_country = rng.choice(countries, size=n_baskets, p=country_weights / country_weights.sum())
        self.customer_country = rng.choice(
            countries, size=len(customers.rate), p=country_weights / country_weights.sum()
        )

    # Frames --------------------------------------------------------------------------------------------

    def _assemble(self) -> DemoShop:
        orders = self._orders_frame()
        activity = self._activity_frame(orders)
        truth = self._truth(orders)
        return DemoShop(
            seed=self.seed,
            start=self.start,
            end=self.dates[-1].date(),
            suppliers=self._suppliers_frame(),
            products=self._products_frame(),
            stock=self._stock_frame(),
            purchase_orders=self._purchase_orders_frame(),
            campaigns=self._campaigns_frame(),
            orders=orders,
            activity=activity,
            truth=truth,
        )

    def _suppliers_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "code": self.supplier_codes,
                "name": self.supplier_names,
                "lead_time_mean_days": self.lead_mean,
                "lead_time_std_days": self.lead_std,
                "order_cost": self.order_cost,
                "currency": self.model.currency,
            }
        )

    def _products_frame(self) -> pd.DataFrame:
        m = self.model
        return pd.DataFrame(
            {
                "sku": self.sku_codes,
                "name": self.product_names,
                "category": [m.categories[c].name for c in self.category],
                "price": self.price[:, self.n_days - 1],
                "unit_cost": self.unit_cost,
                "active": True,
                "supplier_code": self.supplier_codes[self.supplier],
                "supplier_sku": [f"{self.supplier_codes[s]}-{i + 1:04d}" for i, s in enumerate(self.supplier)],
                "min_order_qty": self.min_order_qty,
                "pack_size": self.pack_size,
                "supplier_unit_cost": self.unit_cost,
                "supplier_lead_time_days": np.nan,
            }
        )

    def _stock_frame(self) -> pd.DataFrame:
        sku_index, day_index = np.nonzero(self.stocked)
        return pd.DataFrame(
            {
                "sku": self.sku_codes[sku_index],
                "date": self.dates[day_index].date,
                "on_hand": self.end_on_hand[sku_index, day_index],
            }
        )

    def _purchase_orders_frame(self) -> pd.DataFrame:
        rows = []
        for po in self.po_records:
            supplier = po["supplier"]
            ordered_at = self.horizon_dates[po["day"]].date()
            expected_at = ordered_at + dt.timedelta(days=round(float(self.lead_mean[supplier])))
            arrived = po["day"] + po["lead"]
            received = arrived < self.n_days
            for sku, quantity in zip(po["skus"], po["quantity"], strict=True):
                rows.append(
                    {
                        "po_number": f"PO-{po['number']:05d}",
                        "supplier_code": self.supplier_codes[supplier],
                        "sku": self.sku_codes[sku],
                        "quantity": int(quantity),
                        "unit_cost": float(self.unit_cost[sku]),
                        "ordered_at": ordered_at,
                        "expected_at": expected_at,
                        "received_at": self.horizon_dates[arrived].date() if received else None,
                        "received_quantity": int(quantity) if received else 0,
                        "status": "received" if received else "ordered",
                    }
                )
        return pd.DataFrame(rows, columns=PURCHASE_ORDER_COLUMNS)

    def _campaigns_frame(self) -> pd.DataFrame:
        m = self.model
        rows = [
            {
                "campaign_id": c["campaign_id"],
                "name": c["name"],
                "starts_on": self.dates[c["start_day"]].date(),
                "ends_on": self.dates[c["end_day"]].date(),
                "discount_pct": c["discount_pct"],
                "channel": c["channel"],
                "skus": "" if c["category"] >= 0 else ";".join(self.sku_codes[c["skus"]]),
                "categories": m.categories[c["category"]].name if c["category"] >= 0 else "",
                "target_segment": c["target_segment"],
                "cost": c["cost"],
            }
            for c in self.campaign_records
        ]
        return pd.DataFrame(rows, columns=CAMPAIGN_COLUMNS)

    def _orders_frame(self) -> pd.DataFrame:
        n_days = self.n_days
        order_of_basket = np.lexsort((np.arange(len(self.basket_day)), self.basket_second, self.basket_day))
        order_number = np.empty(len(order_of_basket), dtype=np.int64)
        order_number[order_of_basket] = np.arange(len(order_of_basket)) + 1
        order_ids = np.array([f"SO-{n:06d}" for n in order_number])
        basket_time = self.dates[self.basket_day].to_numpy() + self.basket_second.astype("timedelta64[s]")
        customer_ids = self.customers.ids()

        sale_positions = np.flatnonzero(self.line_sold > 0)
        sale = self._line_rows(sale_positions, self.line_sold[sale_positions])
        sale_baskets = self.line_basket[sale_positions]
        sale_frame = self._order_rows(sale_baskets, order_ids, basket_time, customer_ids, sale)
        sale_frame["status"] = np.where(self.basket_day[sale_baskets] >= n_days - 2, "paid", "fulfilled")

        cancelled_baskets = np.array([b for b, _ in self.cancelled_lines], dtype=np.int64)
        cancelled_skus = np.array([s for _, s in self.cancelled_lines], dtype=np.int64)
        cancelled_days = self.basket_day[cancelled_baskets]
        cancelled = {
            "sku": cancelled_skus,
            "quantity": np.ones(len(cancelled_skus), dtype=np.int64),
            "unit_price": self.price[cancelled_skus, cancelled_days] if len(cancelled_skus) else np.zeros(0),
            "discount": np.zeros(len(cancelled_skus)),
        }
        cancelled_frame = self._order_rows(cancelled_baskets, order_ids, basket_time, customer_ids, cancelled)
        cancelled_frame["status"] = "cancelled"

        returned_baskets = self.line_basket[self.returned_line]
        returns = self._line_rows(self.returned_line, self.returned_quantity)
        returns["quantity"] = -self.returned_quantity
        return_frame = self._order_rows(returned_baskets, order_ids, basket_time, customer_ids, returns)
        # One time of day per return document (09:00-17:00), spread by a fixed hash so all its lines share it.
        return_seconds = 9 * 3600 + (returned_baskets * 7919 + self.return_day * 104_729) % (8 * 3600)
        return_frame["placed_at"] = pd.to_datetime(
            self.dates[self.return_day].to_numpy() + return_seconds.astype("timedelta64[s]")
        ).tz_localize("UTC")
        return_frame["order_id"] = [
            f"{order}-R{day - self.basket_day[basket]}"
            for order, day, basket in zip(return_frame["order_id"], self.return_day, returned_baskets, strict=True)
        ]
        return_frame["status"] = "refunded"

        frame = pd.concat([sale_frame, cancelled_frame, return_frame], ignore_index=True)
        frame = frame.sort_values(["placed_at", "order_id", "sku"], kind="stable").reset_index(drop=True)
        return frame[ORDER_COLUMNS]

    def _line_rows(self, positions: np.ndarray, quantity: np.ndarray) -> dict[str, np.ndarray]:
        skus = self.line_sku[positions]
        days = self.line_day[positions]
        price = self.price[skus, days]
        discount_pct = self.promo_discount[skus, days]
        return {
            "sku": skus,
            "quantity": quantity.astype(np.int64),
            "unit_price": price,
            "discount": np.round(price * quantity * discount_pct / 100, 2),
        }

    def _order_rows(
        self,
        baskets: np.ndarray,
        order_ids: np.ndarray,
        basket_time: np.ndarray,
        customer_ids: np.ndarray,
        lines: dict[str, np.ndarray],
    ) -> pd.DataFrame:
        customer = self.basket_customer[baskets]
        known = customer >= 0
        safe_customer = np.where(known, customer, 0)
        customer_id = np.where(known, customer_ids[safe_customer] if len(customer_ids) else "", "")
        return pd.DataFrame(
            {
                "order_id": order_ids[baskets],
                "placed_at": pd.to_datetime(basket_time[baskets]).tz_localize("UTC"),
                "customer_id": customer_id,
                "sku": self.sku_codes[lines["sku"]],
                "quantity": lines["quantity"],
                "unit_price": lines["unit_price"],
                "discount": lines["discount"],
                "channel": self.basket_channel[baskets],
                "status": "",
                "customer_email": np.where(
                    known, np.char.add(np.char.lower(customer_id.astype(str)), "@example.com"), ""
                ),
                "country": np.where(known, self.customer_country[safe_customer], self.guest_country[baskets]),
                "currency": self.model.currency,
            }
        )

    def _activity_frame(self, orders: pd.DataFrame) -> pd.DataFrame:
        m, rng, n_days = self.model, self.rng, self.n_days
        activity_from = n_days - m.activity_days
        customer_ids = self.customers.ids()
        events: list[tuple[int, int, str, str, str, str, str]] = []

        def add(day: int, second: int, who: str, sku: str, kind: str, session: str, query: str = "") -> None:
            events.append((day, second, who, sku, kind, session, query))

        session_number = 0
        sale_positions = np.flatnonzero((self.line_sold > 0) & (self.line_day >= activity_from))
        baskets = self.line_basket[sale_positions]
        order = np.argsort(baskets, kind="stable")
        baskets_sorted = baskets[order]
        positions_sorted = sale_positions[order]
        boundaries = np.flatnonzero(np.diff(baskets_sorted)) + 1
        category_names = np.array([c.name.lower() for c in m.categories])
        for group in np.split(np.arange(len(baskets_sorted)), boundaries):
            if not len(group):
                continue
            basket = baskets_sorted[group[0]]
            customer = self.basket_customer[basket]
            if customer < 0:
                continue
            session_number += 1
            session = f"S{session_number:07d}"
            who = customer_ids[customer]
            day = int(self.basket_day[basket])
            placed = int(self.basket_second[basket])
            begin = placed - int(rng.integers(300, 2400))
            skus = self.line_sku[positions_sorted[group]]
            add(day, begin, who, "", "session", session)
            if rng.random() < m.search_probability:
                add(day, begin + 20, who, "", "search", session, category_names[self.category[skus[0]]])
            view_times = np.sort(rng.integers(begin + 60, placed - 120, size=len(skus)))
            for sku, view_time in zip(skus, view_times, strict=True):
                code = self.sku_codes[sku]
                add(day, int(view_time), who, code, "view", session)
                add(day, int(rng.integers(view_time + 10, placed - 30)), who, code, "cart", session)
                add(day, placed, who, code, "purchase", session)
            for sku in rng.choice(self.n_skus, size=int(rng.integers(0, 3))):
                add(day, int(rng.integers(begin + 60, placed - 120)), who, self.sku_codes[sku], "view", session)
        # Browsing is kept only for customers the orders show, so activity never names a stranger.
        has_ordered = pd.Index(customer_ids).isin(orders["customer_id"].unique())
        for day, customer in self.browse_sessions:
            if not has_ordered[customer]:
                continue
            session_number += 1
            session = f"S{session_number:07d}"
            who = customer_ids[customer]
            moment = int(rng.integers(8 * 3600, 21 * 3600))
            add(day, moment, who, "", "session", session)
            weights = self.expected_lines[:, day]
            if weights.sum() <= 0:
                continue
            viewed = rng.choice(self.n_skus, size=int(rng.integers(1, 6)), p=weights / weights.sum())
            for sku in viewed:
                moment += int(rng.integers(20, 120))
                add(day, moment, who, self.sku_codes[sku], "view", session)
            if rng.random() < m.abandoned_cart_probability:
                add(day, moment + int(rng.integers(10, 60)), who, self.sku_codes[viewed[-1]], "cart", session)
        frame = pd.DataFrame(
            events,
            columns=["day", "second", "customer_id", "sku", "kind", "session_id", "query"],
        )
        frame = frame.sort_values(["day", "second"], kind="stable").reset_index(drop=True)
        frame["occurred_at"] = pd.to_datetime(
            self.dates[frame["day"].to_numpy()].to_numpy() + frame["second"].to_numpy().astype("timedelta64[s]")
        ).tz_localize("UTC")
        frame["event_id"] = [f"E{n:08d}" for n in range(1, len(frame) + 1)]
        return frame[ACTIVITY_COLUMNS]

    def _truth(self, orders: pd.DataFrame) -> DemoTruth:
        k, n_days = self.n_skus, self.n_days
        sales_units = np.zeros((k, n_days), dtype=np.int64)
        np.add.at(sales_units, (self.line_sku, self.line_day), self.line_sold)
        expected_units = self.expected_units[:, :n_days]
        base_units = (self.base_lines * self.quantity_mean[:, None])[:, :n_days]
        campaign_ids = np.array([c["campaign_id"] for c in self.campaign_records] + [""])
        daily = pd.DataFrame(
            {
                "sku": np.repeat(self.sku_codes, n_days),
                "date": np.tile(self.dates.date, k),
                "list_price": self.price[:, :n_days].ravel(),
                "base_units": base_units.ravel(),
                "promo_multiplier": self.promo_multiplier[:, :n_days].ravel(),
                "expected_units": expected_units.ravel(),
                "demand_units": self.demand_units.ravel(),
                "sales_units": sales_units.ravel(),
                "on_hand": np.where(self.stocked, self.end_on_hand, -1).ravel(),
                "stocked": self.stocked.ravel(),
                "stockout": self.stockout.ravel(),
                "censored": (self.stocked & (sales_units < self.demand_units)).ravel(),
                "campaign_id": campaign_ids[self.campaign_index].ravel(),
            }
        )
        selling_days = np.maximum((self.lifecycle[:, :n_days] > 0).sum(axis=1), 1)
        skus = pd.DataFrame(
            {
                "sku": self.sku_codes,
                "category": [self.model.categories[c].name for c in self.category],
                "demand_class": self.demand_class,
                "supplier_code": self.supplier_codes[self.supplier],
                "base_line_rate": self.base_line_rate,
                "mean_line_quantity": self.quantity_mean,
                "mean_daily_units": expected_units.sum(axis=1) / selling_days,
                "trend_per_year": self.trend_per_year,
                "price_elasticity": self.price_elasticity,
                "launch_date": [self.dates[d].date() if d >= 0 else None for d in self.launch_day],
                "end_date": [self.dates[d].date() if d >= 0 else None for d in self.end_day],
                "safety_factor": self.safety,
                "stockout_days": self.stockout.sum(axis=1),
            }
        )
        campaigns = pd.DataFrame(
            [
                {
                    "campaign_id": c["campaign_id"],
                    "starts_on": self.dates[c["start_day"]].date(),
                    "ends_on": self.dates[c["end_day"]].date(),
                    "discount_pct": c["discount_pct"],
                    "lift": c["lift"],
                    "dip_depth": c["dip_depth"],
                    "dip_days": self.model.dip_days,
                    "skus": tuple(self.sku_codes[c["skus"]]),
                }
                for c in self.campaign_records
            ],
            columns=["campaign_id", "starts_on", "ends_on", "discount_pct", "lift", "dip_depth", "dip_days", "skus"],
        )
        ordered = orders.loc[orders["customer_id"] != "", "customer_id"].unique()
        customer_ids = self.customers.ids()
        index_of = {cid: i for i, cid in enumerate(customer_ids)}
        rows = np.array(sorted(index_of[c] for c in ordered), dtype=np.int64)
        churn_day = self.customers.churn_day[rows]
        joined = self.customers.joined[rows]
        customers = pd.DataFrame(
            {
                "customer_id": customer_ids[rows],
                "purchase_rate": self.customers.rate[rows],
                "dropout_probability": self.customers.dropout[rows],
                "joined_on": [self.start + dt.timedelta(days=int(d)) for d in joined],
                "churned_on": [self.start + dt.timedelta(days=int(d)) if d >= 0 else None for d in churn_day],
            }
        )
        suppliers = pd.DataFrame(
            {
                "code": self.supplier_codes,
                "lead_time_mean_days": self.lead_mean,
                "lead_time_std_days": self.lead_std,
                "lead_time_law": "gamma, rounded to whole days, at least 1",
            }
        )
        sku_index, day_index = np.nonzero(self.stockout)
        stockout_days = pd.DataFrame({"sku": self.sku_codes[sku_index], "date": self.dates[day_index].date})
        return DemoTruth(
            weekly_profile=tuple(float(x) for x in self.weekly_profile),
            skus=skus,
            daily=daily,
            campaigns=campaigns,
            customers=customers,
            suppliers=suppliers,
            stockout_days=stockout_days,
        )


class _CustomerPool:
    """Customers with gamma-distributed purchase rates who drop out after a repeat purchase with probability p."""

    def __init__(self, rng: np.random.Generator, model: ShopModel) -> None:
        self.rng = rng
        self.model = model
        self.rate = np.zeros(0)
        self.dropout = np.zeros(0)
        self.joined = np.zeros(0, dtype=np.int64)
        self.churn_day = np.zeros(0, dtype=np.int64)
        self.alive = np.zeros(0, dtype=np.int64)

    def add(self, n: int, *, joined: np.ndarray | int) -> np.ndarray:
        m = self.model
        first = len(self.rate)
        shape = m.purchase_rate_shape
        self.rate = np.concatenate([self.rate, self.rng.gamma(shape, 1 / shape, size=n)])
        self.dropout = np.concatenate([self.dropout, self.rng.beta(*m.dropout_beta, size=n)])
        self.joined = np.concatenate([self.joined, np.broadcast_to(joined, (n,)).astype(np.int64)])
        self.churn_day = np.concatenate([self.churn_day, np.full(n, -1, dtype=np.int64)])
        added = np.arange(first, first + n)
        self.alive = np.concatenate([self.alive, added])
        return added

    def draw_buyers(self, n: int, *, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Who places each of n orders (a guest is -1), and which of them are first orders of new customers."""
        m, rng = self.model, self.rng
        buyers = np.full(n, -1, dtype=np.int64)
        if not n:
            return buyers, np.zeros(0, dtype=bool)
        guest = rng.random(n) < m.guest_share
        new = ~guest & ((rng.random(n) < m.new_customer_share) | (len(self.alive) == 0))
        repeat = ~guest & ~new
        if repeat.any():
            weights = self.rate[self.alive]
            buyers[repeat] = rng.choice(self.alive, size=int(repeat.sum()), p=weights / weights.sum())
        if new.any():
            buyers[new] = self.add(int(new.sum()), joined=day)
        return buyers, new

    def draw_browsers(self, n: int) -> np.ndarray:
        if not n or not len(self.alive):
            return np.zeros(0, dtype=np.int64)
        weights = self.rate[self.alive]
        return self.rng.choice(self.alive, size=n, p=weights / weights.sum())

    def drop_out(self, buyers: np.ndarray, first_order: np.ndarray, *, day: int) -> None:
        """A repeat purchase is followed by dropout with the customer's probability; a first purchase is not."""
        candidates = buyers[(buyers >= 0) & ~first_order]
        leaving = np.unique(candidates[self.rng.random(len(candidates)) < self.dropout[candidates]])
        if len(leaving):
            self.churn_day[leaving] = day
            self.alive = self.alive[~np.isin(self.alive, leaving, kind="table")]

    def ids(self) -> np.ndarray:
        return np.array([f"C{i + 1:06d}" for i in range(len(self.rate))])


def _retail_price(value: np.ndarray) -> np.ndarray:
    """Rounds to the .49 / .99 price points shops use, never below 0.99."""
    return np.maximum(np.round(np.asarray(value) * 2) / 2 - 0.01, 0.99)


PURCHASE_ORDER_COLUMNS = [
    "po_number",
    "supplier_code",
    "sku",
    "quantity",
    "unit_cost",
    "ordered_at",
    "expected_at",
    "received_at",
    "received_quantity",
    "status",
]
CAMPAIGN_COLUMNS = [
    "campaign_id",
    "name",
    "starts_on",
    "ends_on",
    "discount_pct",
    "channel",
    "skus",
    "categories",
    "target_segment",
    "cost",
]
ORDER_COLUMNS = [
    "order_id",
    "placed_at",
    "customer_id",
    "sku",
    "quantity",
    "unit_price",
    "discount",
    "channel",
    "status",
    "customer_email",
    "country",
    "currency",
]
ACTIVITY_COLUMNS = ["event_id", "customer_id", "sku", "kind", "occurred_at", "session_id", "query"]
