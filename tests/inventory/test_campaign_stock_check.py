"""A planned campaign's stock check feeds the reorder plan: the line is raised to what the campaign needs by its
start, with the needed-by and order-by dates, idempotently, never over a merchant's approval, within the budget."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from forecasting.models import CampaignForecast, CampaignForecastLine
from inventory import services
from inventory.models import ReorderLine, ReorderPlan, ReplenishmentSettings
from inventory.policy.campaign import expected_shortfall
from inventory.services import CampaignStockNeed
from tests.factories import (
    CampaignFactory,
    ProductFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    SupplierFactory,
    UserFactory,
)
from tests.inventory.plans import CUTOFF, TODAY, constant, forecast_run_by_hand
from tests.inventory.test_reorder_plan import stocked

pytestmark = pytest.mark.django_db

START = TODAY + dt.timedelta(days=30)
END = START + dt.timedelta(days=6)


def slow_seller(merchant, *, sku: str = "A", on_hand: int = 20, **terms):
    """20 on hand, 0.1 sold a day, a 7-day lead time: the policy alone orders nothing for six weeks."""
    return stocked(merchant, sku=sku, on_hand=on_hand, lead_days=7, **terms)


def plan_of(merchant, products: dict, *, horizon: int = 42) -> ReorderPlan:
    run = forecast_run_by_hand(merchant=merchant, products=products, horizon=horizon)
    return services.reorder_plan_build(merchant=merchant, forecast_run_id=run.pk)


def need(product, **overrides) -> CampaignStockNeed:
    values = {
        "product_id": product.pk,
        "campaign_id": 1,
        "campaign_name": "Spring sale",
        "starts_on": START,
        "ends_on": END,
        "demand_to_end_p90": 50.0,
        "demand_to_end_mean": 40.0,
        "forecast_start": TODAY,
    }
    return CampaignStockNeed(**{**values, **overrides})


def apply(merchant, *needs, plan=None) -> dict:
    return services.reorder_plan_apply_campaign_needs(merchant=merchant, needs=list(needs), plan=plan)


@pytest.fixture
def product(merchant):
    return slow_seller(merchant, pack_size=25)


@pytest.fixture
def plan(merchant, product):
    return plan_of(merchant, {product: constant(0.1)})


def test_it_orders_what_the_campaign_needs_by_its_start_in_whole_packs(merchant, product, plan):
    before = plan.lines.get()
    assert (before.final_quantity, before.urgency) == (0, ReorderLine.Urgency.NONE)

    summary = apply(merchant, need(product))

    line = plan.lines.get()
    assert summary == {
        "plan_id": plan.pk,
        "applied": 1,
        "raised": 1,
        "already_covered": 0,
        "stale": 0,
        "no_line": 0,
        "blocked": 0,
    }
    # P90 demand 50 against 20 available by the start: 30 units, rounded up to two packs of 25.
    assert line.suggested_quantity == 30
    assert (line.rounded_quantity, line.final_quantity, line.rounding_reason) == (50, 50, "pack_size")
    assert line.needed_by == START
    assert line.order_by == START - dt.timedelta(days=7)
    # The order-by date is 23 days out, past the 7-day review: not urgent yet.
    assert line.urgency == ReorderLine.Urgency.LATER
    assert line.cash_needed == Decimal("200.00")
    assert line.days_of_cover_after == pytest.approx(700.0)
    # Expected units short without the order (normal law through mean 40 and P90 50, 20 available) x price 10.
    assert float(line.revenue_at_risk) == pytest.approx(
        10 * expected_shortfall(mean=40, p90=50, available=20), abs=0.01
    )
    assert line.explanation.startswith("No order: stock position 20")
    assert f"Campaign Spring sale ({START}–{END}) needs about 50 units at P90 by {START}" in line.explanation
    order_by = START - dt.timedelta(days=7)
    assert f"20 are available by then, so at least 30 units must be ordered by {order_by}." in line.explanation
    assert line.campaign_needs == [
        {
            "campaign_id": 1,
            "name": "Spring sale",
            "starts_on": START.isoformat(),
            "ends_on": END.isoformat(),
            "demand_p90": 50.0,
            "demand_mean": 40.0,
            "available": 20.0,
            "required_units": 30,
            "needed_by": START.isoformat(),
            "order_by": (START - dt.timedelta(days=7)).isoformat(),
            "late": False,
        }
    ]
    # The chart's order lands a mean lead time after its order-by date.
    arrival = (START - TODAY).days
    assert line.projection["available_with_order"][arrival - 1 : arrival + 1] == [20.0, 70.0]
    assert line.projection["order_by"] == (START - dt.timedelta(days=7)).isoformat()


def test_it_adds_up_the_plan_totals_and_funds_within_the_budget_again(merchant, product):
    ReplenishmentSettings.objects.create(merchant=merchant, budget=Decimal("220"))
    empty = stocked(merchant, sku="B", on_hand=0, lead_days=7)  # orders 14 units: 56 cash, 140 at risk
    plan = plan_of(merchant, {product: constant(0.1), empty: constant(1.0)})
    assert (plan.lines_to_order, plan.units_to_order, plan.cash_needed) == (1, 14, Decimal("56.00"))

    apply(merchant, need(product))

    plan.refresh_from_db()
    lines = {line.product.sku: line for line in plan.lines.select_related("product")}
    assert (plan.lines_to_order, plan.units_to_order, plan.cash_needed) == (2, 64, Decimal("256.00"))
    assert plan.revenue_at_risk == lines["A"].revenue_at_risk + lines["B"].revenue_at_risk
    # B protects 2.5 per unit of cash, the campaign's order about 1.0: B first, and 56 + 200 > 220 defers A.
    assert (lines["B"].priority, lines["B"].within_budget) == (1, True)
    assert (lines["A"].priority, lines["A"].within_budget) == (2, False)
    assert plan.cash_within_budget == Decimal("56.00")


def test_it_changes_nothing_when_the_same_campaign_is_applied_twice(merchant, product, plan):
    apply(merchant, need(product))
    line_once = model_to_dict(plan.lines.get())
    plan_once = model_to_dict(ReorderPlan.objects.get(pk=plan.pk))

    summary = apply(merchant, need(product))

    assert (summary["applied"], summary["raised"], summary["already_covered"]) == (1, 0, 1)
    assert model_to_dict(plan.lines.get()) == line_once
    assert model_to_dict(ReorderPlan.objects.get(pk=plan.pk)) == plan_once
    assert line_once["explanation"].count("Campaign Spring sale") == 1


def test_it_replaces_a_campaigns_entry_when_its_evaluation_changes(merchant, product, plan):
    apply(merchant, need(product))

    apply(merchant, need(product, demand_to_end_p90=100.0, demand_to_end_mean=80.0))

    line = plan.lines.get()
    assert [entry["required_units"] for entry in line.campaign_needs] == [80]
    assert line.final_quantity == 100
    assert "needs about 100 units" in line.explanation
    assert "needs about 50 units" not in line.explanation


def test_it_keeps_the_larger_requirement_when_a_second_campaign_needs_less(merchant, product, plan):
    apply(merchant, need(product))
    flash_start = START - dt.timedelta(days=10)

    summary = apply(
        merchant,
        need(
            product,
            campaign_id=2,
            campaign_name="Flash",
            starts_on=flash_start,
            ends_on=flash_start + dt.timedelta(days=1),
            demand_to_end_p90=35.0,
            demand_to_end_mean=30.0,
        ),
    )

    line = plan.lines.get()
    assert (summary["raised"], summary["already_covered"]) == (0, 1)
    assert line.final_quantity == 50
    assert [(entry["name"], entry["required_units"]) for entry in line.campaign_needs] == [
        ("Flash", 15),
        ("Spring sale", 30),
    ]
    # The order must be in for the earlier campaign.
    assert line.needed_by == flash_start
    assert line.order_by == flash_start - dt.timedelta(days=7)
    assert "Campaign Flash" in line.explanation
    assert "Campaign Spring sale" in line.explanation


def test_it_counts_open_orders_due_by_the_start_and_not_those_due_after(merchant):
    supplier = SupplierFactory(merchant=merchant, lead_time_mean_days=7, lead_time_std_days=0)
    product = slow_seller(merchant, supplier=supplier, pack_size=25)
    for expected_at, quantity in ((TODAY + dt.timedelta(days=10), 20), (START + dt.timedelta(days=5), 100)):
        order = PurchaseOrderFactory(supplier=supplier, expected_at=expected_at)
        PurchaseOrderLineFactory(purchase_order=order, product=product, quantity=quantity)
    plan = plan_of(merchant, {product: constant(0.1)})

    apply(merchant, need(product))

    line = plan.lines.get()
    assert line.on_order == 120
    assert line.campaign_needs[0]["available"] == 40.0  # 20 on hand + the 20 due on day 10
    assert line.final_quantity == 25  # 10 units short, one pack


def test_it_counts_every_open_order_for_a_campaign_past_the_projection(merchant):
    supplier = SupplierFactory(merchant=merchant, lead_time_mean_days=7, lead_time_std_days=0)
    product = slow_seller(merchant, supplier=supplier)
    order = PurchaseOrderFactory(supplier=supplier, expected_at=TODAY + dt.timedelta(days=27))
    PurchaseOrderLineFactory(purchase_order=order, product=product, quantity=15)
    plan = plan_of(merchant, {product: constant(0.1)}, horizon=28)

    apply(merchant, need(product))

    line = plan.lines.get()
    assert line.campaign_needs[0]["available"] == 35.0  # the start is past the 28 days projected
    assert line.final_quantity == 15


def test_it_orders_now_and_says_so_when_the_lead_time_is_longer_than_the_wait(merchant, product, plan):
    soon = TODAY + dt.timedelta(days=3)

    apply(merchant, need(product, starts_on=soon, ends_on=soon + dt.timedelta(days=2)))

    line = plan.lines.get()
    assert line.order_by == TODAY
    assert line.needed_by == soon
    assert line.urgency == ReorderLine.Urgency.NOW
    assert line.campaign_needs[0]["late"] is True
    assert "at the 7-day P90 lead time they may still arrive late" in line.explanation


def test_it_leaves_an_approved_line_alone_and_reports_it_blocked(merchant, product, plan):
    line = plan.lines.get()
    services.reorder_plan_approve(merchant=merchant, plan=plan, line_ids=[line.pk], quantities={line.pk: 10})
    approved = model_to_dict(plan.lines.get())

    summary = apply(merchant, need(product), plan=plan)

    assert (summary["blocked"], summary["applied"], summary["raised"]) == (1, 0, 0)
    assert model_to_dict(plan.lines.get()) == approved
    assert approved["final_quantity"] == 10
    assert approved["campaign_needs"] == []


def test_it_raises_a_merchants_edit_but_never_lowers_it(merchant, product, plan):
    line = plan.lines.get()
    services.reorder_plan_approve(merchant=merchant, plan=plan, line_ids=[], quantities={line.pk: 200})

    summary = apply(merchant, need(product), plan=plan)

    line.refresh_from_db()
    assert (summary["already_covered"], summary["raised"]) == (1, 0)
    assert line.status == ReorderLine.Status.PROPOSED
    assert line.final_quantity == 200
    assert line.needed_by == START


def test_it_skips_needs_counted_from_another_day_than_the_plan(merchant, product, plan):
    yesterday = need(product, campaign_id=2, forecast_start=TODAY - dt.timedelta(days=1))

    mixed = apply(merchant, need(product), yesterday)
    only_stale = apply(merchant, need(product, forecast_start=TODAY + dt.timedelta(days=1)))

    assert (mixed["applied"], mixed["stale"]) == (1, 1)
    assert only_stale == {"plan_id": None, **dict.fromkeys(services.CAMPAIGN_SUMMARY_KEYS, 0), "stale": 1}
    assert [entry["campaign_id"] for entry in plan.lines.get().campaign_needs] == [1]


def test_it_counts_a_product_without_a_line(merchant, plan):
    unplanned = ProductFactory(merchant=merchant, sku="NEW")

    summary = apply(merchant, need(unplanned))

    assert (summary["no_line"], summary["applied"]) == (1, 0)


def plan_forecast(merchant, campaign, product, *, p90: float, mean: float, cutoff=CUTOFF, finished_days_ago=0):
    forecast = CampaignForecast.objects.create(
        merchant=merchant,
        campaign=campaign,
        kind=CampaignForecast.Kind.PLAN,
        status=CampaignForecast.Status.SUCCEEDED,
        idempotency_key=f"{campaign.pk}-{cutoff}-{finished_days_ago}",
        data_cutoff=cutoff,
        campaign_snapshot={
            "name": campaign.name,
            "starts_on": campaign.starts_on.isoformat(),
            "ends_on": campaign.ends_on.isoformat(),
        },
        finished_at=timezone.now() - dt.timedelta(days=finished_days_ago),
    )
    CampaignForecastLine.objects.create(
        merchant=merchant,
        forecast=forecast,
        product=product,
        baseline_units=mean / 2,
        campaign_units=mean,
        lift_units=mean / 2,
        demand_to_end_p90=p90,
        demand_to_end_mean=mean,
    )
    return forecast


def test_it_applies_campaign_needs_stored_before_the_plan_is_built(merchant, product):
    campaign = CampaignFactory(merchant=merchant, name="Summer", starts_on=START, ends_on=END)
    plan_forecast(merchant, campaign, product, p90=50.0, mean=40.0)
    plan_forecast(merchant, campaign, product, p90=500.0, mean=400.0, finished_days_ago=1)  # superseded
    plan_forecast(merchant, campaign, product, p90=900.0, mean=800.0, cutoff=CUTOFF - dt.timedelta(days=1))

    plan = plan_of(merchant, {product: constant(0.1)})

    line = plan.lines.get()
    assert [(entry["campaign_id"], entry["required_units"]) for entry in line.campaign_needs] == [(campaign.pk, 30)]
    assert line.final_quantity == 50
    assert line.needed_by == START
    assert "Campaign Summer" in line.explanation
    assert (plan.lines_to_order, plan.units_to_order, plan.cash_needed) == (1, 50, Decimal("200.00"))


def test_it_never_lets_another_merchants_campaigns_touch_this_plan(merchant, other_merchant, product):
    theirs = slow_seller(other_merchant, sku="A", pack_size=25)
    campaign = CampaignFactory(merchant=other_merchant, starts_on=START, ends_on=END)
    plan_forecast(other_merchant, campaign, theirs, p90=500.0, mean=400.0)
    their_plan = plan_of(other_merchant, {theirs: constant(0.1)})
    plan = plan_of(merchant, {product: constant(0.1)})
    their_line = model_to_dict(their_plan.lines.get())

    assert plan.lines.get().campaign_needs == []
    assert apply(merchant, need(theirs))["no_line"] == 1
    apply(merchant, need(product))
    with pytest.raises(ReorderPlan.DoesNotExist):
        apply(merchant, need(product), plan=their_plan)

    assert plan.lines.get().final_quantity == 50
    assert model_to_dict(their_plan.lines.get()) == their_line
    assert their_line["final_quantity"] == 500  # their own campaign: 480 short, in packs of 25


def test_it_serves_the_campaign_need_on_the_line_endpoint_to_its_merchant_only(
    api_client, other_api_client, merchant, product, plan
):
    apply(merchant, need(product))
    url = f"/api/v1/reorder-plans/{plan.pk}/lines/"

    row = api_client.get(url).json()["results"][0]

    assert row["needed_by"] == START.isoformat()
    assert row["campaign_needs"][0]["required_units"] == 30
    assert row["campaign_needs"][0]["starts_on"] == START.isoformat()
    assert other_api_client.get(url).status_code == 404


def test_it_shows_the_campaign_and_the_needed_by_date_on_the_pages(client, owner, merchant, product, plan):
    apply(merchant, need(product))
    client.force_login(owner)

    order_today = client.get("/products/order-today/").content.decode()
    product_page = client.get(reverse("product-detail", args=[product.pk])).content.decode()

    assert "Campaign Spring sale</span>" in order_today
    assert f"needed by {START}" in order_today
    assert f'<tr id="needed-by"><th>Needed by</th><td class="num date">{START}</td>' in product_page
    campaigns = product_page.split('id="campaign-needs"', 1)[1].split("</table>", 1)[0]
    assert "<td>Spring sale</td>" in campaigns
    assert '<td class="num">30</td>' in campaigns


def test_it_shows_the_campaign_needs_read_only_in_the_admin(client, merchant, product, plan):
    apply(merchant, need(product))
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    html = client.get(reverse("admin:inventory_reorderline_change", args=[plan.lines.get().pk])).content.decode()

    assert "Spring sale" in html
    assert 'name="campaign_needs"' not in html
    assert 'name="needed_by"' not in html
    assert 'name="final_quantity"' in html


def test_it_estimates_the_units_short_from_the_mean_and_the_p90():
    spread = 10 / 1.2815515655446004  # P90 - mean over the normal's 90% z
    assert expected_shortfall(mean=40, p90=50, available=40) == pytest.approx(spread * 0.3989422804, rel=1e-6)
    assert expected_shortfall(mean=40, p90=50, available=200) == pytest.approx(0.0, abs=1e-9)
    assert expected_shortfall(mean=40, p90=40, available=25) == 15.0


def test_it_applies_two_campaigns_of_one_product_in_one_call_like_one_after_the_other(merchant, product, plan):
    flash = need(product, campaign_id=2, campaign_name="Flash", demand_to_end_p90=35.0, demand_to_end_mean=30.0)

    summary = apply(merchant, flash, need(product))

    line = plan.lines.get()
    assert (summary["applied"], summary["raised"], summary["already_covered"]) == (2, 1, 1)
    assert line.final_quantity == 50
    assert [entry["required_units"] for entry in line.campaign_needs] == [30, 15]
    assert (line.explanation.count("Campaign Flash"), line.explanation.count("Campaign Spring sale")) == (1, 1)
