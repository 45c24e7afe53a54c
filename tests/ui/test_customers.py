from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Order, OrderLine
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory
from tests.ui.helpers import metrics_in, queries_to_get

pytestmark = pytest.mark.django_db


def _order(customer, *, day, quantity, price="10.00", kind=Order.Kind.SALE, sku=None):
    order = OrderFactory(
        merchant=customer.merchant,
        customer=customer,
        placed_at=dt.datetime(2024, 2, day, 15, tzinfo=dt.UTC),
        kind=kind,
        external_id=f"{customer.external_id}-{day}",
    )
    product = ProductFactory(merchant=customer.merchant, **({"sku": sku} if sku else {}))
    line_kind = OrderLine.Kind.RETURN if kind == Order.Kind.RETURN else OrderLine.Kind.SALE
    OrderLineFactory(order=order, product=product, quantity=quantity, unit_price=Decimal(price), kind=line_kind)
    return order


def test_it_lists_customers_with_orders_last_order_and_net_revenue(owner_client, merchant, other_merchant):
    loyal = CustomerFactory(merchant=merchant, external_id="LOYAL")
    CustomerFactory(merchant=merchant, external_id="NEW")
    CustomerFactory(merchant=other_merchant, external_id="RIVAL-CUSTOMER")
    _order(loyal, day=1, quantity=2)
    _order(loyal, day=5, quantity=3)
    _order(loyal, day=6, quantity=1, kind=Order.Kind.RETURN)

    response = owner_client.get(reverse("customer-list"))

    rows = {customer.external_id: customer for customer in response.context["page"].object_list}
    assert set(rows) == {"LOYAL", "NEW"}
    assert rows["LOYAL"].figures.orders_count == 2
    assert rows["LOYAL"].figures.revenue == Decimal("40.00")
    assert rows["LOYAL"].figures.last_order_at == dt.datetime(2024, 2, 6, 15, tzinfo=dt.UTC)
    assert rows["NEW"].figures.orders_count == 0
    html = response.content.decode()
    assert "40.00" in html
    assert "RIVAL-CUSTOMER" not in html
    # Most recent buyers first; a customer who never ordered comes last.
    assert [c.external_id for c in response.context["page"].object_list] == ["LOYAL", "NEW"]


def test_it_searches_customers_by_id_or_email(owner_client, merchant):
    CustomerFactory(merchant=merchant, external_id="C-100", email="ann@example.com")
    CustomerFactory(merchant=merchant, external_id="C-200", email="bob@example.com")

    found = owner_client.get(reverse("customer-list"), {"q": "bob@"}).context["page"].object_list

    assert [c.external_id for c in found] == ["C-200"]


def test_it_lists_customers_in_the_same_number_of_queries_for_three_times_the_rows(owner_client, merchant):
    def seed(count):
        for index, customer in enumerate(CustomerFactory.create_batch(count, merchant=merchant)):
            _order(customer, day=1 + index % 20, quantity=1)

    seed(4)
    owner_client.get(reverse("customer-list"))
    queries_for_few = queries_to_get(owner_client, reverse("customer-list"))
    seed(8)

    assert queries_to_get(owner_client, reverse("customer-list")) == queries_for_few


def test_it_shows_a_customers_order_timeline(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant, external_id="LOYAL", name="Ada Lovelace")
    _order(customer, day=1, quantity=2, sku="SKU-FIRST")
    _order(customer, day=9, quantity=3, sku="SKU-SECOND")
    _order(customer, day=10, quantity=1, kind=Order.Kind.RETURN)

    response = owner_client.get(reverse("customer-detail", args=[customer.pk]))

    html = response.content.decode()
    assert [order.external_id for order in response.context["orders"]] == ["LOYAL-10", "LOYAL-9", "LOYAL-1"]
    assert metrics_in(html)["Orders"] == "2"
    assert metrics_in(html)["Returns"] == "1"
    assert metrics_in(html)["Revenue (net)"] == "40.00"
    assert metrics_in(html)["First order"] == "2024-02-01"
    assert "SKU-SECOND" in html
    assert 'id="customer-chart"' in html
    assert "Ada Lovelace" in html


def test_it_answers_another_merchants_customer_with_404(owner_client, other_merchant):
    foreign = CustomerFactory(merchant=other_merchant)

    assert owner_client.get(reverse("customer-detail", args=[foreign.pk])).status_code == 404


def test_it_sorts_customers_by_net_revenue_or_orders_leaving_cancelled_orders_out(owner_client, merchant):
    big_spender, frequent, cancelled_only = (
        CustomerFactory(merchant=merchant, external_id=external_id) for external_id in ("BIG", "FREQ", "CANC")
    )
    _order(big_spender, day=1, quantity=10)
    for day in (2, 3, 4):
        _order(frequent, day=day, quantity=1)
    cancelled = _order(cancelled_only, day=5, quantity=100)
    cancelled.status = Order.Status.CANCELLED
    cancelled.save()

    by_revenue = owner_client.get(reverse("customer-list"), {"sort": "revenue"}).context["page"].object_list
    by_orders = owner_client.get(reverse("customer-list"), {"sort": "orders"}).context["page"].object_list

    assert [c.external_id for c in by_revenue] == ["BIG", "FREQ", "CANC"]
    assert [c.figures.revenue for c in by_revenue] == [Decimal("100.00"), Decimal("30.00"), None]
    assert [c.external_id for c in by_orders] == ["FREQ", "BIG", "CANC"]
