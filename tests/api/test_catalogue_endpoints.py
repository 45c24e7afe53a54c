"""Products, categories, suppliers and supplier terms: writes, validation, filters, ordering and pagination."""

from __future__ import annotations

from decimal import Decimal

import pytest

from inventory.models import Category, Product, SupplierProduct
from tests.factories import (
    CategoryFactory,
    OrderLineFactory,
    ProductFactory,
    SupplierFactory,
    SupplierProductFactory,
)

pytestmark = pytest.mark.django_db


def _skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["sku"] for row in response.json()["results"]]


def test_it_creates_a_product_in_a_category(api_client, merchant):
    category = CategoryFactory(merchant=merchant, name="Kitchen")

    response = api_client.post(
        "/api/v1/products/",
        {"sku": "MUG-1", "name": "Mug", "category": category.pk, "price": "7.50", "unit_cost": "2.10"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["category_name"] == "Kitchen"
    product = Product.objects.get(merchant=merchant, sku="MUG-1")
    assert (product.category, product.price, product.unit_cost, product.active) == (
        category,
        Decimal("7.5"),
        Decimal("2.1"),
        True,
    )


def test_it_rejects_a_duplicate_sku_but_allows_another_merchants(api_client, merchant, other_merchant):
    ProductFactory(merchant=merchant, sku="MUG-1")
    ProductFactory(merchant=other_merchant, sku="TEA-1")

    duplicate = api_client.post("/api/v1/products/", {"sku": "MUG-1"}, format="json")
    same_as_rival = api_client.post("/api/v1/products/", {"sku": "TEA-1"}, format="json")

    assert duplicate.status_code == 400
    assert "sku" in duplicate.json()
    assert same_as_rival.status_code == 201
    assert Product.objects.filter(sku="TEA-1").count() == 2


def test_it_rejects_a_negative_price(api_client, merchant):
    response = api_client.post("/api/v1/products/", {"sku": "MUG-1", "price": "-1.00"}, format="json")

    assert response.status_code == 400
    assert "price" in response.json()
    assert not Product.objects.exists()


def test_it_updates_and_deletes_a_product(api_client, merchant):
    product = ProductFactory(merchant=merchant, sku="MUG-1", active=True)

    patched = api_client.patch(f"/api/v1/products/{product.pk}/", {"active": False, "name": "Old mug"}, format="json")
    deleted = api_client.delete(f"/api/v1/products/{product.pk}/")

    assert patched.status_code == 200
    assert (patched.json()["active"], patched.json()["name"]) == (False, "Old mug")
    assert deleted.status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


def test_it_refuses_to_delete_a_product_that_was_sold(api_client, merchant):
    line = OrderLineFactory(order__merchant=merchant)

    response = api_client.delete(f"/api/v1/products/{line.product.pk}/")

    assert response.status_code == 409
    assert Product.objects.filter(pk=line.product.pk).exists()


def test_it_filters_products_by_sku_category_activity_and_search(api_client, merchant):
    kitchen = CategoryFactory(merchant=merchant, name="Kitchen")
    ProductFactory(merchant=merchant, sku="MUG-1", name="Blue mug", category=kitchen)
    ProductFactory(merchant=merchant, sku="MUG-2", name="Red mug", category=kitchen, active=False)
    ProductFactory(merchant=merchant, sku="TEA-1", name="Green tea")

    assert _skus(api_client.get("/api/v1/products/", {"sku": "MUG-2"})) == ["MUG-2"]
    assert _skus(api_client.get("/api/v1/products/", {"skus": "MUG-1,TEA-1"})) == ["MUG-1", "TEA-1"]
    assert _skus(api_client.get("/api/v1/products/", {"category": kitchen.pk})) == ["MUG-1", "MUG-2"]
    assert _skus(api_client.get("/api/v1/products/", {"category_name": "Kitchen", "active": "true"})) == ["MUG-1"]
    assert _skus(api_client.get("/api/v1/products/", {"search": "mug"})) == ["MUG-1", "MUG-2"]


def test_it_orders_and_paginates_products(api_client, merchant):
    for sku, price in (("A", "3.00"), ("B", "1.00"), ("C", "2.00")):
        ProductFactory(merchant=merchant, sku=sku, price=Decimal(price))

    by_price = _skus(api_client.get("/api/v1/products/", {"ordering": "-price"}))
    first_page = api_client.get("/api/v1/products/", {"page_size": 2}).json()
    second_page = api_client.get(first_page["next"]).json()

    assert by_price == ["A", "C", "B"]
    assert (first_page["count"], [row["sku"] for row in first_page["results"]]) == (3, ["A", "B"])
    assert [row["sku"] for row in second_page["results"]] == ["C"]


def test_it_refuses_a_category_that_would_be_its_own_ancestor(api_client, merchant):
    parent = CategoryFactory(merchant=merchant, name="Home")
    child = CategoryFactory(merchant=merchant, name="Kitchen", parent=parent)

    response = api_client.patch(f"/api/v1/categories/{parent.pk}/", {"parent": child.pk}, format="json")

    assert response.status_code == 400
    assert "parent" in response.json()
    parent.refresh_from_db()
    assert parent.parent is None
    assert Category.objects.get(pk=child.pk).parent == parent


def test_it_creates_supplier_terms_from_a_supplier_code_and_a_sku(api_client, merchant):
    supplier = SupplierFactory(merchant=merchant, code="ACME")
    product = ProductFactory(merchant=merchant, sku="MUG-1")

    created = api_client.post(
        "/api/v1/supplier-products/",
        {"supplier_code": "ACME", "sku": "MUG-1", "min_order_qty": 48, "pack_size": 12, "lead_time_days": 9},
        format="json",
    )
    duplicate = api_client.post("/api/v1/supplier-products/", {"supplier_code": "ACME", "sku": "MUG-1"}, format="json")

    assert created.status_code == 201, created.content
    terms = SupplierProduct.objects.get(merchant=merchant)
    assert (terms.supplier, terms.product, terms.min_order_qty, terms.pack_size, terms.lead_time_days) == (
        supplier,
        product,
        48,
        12,
        9.0,
    )
    assert duplicate.status_code == 400
    assert SupplierProduct.objects.count() == 1


def test_it_filters_supplier_terms_by_supplier_code_and_sku(api_client, merchant):
    acme = SupplierFactory(merchant=merchant, code="ACME")
    SupplierProductFactory(supplier=acme, product=ProductFactory(merchant=merchant, sku="MUG-1"))
    SupplierProductFactory(supplier=acme, product=ProductFactory(merchant=merchant, sku="TEA-1"))
    SupplierProductFactory(supplier=SupplierFactory(merchant=merchant, code="OTHER"))

    assert _skus(api_client.get("/api/v1/supplier-products/", {"supplier_code": "ACME"})) == ["MUG-1", "TEA-1"]
    assert _skus(api_client.get("/api/v1/supplier-products/", {"sku": "TEA-1"})) == ["TEA-1"]
