from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Order, OrderLine
from ecomforecast.charts import Frequency, product_sales_figure, sales_over_time
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_it_sums_units_and_revenue_per_merchant_local_day_net_of_returns_and_cancellations(merchant, other_merchant):
    product = ProductFactory(merchant=merchant)
    # 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
    late = OrderFactory(merchant=merchant, placed_at=dt.datetime(2024, 6, 30, 23, 30, tzinfo=dt.UTC))
    OrderLineFactory(order=late, product=product, quantity=4, unit_price=Decimal("5.00"), discount=Decimal("2.00"))
    back = OrderFactory(merchant=merchant, placed_at=dt.datetime(2024, 7, 3, 9, tzinfo=dt.UTC), kind=Order.Kind.RETURN)
    OrderLineFactory(order=back, product=product, quantity=1, unit_price=Decimal("5.00"), kind=OrderLine.Kind.RETURN)
    cancelled = OrderFactory(
        merchant=merchant, placed_at=dt.datetime(2024, 7, 2, 9, tzinfo=dt.UTC), status=Order.Status.CANCELLED
    )
    OrderLineFactory(order=cancelled, product=product, quantity=50, unit_price=Decimal("5.00"))
    OrderLineFactory(order=OrderFactory(merchant=other_merchant, placed_at=dt.datetime(2024, 7, 2, tzinfo=dt.UTC)))

    points = sales_over_time(merchant=merchant, freq=Frequency.DAY)

    assert [(p.period.isoformat(), p.units, p.revenue) for p in points] == [
        ("2024-07-01", 4, Decimal("18.00")),
        ("2024-07-02", 0, Decimal("0")),
        ("2024-07-03", -1, Decimal("-5.00")),
    ]


def test_it_limits_the_series_to_one_product(merchant):
    wanted, other = ProductFactory.create_batch(2, merchant=merchant)
    order = OrderFactory(merchant=merchant, placed_at=dt.datetime(2024, 1, 10, 12, tzinfo=dt.UTC))
    OrderLineFactory(order=order, product=wanted, quantity=2)
    OrderLineFactory(order=order, product=other, quantity=9)

    points = sales_over_time(merchant=merchant, freq=Frequency.WEEK, product=wanted)

    assert [(p.period, p.units) for p in points] == [(dt.date(2024, 1, 8), 2)]


def test_it_adds_the_stock_line_on_a_second_axis_only_when_there_is_stock(merchant):
    stock = [(dt.date(2024, 1, 1), 5), (dt.date(2024, 1, 2), 3)]

    with_stock = product_sales_figure([], freq=Frequency.DAY, stock=stock)
    without = product_sales_figure([], freq=Frequency.DAY, stock=[])

    assert with_stock["data"][1]["y"] == [5, 3]
    assert with_stock["data"][1]["yaxis"] == "y2"
    assert "yaxis2" in with_stock["layout"]
    assert len(without["data"]) == 1
    assert "yaxis2" not in without["layout"]
