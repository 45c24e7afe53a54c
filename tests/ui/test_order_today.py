"""The Order today page: the latest plan's lines by supplier, the budget control, approve and purchase orders."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from ecomforecast.models import Membership
from inventory.models import PurchaseOrder, ReorderLine, ReplenishmentSettings
from inventory.services import reorder_plan_build, replenishment_budget_set
from tests.factories import MembershipFactory, ProductFactory, SupplierFactory
from tests.ui.helpers import metrics_in, queries_to_get
from tests.ui.reorder_shop import DATA_CUTOFF, PRODUCTS, build_shop, forecast_run_with_known_demand

pytestmark = pytest.mark.django_db

URL = "/products/order-today/"
ROW = re.compile(r'<tr id="line-\d+" class="line [a-z]+" data-sku="([^"]+)" data-budget="([a-z]+)">')
GROUP = re.compile(r'<section class="card supplier-group" id="supplier-[^"]+" data-supplier="([^"]*)">')


def rows_in(html: str) -> list[tuple[str, str]]:
    """(sku, fits|deferred) of the ordering lines, in page order."""
    return ROW.findall(html)


def groups_in(html: str) -> list[str]:
    return GROUP.findall(html)


def watch_skus(html: str) -> list[str]:
    table = html.split('id="watch-list"', 1)[1]
    return re.findall(r'<tr data-sku="([^"]+)">', table)


@pytest.fixture
def shop(merchant):
    return build_shop(merchant)


def client_for(client, merchant, role):
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)
    return client


def test_it_builds_the_hand_computed_plan(shop):
    lines = {line.product.sku: line for line in ReorderLine.objects.filter(plan=shop.plan).select_related("product")}
    ordering = {sku: (line.final_quantity, line.cash_needed, line.revenue_at_risk) for sku, line in lines.items()}
    assert ordering == {
        "MUG-1": (30, Decimal("60.00"), Decimal("300.00")),
        "TEA-9": (40, Decimal("200.00"), Decimal("400.00")),
        "JAR-3": (10, Decimal("40.00"), Decimal("60.00")),
        "BOWL-4": (0, Decimal("0.00"), Decimal("0.00")),
        "SPOON-5": (0, Decimal("0.00"), Decimal("0.00")),
    }
    assert {sku: line.urgency for sku, line in lines.items()} == {
        "MUG-1": "now",
        "TEA-9": "now",
        "JAR-3": "now",
        "BOWL-4": "later",
        "SPOON-5": "none",
    }
    assert lines["BOWL-4"].order_by == dt.date(2024, 6, 11)


def test_it_lists_lines_by_supplier_sorted_by_money_at_risk(owner_client, shop):
    response = owner_client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert groups_in(html) == ["ALP", "BET"]
    assert rows_in(html) == [("TEA-9", "fits"), ("MUG-1", "fits"), ("JAR-3", "fits")]
    assert "SPOON-5" not in html
    assert watch_skus(html) == ["BOWL-4"]
    alpha = html.split('data-supplier="ALP"', 1)[1].split('data-supplier="BET"', 1)[0]
    assert '<strong class="group-units">70</strong>' in alpha
    assert '<strong class="group-cash">260.00</strong>' in alpha
    assert '<strong class="group-risk">700.00</strong>' in alpha
    beta = html.split('data-supplier="BET"', 1)[1]
    assert '<strong class="group-units">10</strong>' in beta
    assert '<strong class="group-cash">40.00</strong>' in beta
    csv_url = f"/api/v1/reorder-plans/{shop.plan.pk}/export.csv?supplier={shop.suppliers['ALP'].pk}"
    assert f'href="{csv_url}"' in html
    metrics = metrics_in(html)
    assert (metrics["Lines to order"], metrics["Cash needed"], metrics["Budget"]) == ("3", "300.00", "No limit")
    assert (metrics["Deferred"], metrics["Within budget"]) == ("0", "300.00")


def test_it_shows_each_lines_numbers_and_explanation(owner_client, shop):
    html = owner_client.get(URL).content.decode()

    mug = shop.plan.lines.get(product__sku="MUG-1")
    row = html.split(f'id="line-{mug.pk}"', 1)[1].split("</details>", 1)[0]
    cells = [re.sub(r"<[^>]+>", " ", cell).split() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[:9] == [
        ["1"],
        ["MUG-1", "Blue", "mug"],
        ["Order", "now"],
        ["2024-06-01"],
        ["30"],
        ["60.00"],
        ["300.00"],
        ["2", "→", "17"],
        ["Fits", "budget"],
    ]
    assert "Why this order" in row
    assert mug.explanation.startswith("Order 30 units by 2024-06-01")
    assert mug.explanation in row


@pytest.mark.parametrize(
    ("budget", "expected", "within"),
    [
        # greedy by revenue at risk per unit of cash: MUG-1 (5), TEA-9 (2), JAR-3 (1.5)
        ("100", [("TEA-9", "deferred"), ("MUG-1", "fits"), ("JAR-3", "fits")], "100.00"),  # TEA-9 skipped
        ("259.99", [("TEA-9", "deferred"), ("MUG-1", "fits"), ("JAR-3", "fits")], "100.00"),
        ("260", [("TEA-9", "fits"), ("MUG-1", "fits"), ("JAR-3", "deferred")], "260.00"),
        ("300", [("TEA-9", "fits"), ("MUG-1", "fits"), ("JAR-3", "fits")], "300.00"),
        ("50", [("TEA-9", "deferred"), ("MUG-1", "deferred"), ("JAR-3", "fits")], "40.00"),
        ("0", [("TEA-9", "deferred"), ("MUG-1", "deferred"), ("JAR-3", "deferred")], "0.00"),
    ],
)
def test_it_defers_the_lines_a_budget_cannot_fund(owner_client, shop, budget, expected, within):
    html = owner_client.get(URL, {"budget": budget}).content.decode()

    assert rows_in(html) == expected
    assert metrics_in(html)["Within budget"] == within
    assert metrics_in(html)["Deferred"] == str(sum(state == "deferred" for _sku, state in expected))


def test_it_uses_the_merchants_default_budget_unless_one_is_tried(owner_client, merchant, shop):
    replenishment_budget_set(merchant=merchant, budget=Decimal("100"))

    assert rows_in(owner_client.get(URL).content.decode())[0] == ("TEA-9", "deferred")
    assert rows_in(owner_client.get(URL, {"budget": ""}).content.decode())[0] == ("TEA-9", "fits")


def test_it_rejects_a_bad_budget_or_filter_with_a_clear_error(owner_client, other_merchant, shop):
    response = owner_client.get(URL, {"budget": "-5"})
    assert response.status_code == 400
    assert "Budget: Ensure this value is greater than or equal to 0." in response.content.decode()
    assert len(rows_in(response.content.decode())) == 3

    rival_supplier = SupplierFactory(merchant=other_merchant)
    response = owner_client.get(URL, {"supplier": rival_supplier.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_it_filters_by_supplier_and_urgency(owner_client, shop):
    html = owner_client.get(URL, {"supplier": shop.suppliers["BET"].pk}).content.decode()
    assert groups_in(html) == ["BET"]
    assert rows_in(html) == [("JAR-3", "fits")]
    assert watch_skus(html) == ["BOWL-4"]

    html = owner_client.get(URL, {"urgency": "later"}).content.decode()
    assert rows_in(html) == []
    assert "No line to order matches these filters." in html
    assert watch_skus(html) == ["BOWL-4"]

    html = owner_client.get(URL, {"urgency": "now", "budget": "100"}).content.decode()
    # The budget funds the whole plan: filtering does not change which lines fit.
    assert rows_in(html) == [("TEA-9", "deferred"), ("MUG-1", "fits"), ("JAR-3", "fits")]
    assert watch_skus(html) == []


def test_it_shows_an_empty_state_without_a_plan(owner_client, merchant):
    response = owner_client.get(URL)

    assert response.status_code == 200
    assert "No reorder plan yet." in response.content.decode()


@pytest.mark.parametrize("role", [Membership.Role.OWNER, Membership.Role.ANALYST])
def test_writers_see_the_buttons(client, merchant, shop, role):
    html = client_for(client, merchant, role).get(URL).content.decode()

    assert 'id="approve-form"' in html
    assert "Approve 3 lines within budget" in html
    assert 'id="purchase-orders-form"' in html
    assert 'id="save-budget-form"' in html


def test_a_viewer_sees_the_plan_but_no_buttons_and_cannot_post(client, merchant, shop):
    viewer = client_for(client, merchant, Membership.Role.VIEWER)

    html = viewer.get(URL).content.decode()
    assert rows_in(html) == [("TEA-9", "fits"), ("MUG-1", "fits"), ("JAR-3", "fits")]
    for form in ("approve-form", "purchase-orders-form", "save-budget-form"):
        assert f'id="{form}"' not in html
    assert viewer.post(reverse("order-today-approve", args=[shop.plan.pk]), {"budget": ""}).status_code == 403
    assert viewer.post(reverse("order-today-purchase-orders", args=[shop.plan.pk])).status_code == 403
    assert viewer.post(reverse("order-today-budget"), {"budget": "10"}).status_code == 403
    assert not ReorderLine.objects.filter(plan=shop.plan, status=ReorderLine.Status.APPROVED).exists()
    assert not ReplenishmentSettings.objects.filter(merchant=merchant).exists()


def test_it_approves_the_lines_within_budget_and_creates_draft_purchase_orders(client, merchant, shop):
    analyst = client_for(client, merchant, Membership.Role.ANALYST)

    response = analyst.post(reverse("order-today-approve", args=[shop.plan.pk]), {"budget": "100"}, follow=True)

    assert "Approved 2 lines (100.00 GBP)." in response.content.decode()
    statuses = dict(shop.plan.lines.values_list("product__sku", "status"))
    assert statuses == {
        "MUG-1": "approved",
        "TEA-9": "proposed",
        "JAR-3": "approved",
        "BOWL-4": "proposed",
        "SPOON-5": "proposed",
    }
    shop.plan.refresh_from_db()
    assert shop.plan.status == "approved"

    response = analyst.post(reverse("order-today-purchase-orders", args=[shop.plan.pk]), {"budget": "100"}, follow=True)

    orders = {
        order.external_id: (order.supplier.code, order.status, order.expected_at, order.lines.count())
        for order in PurchaseOrder.objects.filter(merchant=merchant).select_related("supplier")
    }
    plan_id = shop.plan.pk
    assert orders == {
        f"RP{plan_id}-ALP": ("ALP", "draft", dt.date(2024, 6, 11), 1),
        f"RP{plan_id}-BET": ("BET", "draft", dt.date(2024, 6, 11), 1),
    }
    lines = {
        (line.purchase_order.external_id, line.product.sku): (line.quantity, line.unit_cost)
        for order in PurchaseOrder.objects.filter(merchant=merchant)
        for line in order.lines.select_related("product", "purchase_order")
    }
    assert lines == {
        (f"RP{plan_id}-ALP", "MUG-1"): (30, Decimal("2.0000")),
        (f"RP{plan_id}-BET", "JAR-3"): (10, Decimal("4.0000")),
    }
    html = response.content.decode()
    assert f"Created 2 draft purchase orders: RP{plan_id}-ALP (Alpha Ceramics), RP{plan_id}-BET (Beta Glass)." in html
    assert rows_in(html) == [("TEA-9", "deferred"), ("MUG-1", "fits"), ("JAR-3", "fits")]
    assert html.count(">Ordered</span>") == 2

    response = analyst.post(reverse("order-today-purchase-orders", args=[shop.plan.pk]), follow=True)
    assert "No approved line with a supplier to order: approve lines first." in response.content.decode()
    assert PurchaseOrder.objects.filter(merchant=merchant).count() == 2


def test_it_says_when_no_line_fits_the_budget(owner_client, shop):
    response = owner_client.post(reverse("order-today-approve", args=[shop.plan.pk]), {"budget": "10"}, follow=True)

    assert "No line fits this budget: nothing approved." in response.content.decode()
    assert not shop.plan.lines.filter(status=ReorderLine.Status.APPROVED).exists()


def test_it_saves_the_budget_as_the_merchant_default(owner_client, merchant, shop):
    response = owner_client.post(reverse("order-today-budget"), {"budget": "150"}, follow=True)

    default = ReplenishmentSettings.objects.get(merchant=merchant, category=None, product=None)
    assert default.budget == Decimal("150")
    html = response.content.decode()
    assert "Default budget set to 150.00 GBP; the next plan is funded within it." in html
    assert rows_in(html) == [("TEA-9", "deferred"), ("MUG-1", "fits"), ("JAR-3", "fits")]

    response = owner_client.post(reverse("order-today-budget"), {"budget": ""}, follow=True)
    default.refresh_from_db()
    assert default.budget is None
    assert "Default budget cleared: plans fund every line." in response.content.decode()
    assert ReplenishmentSettings.objects.filter(merchant=merchant).count() == 1

    response = owner_client.post(reverse("order-today-budget"), {"budget": "lots"}, follow=True)
    assert "Budget not saved: Enter a number." in response.content.decode()
    default.refresh_from_db()
    assert default.budget is None


def test_the_supplier_csv_downloads_with_the_session(owner_client, shop):
    response = owner_client.get(
        f"/api/v1/reorder-plans/{shop.plan.pk}/export.csv", {"supplier": shop.suppliers["ALP"].pk}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines() == [
        "supplier_code,supplier_name,supplier_sku,sku,product_name,quantity,unit_cost,line_cost,order_by,status",
        "ALP,Alpha Ceramics,ALP-MUG-1,MUG-1,Blue mug,30,2.00,60.00,2024-06-01,proposed",
        "ALP,Alpha Ceramics,ALP-TEA-9,TEA-9,Green tea,40,5.00,200.00,2024-06-01,proposed",
    ]


def test_another_merchants_user_sees_none_of_it(client, merchant, other_merchant, shop):
    rival = client_for(client, other_merchant, Membership.Role.OWNER)

    html = rival.get(URL).content.decode()
    assert "No reorder plan yet." in html
    for sku, *_rest in PRODUCTS:
        assert sku not in html
    plan = shop.plan.pk
    assert rival.post(reverse("order-today-approve", args=[plan]), {"budget": ""}).status_code == 404
    assert rival.post(reverse("order-today-purchase-orders", args=[plan])).status_code == 404
    assert rival.get(f"/api/v1/reorder-plans/{plan}/export.csv").status_code == 404
    assert rival.get(reverse("product-detail", args=[shop.products["MUG-1"].pk])).status_code == 404
    assert not shop.plan.lines.exclude(status=ReorderLine.Status.PROPOSED).exists()
    assert not PurchaseOrder.objects.exists()


def test_its_query_count_does_not_grow_with_the_plan(owner_client, merchant, shop):
    small = queries_to_get(owner_client, URL)
    daily = {shop.products[sku]: float(rate) for sku, _name, _supplier, rate, *_rest in PRODUCTS}
    daily.update({ProductFactory(merchant=merchant, sku=f"EXTRA-{n}", price=Decimal("8")): 2.0 for n in range(6)})
    run = forecast_run_with_known_demand(merchant=merchant, daily=daily, data_cutoff=DATA_CUTOFF + dt.timedelta(days=1))
    plan = reorder_plan_build(merchant=merchant, forecast_run_id=run.pk)
    assert plan.lines_to_order == 9

    html = owner_client.get(URL).content.decode()
    assert groups_in(html) == ["ALP", "BET", ""]  # the six products without a supplier come last
    assert queries_to_get(owner_client, URL) == small


def test_it_pages_the_lines_and_keeps_the_budget_and_group_totals(owner_client, shop, monkeypatch):
    monkeypatch.setattr("inventory.views.ORDER_TODAY_PAGE_SIZE", 2)

    first = owner_client.get(URL, {"budget": "100"}).content.decode()
    assert rows_in(first) == [("TEA-9", "deferred"), ("MUG-1", "fits")]
    assert 'href="?budget=100&amp;page=2"' in first

    second = owner_client.get(URL, {"budget": "100", "page": "2"}).content.decode()
    assert groups_in(second) == ["BET"]
    assert rows_in(second) == [("JAR-3", "fits")]
    assert '<strong class="group-cash">40.00</strong>' in second


def test_anonymous_visitors_are_sent_to_log_in(client, shop):
    assert client.get(URL)["Location"].startswith("/login/")
    response = client.post(reverse("order-today-approve", args=[shop.plan.pk]), {"budget": ""})
    assert response.status_code == 302
    assert not shop.plan.lines.filter(status=ReorderLine.Status.APPROVED).exists()
