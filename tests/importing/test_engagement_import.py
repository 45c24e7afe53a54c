from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import ActivityEvent, Campaign, Customer
from ecomforecast.importing import run_import
from tests.importing.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_it_imports_activity_events(catalogue):
    report = run_import(merchant=catalogue, kind="activity", paths=[FIXTURES / "activity.csv"])

    assert (report.rows_read, report.rows_created) == (4, 4)
    assert report.extra["customers_created"] == 2
    view = ActivityEvent.objects.get(merchant=catalogue, event_key="e1")
    assert (view.kind, view.customer.external_id, view.product.sku, view.session_id) == ("view", "C1", "SKU-A", "s1")
    search = ActivityEvent.objects.get(merchant=catalogue, kind="search")
    assert (search.query, search.product, len(search.event_key)) == ("mug", None, 64)
    assert Customer.objects.get(merchant=catalogue, external_id="C1").first_seen_at == dt.datetime(
        2024, 3, 1, 9, 0, tzinfo=dt.UTC
    )


def test_it_keys_events_without_id_by_their_content(catalogue):
    run_import(merchant=catalogue, kind="activity", paths=[FIXTURES / "activity.csv"])

    again = run_import(merchant=catalogue, kind="activity", paths=[FIXTURES / "activity.csv"])

    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 4)
    assert ActivityEvent.objects.filter(merchant=catalogue).count() == 4


def test_it_imports_campaigns_with_products_and_categories(catalogue):
    report = run_import(merchant=catalogue, kind="campaigns", paths=[FIXTURES / "campaigns.csv"])

    assert (report.rows_read, report.rows_created) == (2, 2)
    spring = Campaign.objects.get(merchant=catalogue, external_id="CMP1")
    assert (spring.name, spring.starts_on, spring.ends_on, spring.discount_pct, spring.cost) == (
        "Spring sale",
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 14),
        Decimal("20"),
        Decimal("500"),
    )
    assert set(spring.products.values_list("sku", flat=True)) == {"SKU-A", "SKU-B"}
    lighting = Campaign.objects.get(external_id="CMP2")
    assert list(lighting.categories.values_list("name", flat=True)) == ["Lighting"]


def test_it_counts_a_campaign_whose_products_changed_as_updated(catalogue, tmp_path):
    run_import(merchant=catalogue, kind="campaigns", paths=[FIXTURES / "campaigns.csv"])
    path = tmp_path / "campaigns.csv"
    path.write_text((FIXTURES / "campaigns.csv").read_text().replace("SKU-A;SKU-B", "SKU-A"))

    report = run_import(merchant=catalogue, kind="campaigns", paths=[path])

    assert (report.rows_created, report.rows_updated, report.rows_unchanged) == (0, 1, 1)
    assert list(Campaign.objects.get(external_id="CMP1").products.values_list("sku", flat=True)) == ["SKU-A"]
