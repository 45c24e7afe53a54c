"""Customers with hand-written order histories, written in bulk, for customer-score tests."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal

from customers.models import Customer, Order, OrderLine
from inventory.models import Product


def make_customers(
    *,
    merchant,
    histories: dict[str, Iterable[dt.date]],
    price: Decimal = Decimal("20.00"),
    returns: dict[str, Iterable[dt.date]] | None = None,
    cancelled: dict[str, Iterable[dt.date]] | None = None,
) -> dict[str, Customer]:
    """One customer per key; one sale order of one unit at `price` on each of their days (10:00 local), plus
    return documents and cancelled sales on the days given for them."""
    tz = zoneinfo.ZoneInfo(merchant.timezone)
    product, _ = Product.objects.get_or_create(
        merchant=merchant, sku="GIFT", defaults={"name": "Gift box", "price": price}
    )
    customers = {
        external_id: Customer.objects.create(merchant=merchant, external_id=external_id) for external_id in histories
    }
    documents = []
    for source, kind, status in (
        (histories, Order.Kind.SALE, Order.Status.PAID),
        (returns or {}, Order.Kind.RETURN, Order.Status.REFUNDED),
        (cancelled or {}, Order.Kind.SALE, Order.Status.CANCELLED),
    ):
        for external_id, days in source.items():
            for day in days:
                documents.append((customers[external_id], day, kind, status))
    orders = Order.objects.bulk_create(
        Order(
            merchant=merchant,
            external_id=f"{customer.external_id}-{kind}-{status}-{day.isoformat()}-{index}",
            customer=customer,
            placed_at=dt.datetime.combine(day, dt.time(10), tzinfo=tz),
            kind=kind,
            status=status,
        )
        for index, (customer, day, kind, status) in enumerate(documents)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            merchant=merchant,
            order=order,
            line_number=1,
            product=product,
            kind=OrderLine.Kind.RETURN if order.kind == Order.Kind.RETURN else OrderLine.Kind.SALE,
            quantity=1,
            unit_price=price,
            placed_at=order.placed_at,
        )
        for order in orders
    )
    return customers


def every(days: int, *, start: dt.date, end: dt.date) -> list[dt.date]:
    """start, start + days, ... up to end."""
    count = (end - start).days // days + 1
    return [start + dt.timedelta(days=days * index) for index in range(count)]
