"""A merchant logs in, uploads an orders file, reads the import report and sees a product's sales chart.

Drives Debian's chromium through Playwright against the live test server; a real Celery worker (Redis from
CELERY_BROKER_URL) runs the import, as in production.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from inventory.models import Product
from tests.factories import MembershipFactory, ProductFactory, UserFactory

PASSWORD = "correct-horse-battery"
ORDERS_CSV = (
    "order_id,placed_at,customer_id,sku,quantity,unit_price\n"
    "B-1,2024-03-01T10:00:00,C-1,MUG-1,2,4.50\n"
    "B-1,2024-03-01T10:00:00,C-1,TEA-9,1,3.00\n"
    "B-2,2024-03-04T11:30:00,C-2,MUG-1,5,4.50\n"
    "B-3,2024-03-09T16:00:00,C-1,MUG-1,-1,4.50\n"
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def import_worker():
    if not settings.CELERY_BROKER_URL:
        pytest.skip("CELERY_BROKER_URL is not set: the import needs a broker and a worker")
    from celery.contrib.testing.worker import start_worker

    from ecomforecast.celery import app

    with start_worker(app, perform_ping_check=False, queues=["default"], shutdown_timeout=30):
        yield


@pytest.fixture
def shop_owner():
    membership = MembershipFactory(user=UserFactory(username="browser-owner"), merchant__slug="browser-shop")
    for sku, name in (("MUG-1", "Blue mug"), ("TEA-9", "Green tea")):
        ProductFactory(merchant=membership.merchant, sku=sku, name=name)
    return membership


@pytest.fixture
def mug(shop_owner) -> Product:
    """Read before Playwright starts: an ORM call inside its event loop opens a connection nothing closes."""
    return Product.objects.get(merchant=shop_owner.merchant, sku="MUG-1")


def test_it_logs_in_imports_orders_and_draws_a_products_sales_chart(
    shop_owner, mug, page, import_worker, live_server, settings, tmp_path
):
    from playwright.sync_api import expect

    settings.MEDIA_ROOT = tmp_path / "media"

    base = live_server.url
    outside_requests: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(base) else outside_requests.append(request.url))
    orders_file = tmp_path / "march-orders.csv"
    orders_file.write_text(ORDERS_CSV)

    page.goto(f"{base}{reverse('dashboard')}")
    page.fill("#id_username", "browser-owner")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text(shop_owner.merchant.name)

    page.click("nav >> text=Imports")
    page.select_option("#id_kind", "orders")
    page.select_option("#id_format", "orders-csv")
    page.set_input_files("#id_file", str(orders_file))
    page.click("#import-form button[type=submit]")

    expect(page.locator("#import-status")).to_have_text("Succeeded", timeout=60_000)
    report = page.locator("#import-report")
    expect(report.locator(".metric", has_text="Rows read").locator(".metric-value")).to_have_text("4")
    expect(report.locator(".metric", has_text="Errors").locator(".metric-value")).to_have_text("0")
    expect(page.locator("h1")).to_contain_text("march-orders.csv")

    page.goto(f"{base}{reverse('product-detail', args=[mug.pk])}")
    expect(page.locator("#sales-chart .main-svg").first).to_be_visible()
    expect(page.locator("#product-facts .metric", has_text="Units sold").locator(".metric-value")).to_have_text("6")

    page.click("text=Weekly")
    expect(page.locator("#sales-chart .main-svg").first).to_be_visible()
    assert outside_requests == []
