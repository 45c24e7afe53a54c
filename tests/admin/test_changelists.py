from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ecomforecast.models import ImportJob
from ecomforecast.services import api_key_create
from inventory.models import ReorderPlan, ReplenishmentSettings
from tests.api.rows import make_row
from tests.factories import (
    ActivityEventFactory,
    CampaignFactory,
    CategoryFactory,
    MembershipFactory,
    OrderLineFactory,
    ProductFactory,
    PurchaseOrderLineFactory,
    StockLevelFactory,
    SupplierProductFactory,
)

pytestmark = pytest.mark.django_db

OUR_APPS = {"ecomforecast", "inventory", "customers"}
REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in admin.site._registry
    if model._meta.app_label in OUR_APPS
)


def seed(merchants, count: int) -> None:
    """`count` rows of every model for each merchant, with their related rows."""
    for merchant in merchants:
        for _ in range(count):
            category = CategoryFactory(merchant=merchant)
            product = ProductFactory(merchant=merchant, category=category)
            OrderLineFactory(merchant=merchant, order__merchant=merchant, product=product)
            PurchaseOrderLineFactory(purchase_order__supplier__merchant=merchant, product=product)
            SupplierProductFactory(supplier__merchant=merchant, product=product)
            StockLevelFactory(product=product)
            ActivityEventFactory(merchant=merchant, product=product)
            CampaignFactory(merchant=merchant).products.add(product)
            ImportJob.objects.create(merchant=merchant, kind="orders", filename="orders.csv")
            api_key_create(merchant=merchant, name="key")
            MembershipFactory(merchant=merchant)
            make_row(ReorderPlan, merchant)
            make_row(ReplenishmentSettings, merchant)


def queries_for_changelist(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_it_registers_every_model_of_our_apps():
    registered = {model for _app, model in REGISTERED}

    assert {
        "merchant",
        "membership",
        "apikey",
        "importjob",
        "category",
        "product",
        "supplier",
        "supplierproduct",
        "stocklevel",
        "purchaseorder",
        "purchaseorderline",
        "customer",
        "order",
        "orderline",
        "activityevent",
        "campaign",
        "replenishmentsettings",
        "reorderplan",
        "reorderline",
    } <= registered


def test_it_renders_every_changelist_in_the_same_number_of_queries_for_three_times_the_rows(
    admin_client_, merchant, other_merchant
):
    urls = [reverse(f"admin:{app_label}_{model_name}_changelist") for app_label, model_name in REGISTERED]
    seed([merchant, other_merchant], 1)
    admin_client_.get(urls[0])
    queries_for_few = {url: queries_for_changelist(admin_client_, url) for url in urls}

    seed([merchant, other_merchant], 2)

    assert {url: queries_for_changelist(admin_client_, url) for url in urls} == queries_for_few


@pytest.mark.parametrize(("app_label", "model_name"), REGISTERED)
def test_it_filters_changelists_by_merchant(admin_client_, merchant, app_label, model_name):
    model_admin = next(ma for m, ma in admin.site._registry.items() if m._meta.model_name == model_name)
    filters = [f if isinstance(f, str) else f[0] for f in model_admin.list_filter]

    assert model_name in {"merchant"} or "merchant" in filters
