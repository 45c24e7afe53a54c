"""factory_boy factories for every model the tests create."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from customers.models import ActivityEvent, Campaign, Customer, Order, OrderLine
from ecomforecast.models import Membership, Merchant
from inventory.models import (
    Category,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLevel,
    Supplier,
    SupplierProduct,
)


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"shop-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct-horse-battery")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Membership.Role.OWNER


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory(MerchantFactory)
    sku = factory.Sequence(lambda n: f"SKU{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("9.99")
    unit_cost = Decimal("4.00")


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"SUP{n}")
    name = factory.Sequence(lambda n: f"Supplier {n}")
    lead_time_mean_days = 10
    lead_time_std_days = 2


class SupplierProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierProduct

    merchant = factory.SelfAttribute("supplier.merchant")
    supplier = factory.SubFactory(SupplierFactory)
    product = factory.SubFactory(ProductFactory, merchant=factory.SelfAttribute("..merchant"))


class StockLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockLevel

    merchant = factory.SelfAttribute("product.merchant")
    product = factory.SubFactory(ProductFactory)
    date = dt.date(2024, 1, 1)
    on_hand = 10


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrder

    merchant = factory.SelfAttribute("supplier.merchant")
    supplier = factory.SubFactory(SupplierFactory)
    external_id = factory.Sequence(lambda n: f"PO{n}")
    ordered_at = dt.date(2024, 1, 1)
    expected_at = dt.date(2024, 1, 11)


class PurchaseOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrderLine

    merchant = factory.SelfAttribute("purchase_order.merchant")
    purchase_order = factory.SubFactory(PurchaseOrderFactory)
    product = factory.SubFactory(ProductFactory, merchant=factory.SelfAttribute("..merchant"))
    quantity = 50


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    merchant = factory.SubFactory(MerchantFactory)
    external_id = factory.Sequence(lambda n: f"C{n}")
    email = factory.LazyAttribute(lambda o: f"{o.external_id.lower()}@example.com")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    merchant = factory.SubFactory(MerchantFactory)
    external_id = factory.Sequence(lambda n: f"O{n}")
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    placed_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    merchant = factory.SelfAttribute("order.merchant")
    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    product = factory.SubFactory(ProductFactory, merchant=factory.SelfAttribute("..merchant"))
    quantity = 2
    unit_price = Decimal("9.99")
    placed_at = factory.SelfAttribute("order.placed_at")


class ActivityEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityEvent

    merchant = factory.SubFactory(MerchantFactory)
    event_key = factory.Sequence(lambda n: f"evt-{n}")
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    kind = ActivityEvent.Kind.VIEW
    occurred_at = factory.LazyFunction(timezone.now)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    merchant = factory.SubFactory(MerchantFactory)
    external_id = factory.Sequence(lambda n: f"CMP{n}")
    name = factory.Sequence(lambda n: f"Campaign {n}")
    starts_on = dt.date(2024, 3, 1)
    ends_on = dt.date(2024, 3, 14)
    discount_pct = Decimal("20")
