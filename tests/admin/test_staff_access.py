from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.factories import OrderFactory, OrderLineFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_it_shows_a_superuser_every_merchants_rows(admin_client_, merchant, other_merchant):
    ProductFactory(merchant=merchant, sku="ACME-1")
    ProductFactory(merchant=other_merchant, sku="RIVAL-1")

    html = admin_client_.get(reverse("admin:inventory_product_changelist")).content.decode()

    assert "ACME-1" in html
    assert "RIVAL-1" in html


def test_it_shows_staff_with_view_permission_every_merchants_rows(client, merchant, other_merchant):
    staff = UserFactory(username="ops", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_product"))
    client.force_login(staff)
    ProductFactory(merchant=merchant, sku="ACME-1")
    ProductFactory(merchant=other_merchant, sku="RIVAL-1")

    html = client.get(reverse("admin:inventory_product_changelist")).content.decode()

    assert "ACME-1" in html
    assert "RIVAL-1" in html


def test_it_narrows_a_changelist_to_one_merchant(admin_client_, merchant, other_merchant):
    ProductFactory(merchant=merchant, sku="ACME-1")
    ProductFactory(merchant=other_merchant, sku="RIVAL-1")

    html = admin_client_.get(
        reverse("admin:inventory_product_changelist"), {"merchant__id__exact": other_merchant.pk}
    ).content.decode()

    assert "RIVAL-1" in html
    assert "ACME-1" not in html


def test_it_keeps_members_without_staff_status_out_of_admin(client, owner):
    client.force_login(owner)

    response = client.get(reverse("admin:inventory_product_changelist"))

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_it_shows_an_order_with_its_lines_inline(admin_client_, merchant):
    order = OrderFactory(merchant=merchant, external_id="INV-77")
    OrderLineFactory(order=order, product=ProductFactory(merchant=merchant, sku="LINE-SKU"), quantity=3)

    html = admin_client_.get(reverse("admin:customers_order_change", args=[order.pk])).content.decode()

    assert "INV-77" in html
    assert 'id="lines-group"' in html
    assert "LINE-SKU" in html


def test_it_refuses_to_attach_another_merchants_customer_to_an_order(admin_client_, merchant, other_merchant):
    order = OrderFactory(merchant=merchant)
    foreign_customer = OrderFactory(merchant=other_merchant).customer
    url = reverse("admin:customers_order_change", args=[order.pk])

    response = admin_client_.post(
        url,
        {
            "merchant": merchant.pk,
            "external_id": order.external_id,
            "customer": foreign_customer.pk,
            "placed_at_0": "2024-01-01",
            "placed_at_1": "10:00:00",
            "kind": "sale",
            "status": "placed",
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
        },
    )

    order.refresh_from_db()
    assert response.status_code == 200
    assert "belongs to another merchant" in response.content.decode()
    assert order.customer_id != foreign_customer.pk


def test_it_adds_an_order_line_inline_with_the_orders_merchant_and_time(admin_client_, merchant):
    order = OrderFactory(merchant=merchant, customer=None)
    product = ProductFactory(merchant=merchant)

    response = admin_client_.post(
        reverse("admin:customers_order_change", args=[order.pk]),
        {
            "merchant": merchant.pk,
            "external_id": order.external_id,
            "placed_at_0": "2024-01-05",
            "placed_at_1": "09:30:00",
            "kind": "sale",
            "status": "placed",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-line_number": "1",
            "lines-0-product": product.pk,
            "lines-0-kind": "sale",
            "lines-0-quantity": "4",
            "lines-0-unit_price": "2.50",
            "lines-0-discount": "0",
        },
    )

    line = order.lines.get()
    assert response.status_code == 302
    assert (line.merchant, line.product, line.quantity) == (merchant, product, 4)
    assert line.placed_at.isoformat() == "2024-01-05T09:30:00+00:00"
