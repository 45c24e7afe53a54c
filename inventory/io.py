"""ORM rows -> the policy's arrays: daily demand, lead-time laws and supplier terms for a replay.

Where the merchant's data has no supplier for a SKU (the Online Retail history has none), the inputs are
generated deterministically here, in memory, and counted in SimulationInputs.generated; nothing is written
to the merchant's data. See docs/reorder_policy.md for the generated values.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median

import numpy as np
from django.db.models import F

from customers.models import OrderLine
from ecomforecast.models import Merchant
from forecasting.io import demand_series, last_sale_day, products_with_sales
from inventory.models import Product, PurchaseOrder, SupplierProduct
from inventory.policy.decision import ItemTerms
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
    supplier_products: dict[int, SupplierProduct] = {}
    for link in (
        SupplierProduct.objects.filter(merchant=merchant, product_id__in=product_ids)
        .select_related("supplier")
        .order_by("-is_primary", "id")
    ):
        supplier_products.setdefault(link.product_id, link)
    history = supplier_lead_times(merchant=merchant) if supplier_products else {}
    sale_prices: dict[int, list[float]] = {}
    missing_price = [product_id for product_id in product_ids if products[product_id].price is None]
    for product_id, unit_price in OrderLine.objects.filter(
        merchant=merchant, product_id__in=missing_price, kind=OrderLine.Kind.SALE
    ).values_list("product_id", "unit_price"):
        sale_prices.setdefault(product_id, []).append(float(unit_price))

    generated = {"lead_time": 0, "unit_cost": 0, "price": 0, "ordering_cost": 0}
    items = []
    for product_id, first_index in zip(product_ids, first_indices, strict=True):
        product = products[product_id]
        link = supplier_products.get(product_id)
        if product.price is not None:
            price = float(product.price)
        else:
            price = median(sale_prices.get(product_id, [0.0]))
            generated["price"] += 1
        known_cost = (link.unit_cost if link and link.unit_cost is not None else None) or product.unit_cost
        if known_cost is not None:
            unit_cost = float(known_cost)
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
