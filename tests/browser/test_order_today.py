"""A merchant opens Order today, tries a smaller budget and sees the line it cannot fund move to deferred.

Drives Debian's chromium through Playwright against the live test server (see test_import_and_product_chart.py).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory
from tests.ui.reorder_shop import build_shop

PASSWORD = "correct-horse-battery"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop_owner():
    membership = MembershipFactory(user=UserFactory(username="planner"), merchant__slug="plan-shop")
    build_shop(membership.merchant)
    return membership


# The shop is built before Playwright starts: ORM work done once its sync API runs left a database connection
# open past the test, and the test database could not be dropped.
def test_it_logs_in_changes_the_budget_and_sees_a_line_deferred(shop_owner, live_server, page):
    from playwright.sync_api import expect

    base = live_server.url
    outside_requests: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(base) else outside_requests.append(request.url))

    page.goto(f"{base}{reverse('dashboard')}")
    page.fill("#id_username", "planner")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Order today")

    expect(page.locator("h1")).to_have_text("Order today")
    tea = page.locator('tr.line[data-sku="TEA-9"]')
    expect(tea).to_have_attribute("data-budget", "fits")
    expect(page.locator("#plan-totals .metric", has_text="Deferred").locator(".metric-value")).to_have_text("0")

    page.fill("#id_budget", "100")
    page.click("#order-today-filters button[type=submit]")

    expect(tea).to_have_attribute("data-budget", "deferred")
    expect(tea.locator(".badge", has_text="Deferred")).to_be_visible()
    expect(page.locator('tr.line[data-sku="JAR-3"]')).to_have_attribute("data-budget", "fits")
    expect(page.locator("#plan-totals .metric", has_text="Within budget").locator(".metric-value")).to_have_text(
        "100.00"
    )
    expect(page.locator("#approve-form button")).to_have_text("Approve 2 lines within budget")

    page.locator('tr.line[data-sku="MUG-1"] + tr summary').click()
    expect(page.locator('tr.line[data-sku="MUG-1"] + tr .explanation')).to_contain_text("Order 30 units by 2024-06-01")
    assert outside_requests == []
