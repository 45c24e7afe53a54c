"""A small shop with daily sales, written in bulk, for forecast tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal

import numpy as np

from customers.models import Order, OrderLine
from inventory.models import Product


def make_daily_sales(
    *, merchant, skus: int, days: int, start: dt.date, seed: int = 0, prefix: str = "SKU"
) -> list[Product]:
    """Each SKU sells Poisson units a day around its own rate, with a Saturday peak; one order per SKU-day."""
    rng = np.random.default_rng(seed)
    products = Product.objects.bulk_create(
        Product(merchant=merchant, sku=f"{prefix}{index:03d}", name=f"Item {index}", price=Decimal("5.00"))
        for index in range(skus)
    )
    sales = []
    for product in products:
        rate = rng.uniform(0.5, 6.0)
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            sales.append((product, offset, day, int(rng.poisson(rate * (1.8 if day.weekday() == 5 else 1.0)))))
    write_daily_orders(merchant=merchant, sales=sales, unit_price=Decimal("5.00"), hour=10)
    return products


def write_daily_orders(
    *, merchant, sales: Iterable[tuple[Product, int, dt.date, int]], unit_price: Decimal, hour: int
) -> None:
    """One single-line order per (product, day offset, day, units) with units > 0, at ``hour`` local time."""
    tz = zoneinfo.ZoneInfo(merchant.timezone)
    orders, lines = [], []
    for product, offset, day, units in sales:
        if units == 0:
            continue
        placed_at = dt.datetime.combine(day, dt.time(hour), tzinfo=tz)
        order = Order(merchant=merchant, external_id=f"{product.sku}-{offset}", placed_at=placed_at)
        orders.append(order)
        lines.append(
            OrderLine(
                merchant=merchant,
                order=order,
                line_number=1,
                product=product,
                quantity=units,
                unit_price=unit_price,
                placed_at=placed_at,
            )
        )
    Order.objects.bulk_create(orders, batch_size=2000)
    OrderLine.objects.bulk_create(lines, batch_size=2000)
