"""A small shop with daily sales, written in bulk, for forecast tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import numpy as np

from customers.models import Order, OrderLine
from inventory.models import Product


def make_daily_sales(
    *, merchant, skus: int, days: int, start: dt.date, seed: int = 0, prefix: str = "SKU"
) -> list[Product]:
    """Each SKU sells Poisson units a day around its own rate, with a Saturday peak; one order per SKU-day."""
    rng = np.random.default_rng(seed)
    tz = zoneinfo.ZoneInfo(merchant.timezone)
    products = Product.objects.bulk_create(
        Product(merchant=merchant, sku=f"{prefix}{index:03d}", name=f"Item {index}", price=Decimal("5.00"))
        for index in range(skus)
    )
    orders, lines = [], []
    for product in products:
        rate = rng.uniform(0.5, 6.0)
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            units = int(rng.poisson(rate * (1.8 if day.weekday() == 5 else 1.0)))
            if units == 0:
                continue
            placed_at = dt.datetime.combine(day, dt.time(10), tzinfo=tz)
            order = Order(merchant=merchant, external_id=f"{product.sku}-{offset}", placed_at=placed_at)
            orders.append(order)
            lines.append((order, product, units, placed_at))
    Order.objects.bulk_create(orders, batch_size=2000)
    OrderLine.objects.bulk_create(
        (
            OrderLine(
                merchant=merchant,
                order=order,
                line_number=1,
                product=product,
                quantity=units,
                unit_price=Decimal("5.00"),
                placed_at=placed_at,
            )
            for order, product, units, placed_at in lines
        ),
        batch_size=2000,
    )
    return products
