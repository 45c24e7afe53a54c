"""A merchant plans a campaign in the browser, and reads an evaluated campaign's fan chart.

Drives Debian's chromium through Playwright against the live test server (see test_import_and_product_chart.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from inventory.models import Product
from tests.factories import (
    CampaignFactory,
    MembershipFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    UserFactory,
)
from tests.ui.test_campaigns import line, plan_of

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def planner():
    membership = MembershipFactory(user=UserFactory(username="campaigner"), merchant__slug="campaign-shop")
    for sku, name in (("MUG-1", "Blue mug"), ("TEA-9", "Green tea")):
        product = ProductFactory(merchant=membership.merchant, sku=sku, name=name)
    # sales data up to a day before the planned campaign, so that saving it asks for its forecast
    order = OrderFactory(merchant=membership.merchant, placed_at=dt.datetime(2024, 8, 20, 12, tzinfo=dt.UTC))
    OrderLineFactory(order=order, product=product)
    return membership


@pytest.fixture
def evaluated(planner):
    """A campaign with a succeeded plan, made before Playwright starts (see conftest)."""
    merchant = planner.merchant
    campaign = CampaignFactory(
        merchant=merchant,
        name="Spring sale",
        starts_on=dt.date(2024, 3, 1),
        ends_on=dt.date(2024, 3, 3),
        cost=Decimal("500"),
    )
    mug = Product.objects.get(merchant=merchant, sku="MUG-1")
    campaign.products.set([mug])
    line(plan_of(campaign), mug)
    return campaign


def log_in(page, base: str) -> None:
    page.goto(f"{base}{reverse('dashboard')}")
    page.fill("#id_username", "campaigner")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_it_plans_a_campaign_and_lands_on_its_page(planner, live_server, page):
    from playwright.sync_api import expect

    base = live_server.url
    outside_requests: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(base) else outside_requests.append(request.url))
    log_in(page, base)
    page.click("nav >> text=Campaigns")
    page.click("#new-campaign")

    page.fill("#id_name", "Autumn sale")
    page.fill("#id_starts_on", "2024-09-07")
    page.fill("#id_ends_on", "2024-09-01")
    page.fill("#id_discount_pct", "15")
    page.fill("#id_skus", "MUG-1\nNOPE-1")
    page.click("#save-campaign")

    expect(page.locator("#form-errors")).to_contain_text("Nothing was saved")
    expect(page.locator("#campaign-form .errorlist")).to_have_text(
        [
            "The last day cannot be before the first day.",
            "Unknown SKU: NOPE-1. Use the SKUs of your catalogue (the Products page).",
        ]
    )
    page.fill("#id_ends_on", "2024-09-14")
    page.fill("#id_skus", "MUG-1\nTEA-9")
    page.click("#save-campaign")

    expect(page.locator("h1")).to_have_text("Autumn sale")
    expect(page.locator(".messages")).to_contain_text("Campaign “Autumn sale” created; its forecast is on its way.")
    expect(page.locator("#campaign-products")).to_contain_text("Products: MUG-1, TEA-9.")
    expect(page.locator("#run-progress h2")).to_have_text("Pre-campaign forecast in progress")
    assert outside_requests == []


def test_it_draws_baseline_and_campaign_demand_on_the_campaign_page(evaluated, live_server, page):
    from playwright.sync_api import expect

    base = live_server.url
    log_in(page, base)
    page.goto(f"{base}{reverse('campaign-view', args=[evaluated.pk])}")

    expect(page.locator("#plan-chart .main-svg").first).to_be_visible()
    names = page.evaluate("Array.from(document.getElementById('plan-chart').data, (trace) => trace.name)")
    assert [name for name in names if "mean" in name] == ["Baseline (mean)", "With campaign (mean)"]
    assert len(names) == 4
    expect(page.locator("#plan-verdict")).to_contain_text("7 in 10 chance the campaign pays for itself")
