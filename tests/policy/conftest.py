from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    PurchaseOrderFactory,
    SupplierFactory,
    SupplierProductFactory,
)

FIRST_DAY = dt.date(2024, 1, 1)
CUTOFF = dt.date(2024, 4, 29)  # 120 days


def sell(merchant, product, day: dt.date, quantity: int) -> None:
    order = OrderFactory(merchant=merchant, placed_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))
    OrderLineFactory(order=order, product=product, quantity=quantity, unit_price=Decimal("5.00"))


@pytest.fixture
def shop(merchant, other_merchant):
    supplied = ProductFactory(merchant=merchant, sku="SUPPLIED", unit_cost=Decimal("2.50"))
    unsupplied = ProductFactory(merchant=merchant, sku="BARE", price=None, unit_cost=None)
    newcomer = ProductFactory(merchant=merchant, sku="NEW")
    supplier = SupplierFactory(merchant=merchant, order_cost=Decimal("7.00"))
    SupplierProductFactory(supplier=supplier, product=supplied, min_order_qty=12, pack_size=6)
    for index, lead in enumerate((4, 6, 8, 10, 12)):
        ordered = FIRST_DAY + dt.timedelta(days=10 * index)
        PurchaseOrderFactory(supplier=supplier, ordered_at=ordered, received_at=ordered + dt.timedelta(days=lead))
    for offset in range(120):
        day = FIRST_DAY + dt.timedelta(days=offset)
        sell(merchant, supplied, day, 3)
        if offset % 2 == 0:
            sell(merchant, unsupplied, day, 1)
    sell(merchant, newcomer, CUTOFF, 4)
    rival_product = ProductFactory(merchant=other_merchant, sku="SUPPLIED")
    sell(other_merchant, rival_product, FIRST_DAY + dt.timedelta(days=50), 99)
    return supplied, unsupplied
