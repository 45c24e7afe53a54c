"""ORM rows -> the policy's arrays: daily demand, lead-time laws and supplier terms for a replay, and the
stock positions, terms and forecast quantiles a reorder plan is built from.

Where the merchant's data has no supplier for a SKU (the Online Retail history has none), the inputs are
generated deterministically here, in memory, and counted in SimulationInputs.generated; nothing is written
to the merchant's data. See docs/reorder_policy.md for the generated values.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

import numpy as np
from django.db import connection
from django.db.models import F, Sum

from customers.models import Order, OrderLine
from ecomforecast.models import Merchant
from forecasting.io import demand_series, last_sale_day, products_with_sales
from inventory.models import (
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    ReplenishmentSettings,
    StockLevel,
    SupplierProduct,
)
from inventory.policy.decision import IncomingOrder, ItemTerms, StockPosition
from inventory.policy.leadtime import LeadTimeLaw
from inventory.policy.simulation import SimulationItem

# Purchase orders with both dates a supplier needs before its history replaces its stated terms.
MIN_LEAD_TIME_HISTORY = 5
# Without a known unit cost the replay values stock at this share of the selling price.
GENERATED_COST_SHARE = 0.6


@dataclass(frozen=True)
class SimulationInputs:
    first_date: dt.date  # the date of column 0
    demand: np.ndarray  # (n, T) daily demand, NaN before a SKU's first sale and on censored days
    items: list[SimulationItem]
    product_ids: list[int]
    generated: dict[str, int] = field(default_factory=dict)  # field -> SKUs for which it was generated


def supplier_lead_times(*, merchant: Merchant) -> dict[int, list[float]]:
    """Received minus ordered days of every received purchase order, per supplier id."""
    rows = PurchaseOrder.objects.filter(
        merchant=merchant, ordered_at__isnull=False, received_at__isnull=False, received_at__gte=F("ordered_at")
    ).values_list("supplier_id", "ordered_at", "received_at")
    history: dict[int, list[float]] = {}
    for supplier_id, ordered_at, received_at in rows.iterator(chunk_size=5_000):
        history.setdefault(supplier_id, []).append(float((received_at - ordered_at).days))
    return history


def lead_time_law(supplier_product: SupplierProduct, history: Sequence[float]) -> LeadTimeLaw:
    """The supplier's purchase-order history when it is long enough, else the stated terms (product first)."""
    if len(history) >= MIN_LEAD_TIME_HISTORY:
        return LeadTimeLaw.from_history(list(history))
    supplier = supplier_product.supplier
    mean = supplier_product.lead_time_days if supplier_product.lead_time_days is not None else None
    std = supplier_product.lead_time_std_days if supplier_product.lead_time_std_days is not None else None
    return LeadTimeLaw(
        mean_days=float(mean if mean is not None else supplier.lead_time_mean_days),
        std_days=float(std if std is not None else supplier.lead_time_std_days),
    )


def simulation_inputs(
    *,
    merchant: Merchant,
    window_days: int,
    history_days: int = 90,
    cutoff: dt.date | None = None,
    sample_size: int | None = None,
    seed: int = 0,
    generated_ordering_cost: float = 0.0,
) -> SimulationInputs:
    """Demand and terms of the SKUs that sold in the history_days before the replay window (the last
    window_days up to the cutoff) and had their first sale before that; optionally a seeded random sample."""
    cutoff = cutoff or last_sale_day(merchant=merchant)
    if cutoff is None:
        raise ValueError(f"merchant {merchant.slug!r} has no sales")
    window_start = cutoff - dt.timedelta(days=window_days - 1)
    candidates = products_with_sales(merchant=merchant, cutoff=cutoff)
    series = {
        entry.product_id: entry for entry in demand_series(merchant=merchant, product_ids=candidates, cutoff=cutoff)
    }
    eligible = []
    for product_id, entry in series.items():
        before_window = entry.values[: (window_start - entry.start).days]
        if before_window.size > history_days and np.nansum(before_window[-history_days:]) > 0:
            eligible.append(product_id)
    eligible.sort()
    if sample_size is not None and sample_size < len(eligible):
        eligible = sorted(random.Random(seed).sample(eligible, sample_size))
    if not eligible:
        raise ValueError("no SKU has enough history before the window")

    first_date = min(series[product_id].start for product_id in eligible)
    total_days = (cutoff - first_date).days + 1
    demand = np.full((len(eligible), total_days), np.nan)
    for row, product_id in enumerate(eligible):
        entry = series[product_id]
        offset = (entry.start - first_date).days
        demand[row, offset : offset + entry.values.size] = entry.values

    items, generated = _items(
        merchant=merchant,
        product_ids=eligible,
        first_indices=[(series[product_id].start - first_date).days for product_id in eligible],
        generated_ordering_cost=generated_ordering_cost,
    )
    return SimulationInputs(
        first_date=first_date, demand=demand, items=items, product_ids=eligible, generated=generated
    )


def _items(
    *, merchant: Merchant, product_ids: list[int], first_indices: list[int], generated_ordering_cost: float
) -> tuple[list[SimulationItem], dict[str, int]]:
    products = Product.objects.filter(merchant=merchant, id__in=product_ids).in_bulk()
    supplier_products = _primary_supplier_products(merchant=merchant, product_ids=product_ids)
    history = supplier_lead_times(merchant=merchant) if supplier_products else {}
    sale_prices = _median_sale_prices(merchant=merchant, products=products)

    generated = {"lead_time": 0, "unit_cost": 0, "price": 0, "ordering_cost": 0}
    items = []
    for product_id, first_index in zip(product_ids, first_indices, strict=True):
        product = products[product_id]
        link = supplier_products.get(product_id)
        if product.price is not None:
            price = float(product.price)
        else:
            price = sale_prices.get(product_id, 0.0)
            generated["price"] += 1
        known_cost = _known_unit_cost(link, product)
        if known_cost is not None:
            unit_cost = known_cost
        else:
            unit_cost = GENERATED_COST_SHARE * price
            generated["unit_cost"] += 1
        if link is not None:
            law = lead_time_law(link, history.get(link.supplier_id, []))
            terms = ItemTerms(
                lead_time=law,
                unit_cost=unit_cost,
                price=price,
                minimum_order=link.min_order_qty,
                pack_size=link.pack_size,
                ordering_cost=float(link.supplier.order_cost),
            )
        else:
            generated["lead_time"] += 1
            generated["ordering_cost"] += 1
            terms = ItemTerms(
                lead_time=LeadTimeLaw.generated_for(product.sku),
                unit_cost=unit_cost,
                price=price,
                ordering_cost=generated_ordering_cost,
            )
        items.append(SimulationItem(sku=product.sku, terms=terms, first_index=first_index))
    return items, {key: count for key, count in generated.items() if count}


# A sale order still open (placed or paid) this long after it was placed is stale data, not a reservation.
COMMITTED_WINDOW_DAYS = 30
# Lead time assumed for a product with no supplier on record (the Supplier model's own default).
DEFAULT_LEAD_TIME_DAYS = 14.0


@dataclass(frozen=True)
class PlanItem:
    product_id: int
    supplier_id: int | None
    category_id: int | None
    position: StockPosition
    stock_known: bool
    terms: ItemTerms
    assumed: tuple[str, ...]  # what the plan had to assume for this SKU (see PLAN_ASSUMPTIONS)


PLAN_ASSUMPTIONS = {
    "no_stock_level": "no stock level recorded: on hand counted as 0",
    "no_supplier": f"no supplier: a {DEFAULT_LEAD_TIME_DAYS:.0f}-day lead time assumed, no minimum order",
    "no_unit_cost": "no unit cost: cash needed counted as 0 and no order-size economics",
    "price_from_sales": "no catalogue price: the median selling price of its sales",
}


def plan_items(*, merchant: Merchant, product_ids: Sequence[int], today: dt.date) -> list[PlanItem]:
    """Stock position and supplier terms of each product on the plan date (the first forecast day).

    On hand is the latest stock level before today; on order is what open (draft, ordered or partly received)
    purchase orders still have to deliver,
    expected on their expected date (else ordered date + the supplier's mean lead time, else today); committed is
    the units of open sale orders placed in the COMMITTED_WINDOW_DAYS before today (see _committed).
    """
    product_ids = sorted(set(product_ids))
    products = Product.objects.filter(merchant=merchant, id__in=product_ids).in_bulk()
    on_hand = _latest_on_hand(merchant=merchant, product_ids=product_ids, before=today)
    incoming = _incoming(merchant=merchant, product_ids=product_ids, today=today)
    committed = _committed(merchant=merchant, product_ids=product_ids, today=today)
    links = _primary_supplier_products(merchant=merchant, product_ids=product_ids)
    history = supplier_lead_times(merchant=merchant) if links else {}
    # A supplier's ordering cost is paid once per purchase order, and one order carries every product of the
    # supplier due at a review: each product bears its share, or slow movers would get years of stock as EOQ.
    products_per_supplier = Counter(link.supplier_id for link in links.values())
    sale_prices = _median_sale_prices(merchant=merchant, products=products)

    items = []
    for product_id in product_ids:
        product = products.get(product_id)
        if product is None:
            continue
        assumed = []
        link = links.get(product_id)
        if product_id not in on_hand:
            assumed.append("no_stock_level")
        if product.price is not None:
            price = float(product.price)
        else:
            price = sale_prices.get(product_id, 0.0)
            assumed.append("price_from_sales")
        known_cost = _known_unit_cost(link, product)
        if known_cost is None:
            assumed.append("no_unit_cost")
        if link is None:
            assumed.append("no_supplier")
            law = LeadTimeLaw(mean_days=DEFAULT_LEAD_TIME_DAYS)
        else:
            law = lead_time_law(link, history.get(link.supplier_id, []))
        terms = ItemTerms(
            lead_time=law,
            unit_cost=known_cost or 0.0,
            price=price,
            minimum_order=link.min_order_qty if link else 1,
            pack_size=link.pack_size if link else 1,
            ordering_cost=float(link.supplier.order_cost) / products_per_supplier[link.supplier_id] if link else 0.0,
        )
        position = StockPosition(
            on_hand=float(max(on_hand.get(product_id, 0), 0)),
            committed=float(committed.get(product_id, 0)),
            incoming=tuple(incoming.get(product_id, ())),
        )
        items.append(
            PlanItem(
                product_id=product_id,
                supplier_id=link.supplier_id if link else None,
                category_id=product.category_id,
                position=position,
                stock_known=product_id in on_hand,
                terms=terms,
                assumed=tuple(assumed),
            )
        )
    return items


def order_rounding_terms(
    *, merchant: Merchant, supplier_products: Sequence[tuple[int | None, int]]
) -> dict[int, tuple[int, int]]:
    """(minimum order, pack size) by product id for (supplier_id, product_id) pairs, from the supplier's terms for
    the product; a product without a supplier, or whose terms were removed, gets (1, 1) as in plan_items."""
    product_ids = [product_id for _supplier_id, product_id in supplier_products]
    wanted = set(supplier_products)
    terms = dict.fromkeys(product_ids, (1, 1))
    for supplier_id, product_id, minimum_order, pack_size in SupplierProduct.objects.filter(
        merchant=merchant,
        product_id__in=product_ids,
        supplier_id__in={supplier_id for supplier_id, _product_id in wanted if supplier_id is not None},
    ).values_list("supplier_id", "product_id", "min_order_qty", "pack_size"):
        if (supplier_id, product_id) in wanted:
            terms[product_id] = (minimum_order, pack_size)
    return terms


def _primary_supplier_products(*, merchant: Merchant, product_ids: Sequence[int]) -> dict[int, SupplierProduct]:
    """Each product's supplier terms: the primary supplier product, else the first one recorded."""
    links: dict[int, SupplierProduct] = {}
    for link in (
        SupplierProduct.objects.filter(merchant=merchant, product_id__in=product_ids)
        .select_related("supplier")
        .order_by("-is_primary", "id")
    ):
        links.setdefault(link.product_id, link)
    return links


def _median_sale_prices(*, merchant: Merchant, products: dict[int, Product]) -> dict[int, float]:
    """The median selling price of each product that has no catalogue price and has sold."""
    missing = [product_id for product_id, product in products.items() if product.price is None]
    prices: dict[int, list[float]] = {}
    for product_id, unit_price in OrderLine.objects.filter(
        merchant=merchant, product_id__in=missing, kind=OrderLine.Kind.SALE
    ).values_list("product_id", "unit_price"):
        prices.setdefault(product_id, []).append(float(unit_price))
    return {product_id: median(values) for product_id, values in prices.items()}


def _known_unit_cost(link: SupplierProduct | None, product: Product) -> float | None:
    """The supplier's price for the product, else the catalogue's unit cost; None when neither is known."""
    known = (link.unit_cost if link and link.unit_cost is not None else None) or product.unit_cost
    return float(known) if known is not None else None


def _committed(*, merchant: Merchant, product_ids: Sequence[int], today: dt.date) -> dict[int, int]:
    """Units of open (placed or paid) sale orders from the last COMMITTED_WINDOW_DAYS, per product.

    Only for a merchant whose data shows fulfilment (some order fulfilled in that window): where every imported
    order keeps its default "placed" status, statuses say nothing, and counting them would reserve weeks of past
    sales a second time.
    """
    since = today - dt.timedelta(days=COMMITTED_WINDOW_DAYS)
    recent = Order.objects.filter(merchant=merchant, placed_at__date__gte=since, placed_at__date__lt=today)
    if not recent.filter(status=Order.Status.FULFILLED).exists():
        return {}
    return dict(
        OrderLine.objects.filter(
            merchant=merchant,
            product_id__in=product_ids,
            kind=OrderLine.Kind.SALE,
            order__status__in=[Order.Status.PLACED, Order.Status.PAID],
            placed_at__date__gte=since,
            placed_at__date__lt=today,
        )
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_id", "units")
    )


def _latest_on_hand(*, merchant: Merchant, product_ids: Sequence[int], before: dt.date) -> dict[int, int]:
    levels = StockLevel.objects.filter(merchant=merchant, product_id__in=product_ids, date__lt=before)
    if connection.vendor == "postgresql":  # DISTINCT ON: one row per product from the (product, date) index
        return dict(levels.order_by("product_id", "-date").distinct("product_id").values_list("product_id", "on_hand"))
    latest: dict[int, int] = {}
    for product_id, on_hand in (
        levels.order_by("product_id", "date").values_list("product_id", "on_hand").iterator(chunk_size=20_000)
    ):
        latest[product_id] = on_hand
    return latest


def _incoming(*, merchant: Merchant, product_ids: Sequence[int], today: dt.date) -> dict[int, list[IncomingOrder]]:
    rows = PurchaseOrderLine.objects.filter(
        merchant=merchant,
        product_id__in=product_ids,
        # Draft orders count: they are the merchant's own decisions (made from plans), and leaving them out
        # would suggest the same units again every night until they are sent.
        purchase_order__status__in=[
            PurchaseOrder.Status.DRAFT,
            PurchaseOrder.Status.ORDERED,
            PurchaseOrder.Status.PARTIAL,
        ],
        quantity__gt=F("received_quantity"),
    ).values_list(
        "product_id",
        "quantity",
        "received_quantity",
        "purchase_order__expected_at",
        "purchase_order__ordered_at",
        "purchase_order__supplier__lead_time_mean_days",
    )
    incoming: dict[int, list[IncomingOrder]] = {}
    for product_id, quantity, received, expected_at, ordered_at, lead_mean in rows.iterator(chunk_size=5_000):
        if expected_at is None:
            expected_at = ordered_at + dt.timedelta(days=round(lead_mean)) if ordered_at else today
        incoming.setdefault(product_id, []).append(
            IncomingOrder(quantity=float(quantity - received), expected_on=max(expected_at, today))
        )
    return incoming


def replenishment_settings(*, merchant: Merchant) -> dict[str, dict]:
    """The merchant's settings rows: {"default": {...}, "category": {id: {...}}, "product": {id: {...}}}, each
    row's blank fields left out so that resolving is a dict merge."""
    fields = ("service_level", "review_days", "holding_cost_rate", "budget")
    out: dict[str, dict] = {"default": {}, "category": {}, "product": {}}
    for row in ReplenishmentSettings.objects.filter(merchant=merchant).values("category_id", "product_id", *fields):
        values = {name: row[name] for name in fields if row[name] is not None}
        if row["product_id"]:
            out["product"][row["product_id"]] = values
        elif row["category_id"]:
            out["category"][row["category_id"]] = values
        else:
            out["default"] = values
    return out
