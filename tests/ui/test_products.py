from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Order, OrderLine
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    StockLevelFactory,
    SupplierFactory,
    SupplierProductFactory,
)
from tests.ui.helpers import metrics_in, queries_to_get

pytestmark = pytest.mark.django_db


def _sell(product, *, quantity, day, kind=OrderLine.Kind.SALE, customer=None):
    order = OrderFactory(
        merchant=product.merchant,
        customer=customer,
        placed_at=dt.datetime(2024, 5, day, 10, tzinfo=dt.UTC),
        kind=Order.Kind.RETURN if kind == OrderLine.Kind.RETURN else Order.Kind.SALE,
    )
    return OrderLineFactory(order=order, product=product, quantity=quantity, unit_price=Decimal("3.00"), kind=kind)


def test_it_lists_the_merchants_products_with_units_sold_and_stock(owner_client, merchant, other_merchant):
    mug = ProductFactory(merchant=merchant, sku="MUG-1", name="Blue mug", category=CategoryFactory(merchant=merchant))
    ProductFactory(merchant=merchant, sku="TEA-9", name="Green tea")
    ProductFactory(merchant=other_merchant, sku="RIVAL-7", name="Secret widget")
    _sell(mug, quantity=5, day=1)
    _sell(mug, quantity=2, day=2, kind=OrderLine.Kind.RETURN)
    StockLevelFactory(product=mug, date=dt.date(2024, 5, 1), on_hand=40)
    StockLevelFactory(product=mug, date=dt.date(2024, 5, 3), on_hand=31)

    response = owner_client.get(reverse("product-list"))

    html = response.content.decode()
    rows = {product.sku: product for product in response.context["page"].object_list}
    assert set(rows) == {"MUG-1", "TEA-9"}
    assert (rows["MUG-1"].figures.units_sold, rows["MUG-1"].figures.on_hand) == (3, 31)
    assert rows["TEA-9"].figures.units_sold is None
    assert "2 products." in html
    assert "Blue mug" in html
    assert "RIVAL-7" not in html


def test_it_searches_by_sku_or_name(owner_client, merchant):
    ProductFactory(merchant=merchant, sku="MUG-1", name="Blue mug")
    ProductFactory(merchant=merchant, sku="TEA-9", name="Green tea")
    ProductFactory(merchant=merchant, sku="CUP-3", name="Tea cup")

    by_name = owner_client.get(reverse("product-list"), {"q": "tea"}).context["page"].object_list
    by_sku = owner_client.get(reverse("product-list"), {"q": "mug-"}).context["page"].object_list

    assert sorted(p.sku for p in by_name) == ["CUP-3", "TEA-9"]
    assert [p.sku for p in by_sku] == ["MUG-1"]


def test_it_sorts_by_units_sold(owner_client, merchant):
    slow, fast = ProductFactory(merchant=merchant, sku="A-SLOW"), ProductFactory(merchant=merchant, sku="B-FAST")
    _sell(slow, quantity=1, day=1)
    _sell(fast, quantity=9, day=1)

    page = owner_client.get(reverse("product-list"), {"sort": "units"}).context["page"]

    assert [p.sku for p in page.object_list] == ["B-FAST", "A-SLOW"]


def test_it_paginates_fifty_products_a_page(owner_client, merchant):
    ProductFactory.create_batch(55, merchant=merchant)

    first = owner_client.get(reverse("product-list"))
    second = owner_client.get(reverse("product-list"), {"page": 2})

    assert len(first.context["page"].object_list) == 50
    assert len(second.context["page"].object_list) == 5
    assert "Page 1 of 2" in first.content.decode()


def test_it_keeps_the_search_and_sort_in_the_page_links(owner_client, merchant):
    ProductFactory.create_batch(55, merchant=merchant, name="Blue mug")

    page = owner_client.get(reverse("product-list"), {"q": "mug", "sort": "-units", "page": 2}).content.decode()

    assert 'href="?q=mug&amp;sort=-units&amp;page=1"' in page


def test_it_lists_products_in_the_same_number_of_queries_for_three_times_the_rows(owner_client, merchant):
    def seed(count):
        for product in ProductFactory.create_batch(
            count, merchant=merchant, category=CategoryFactory(merchant=merchant)
        ):
            _sell(product, quantity=2, day=3)
            StockLevelFactory(product=product)

    seed(5)
    owner_client.get(reverse("product-list"))
    queries_for_few = queries_to_get(owner_client, reverse("product-list"))
    seed(10)

    assert queries_to_get(owner_client, reverse("product-list")) == queries_for_few


def test_it_shows_a_product_with_its_sales_chart_stock_price_and_supplier_terms(owner_client, merchant):
    product = ProductFactory(merchant=merchant, sku="MUG-1", name="Blue mug", price=Decimal("12.50"))
    customer = CustomerFactory(merchant=merchant, external_id="CUST-42")
    _sell(product, quantity=4, day=1, customer=customer)
    _sell(product, quantity=6, day=8, customer=customer)
    _sell(product, quantity=1, day=9, kind=OrderLine.Kind.RETURN)
    StockLevelFactory(product=product, date=dt.date(2024, 5, 9), on_hand=17)
    supplier = SupplierFactory(merchant=merchant, name="Potter & Sons")
    SupplierProductFactory(supplier=supplier, product=product, min_order_qty=24, pack_size=6, lead_time_days=9)

    response = owner_client.get(reverse("product-detail", args=[product.pk]))

    html = response.content.decode()
    assert 'id="sales-chart"' in html
    assert metrics_in(html)["Price"] == "12.50"
    assert metrics_in(html)["Units sold (net)"] == "9"
    assert metrics_in(html)["On hand"] == "17"
    assert "Potter &amp; Sons" in html
    assert '<td class="num">24</td>' in html
    assert "CUST-42" in html
    chart = response.context["sales_chart"]
    assert len(chart["data"][0]["x"]) == 9
    assert chart["data"][1]["name"] == "On hand"


def test_it_toggles_the_product_chart_to_weeks(owner_client, merchant):
    product = ProductFactory(merchant=merchant)
    _sell(product, quantity=4, day=1)
    _sell(product, quantity=6, day=8)

    chart = owner_client.get(reverse("product-detail", args=[product.pk]), {"freq": "week"}).context["sales_chart"]

    assert chart["data"][0]["x"] == ["2024-04-29", "2024-05-06"]
    assert chart["data"][0]["y"] == [4, 6]


def test_it_answers_another_merchants_product_with_404(owner_client, other_merchant):
    foreign = ProductFactory(merchant=other_merchant)

    assert owner_client.get(reverse("product-detail", args=[foreign.pk])).status_code == 404


def test_it_sorts_by_last_sale_leaving_cancelled_orders_out(owner_client, merchant):
    early, late, never = (ProductFactory(merchant=merchant, sku=sku) for sku in ("EARLY", "LATE", "NEVER"))
    _sell(early, quantity=1, day=1)
    _sell(late, quantity=1, day=9)
    cancelled = _sell(never, quantity=1, day=20).order
    cancelled.status = Order.Status.CANCELLED
    cancelled.save()

    page = owner_client.get(reverse("product-list"), {"sort": "recent"}).context["page"]

    assert [p.sku for p in page.object_list] == ["LATE", "EARLY", "NEVER"]
    assert page.object_list[2].figures.units_sold is None
