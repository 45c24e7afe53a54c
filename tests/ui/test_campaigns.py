"""The campaign list, the planner form and the campaign page with its plan, readout, stock warnings and re-run."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Campaign
from forecasting import campaign_selectors
from forecasting.models import CampaignForecast, CampaignForecastLine
from tests.factories import (
    CampaignFactory,
    CategoryFactory,
    MembershipFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from tests.ui.helpers import metrics_in, queries_to_get

pytestmark = pytest.mark.django_db

LIST = "/campaigns/"
NEW = "/campaigns/new/"
keys = itertools.count()


def evaluation(campaign, *, kind="plan", status="succeeded", minutes_ago=0, **fields) -> CampaignForecast:
    created = timezone.now() - dt.timedelta(minutes=minutes_ago)
    forecast = CampaignForecast.objects.create(
        merchant=campaign.merchant,
        campaign=campaign,
        kind=kind,
        status=status,
        idempotency_key=f"test-{next(keys)}",
        data_cutoff=campaign.starts_on - dt.timedelta(days=1),
        finished_at=created if status in ("succeeded", "failed") else None,
        **fields,
    )
    CampaignForecast.objects.filter(pk=forecast.pk).update(created_at=created)
    forecast.refresh_from_db()
    return forecast


def campaign_from(merchant, starts_on: dt.date, **fields) -> Campaign:
    return CampaignFactory(merchant=merchant, starts_on=starts_on, ends_on=starts_on + dt.timedelta(days=2), **fields)


def plan_of(campaign, **fields) -> CampaignForecast:
    values = {
        "campaign_days": 3,
        "post_days": 1,
        "products_total": 2,
        "baseline_units": 400.0,
        "campaign_units": 520.0,
        "lift_units": 120.0,
        "lift_pct": 0.25,
        "p_positive": 0.96,
        "cost": Decimal("500"),
        "profit": 150.0,
        "roi": 0.45,
        "p_roi_positive": 0.72,
        "stock_short_count": 1,
        "estimates": {
            "lift_units": {"mean": 120.0, "lower": 60.0, "upper": 190.0},
            "lift_pct": {"mean": 0.25, "lower": 0.1, "upper": 0.41},
            "revenue": {"mean": 1234.5, "lower": 600.0, "upper": 1900.0},
            "margin": {"mean": 650.0, "lower": 300.0, "upper": 1000.0},
            "profit": {"mean": 150.0, "lower": -200.0, "upper": 500.0},
            "roi": {"mean": 0.45, "lower": -0.1, "upper": 0.9},
        },
        "daily": {
            "dates": ["2024-02-29", "2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"],
            "window": ["2024-03-01", "2024-03-03"],
            "baseline_mean": [10.0, 10.0, 10.0, 10.0, 10.0],
            "baseline_p10": [6.0, 6.0, 6.0, 6.0, 6.0],
            "baseline_p90": [14.0, 14.0, 14.0, 14.0, 14.0],
            "campaign_mean": [10.0, 14.0, 15.0, 13.0, 8.0],
            "campaign_p10": [6.0, 9.0, 10.0, 8.0, 5.0],
            "campaign_p90": [14.0, 20.0, 21.0, 19.0, 12.0],
        },
    }
    return evaluation(campaign, **{**values, **fields})


def line(forecast, product, **fields) -> CampaignForecastLine:
    values = {
        "baseline_units": 200.0,
        "campaign_units": 260.0,
        "lift_units": 60.0,
        "lift_pct": 0.3,
        "post_units": -4.0,
        "revenue": 617.25,
        "margin": 325.0,
        "demand_p90": 300.0,
        "demand_to_end_p90": 310.0,
        "on_hand": 320.0,
        "on_order": 0.0,
    }
    return CampaignForecastLine.objects.create(
        merchant=forecast.merchant, forecast=forecast, product=product, **{**values, **fields}
    )


@pytest.fixture
def spring(merchant):
    campaign = CampaignFactory(
        merchant=merchant,
        external_id="SPRING",
        name="Spring sale",
        starts_on=dt.date(2024, 3, 1),
        ends_on=dt.date(2024, 3, 3),
        discount_pct=Decimal("20"),
        channel="email",
        cost=Decimal("500"),
    )
    mug = ProductFactory(merchant=merchant, sku="MUG-1", name="Blue mug")
    tea = ProductFactory(merchant=merchant, sku="TEA-9", name="Green tea")
    campaign.products.set([mug, tea])
    plan = plan_of(campaign)
    line(plan, mug)
    line(
        plan,
        tea,
        lift_units=60.0,
        lift_pct=0.2,
        on_hand=40.0,
        on_order=10.0,
        demand_to_end_p90=95.0,
        shortfall=45.0,
        needed_by=dt.date(2024, 3, 1),
    )
    return {"campaign": campaign, "plan": plan, "mug": mug, "tea": tea}


def detail_url(campaign) -> str:
    return reverse("campaign-view", args=[campaign.pk])


def chart(response, data_id: str) -> dict:
    html = response.content.decode()
    return json.loads(re.search(rf'<script id="{data_id}" type="application/json">(.*?)</script>', html, re.S)[1])


def row_of(response, external_id: str) -> str:
    html = response.content.decode()
    return html.split(f'<tr data-campaign="{external_id}">')[1].split("</tr>")[0]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_it_lists_campaigns_with_their_latest_plan_and_readout(owner_client, merchant, spring):
    campaign = spring["campaign"]
    plan_of(campaign, lift_pct=0.05, minutes_ago=60, estimates={})
    evaluation(
        campaign,
        kind="readout",
        lift_pct=0.18,
        p_positive=0.93,
        roi=0.3,
        predicted_roi=0.45,
        estimates={"lift_pct": {"mean": 0.18, "lower": 0.05, "upper": 0.3}},
    )
    summer = campaign_from(merchant, dt.date(2024, 7, 1), external_id="SUMMER", name="Summer")
    evaluation(summer, status="running")

    response = owner_client.get(LIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('data-campaign="SUMMER"') < html.index('data-campaign="SPRING"')
    spring_row = text_of(row_of(response, "SPRING"))
    assert spring_row == (
        "Spring sale SPRING 2024-03-01 – 2024-03-03 20% off · email · 2 products +25% +10% to +41% +45% -10% to +90% "
        "72% 1 short "
        "+18% +5% to +30% 93% +30% / +45%"
    )
    summer_row = text_of(row_of(response, "SUMMER"))
    assert "Pre-campaign forecast: Running" in summer_row
    assert "Forecast running…" in summer_row
    assert "No readout yet" in summer_row
    assert 'aria-current="page">Campaigns</a>' in html


def test_it_lists_campaigns_in_the_same_number_of_queries_for_more_campaigns(
    owner_client, merchant, spring, django_assert_max_num_queries
):
    few = queries_to_get(owner_client, LIST)
    for index in range(4):
        campaign = campaign_from(merchant, dt.date(2024, 4, 1 + index), cost=Decimal("10"))
        campaign.products.set([spring["mug"]])
        campaign.categories.set([CategoryFactory(merchant=merchant)])
        plan_of(campaign)
        evaluation(campaign, kind="readout", lift_pct=0.1)
        evaluation(campaign, status="failed", error="boom")
        evaluation(campaign, status="pending")

    with django_assert_max_num_queries(few):
        response = owner_client.get(LIST)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr data-campaign=") == 5
    assert html.count("20% off · no channel · 1 product + 1 category") == 4


def test_it_loads_only_the_latest_succeeded_evaluation_of_each_kind(
    owner_client, merchant, spring, django_assert_max_num_queries
):
    few = queries_to_get(owner_client, LIST)
    campaign = spring["campaign"]
    for hours in (3, 2, 1):
        plan_of(campaign, lift_pct=0.9, minutes_ago=60 * hours, estimates={})
        evaluation(campaign, kind="readout", lift_pct=0.5, minutes_ago=60 * hours)
    readout = evaluation(campaign, kind="readout", lift_pct=0.18, minutes_ago=30)
    evaluation(campaign, kind="readout", status="failed", minutes_ago=90, error="boom")
    other = campaign_from(merchant, dt.date(2024, 5, 1), external_id="MAY")
    may_plan = plan_of(other, minutes_ago=240)

    campaigns = list(campaign_selectors.campaigns_with_evaluations(merchant=merchant))

    assert [[forecast.pk for forecast in c.latest_evaluations] for c in campaigns] == [
        [may_plan.pk],
        [spring["plan"].pk, readout.pk],
    ]
    with django_assert_max_num_queries(few):
        response = owner_client.get(LIST)
    assert text_of(row_of(response, "SPRING")).endswith("+25% +10% to +41% +45% -10% to +90% 72% 1 short +18% — — / —")


def test_it_says_a_plan_without_a_past_campaign_shows_the_baseline_only(owner_client, merchant):
    campaign = campaign_from(merchant, dt.date(2024, 3, 1), external_id="FIRST", name="First sale")
    mug = ProductFactory(merchant=merchant, sku="MUG-1")
    campaign.products.set([mug])
    plan = plan_of(
        campaign,
        campaign_units=400.0,
        lift_units=0.0,
        lift_pct=0.0,
        p_positive=None,
        profit=-620.0,
        roi=-1.24,
        p_roi_positive=0.0,
        stock_short_count=0,
        estimates={
            "lift_units": {"mean": 0.0, "lower": 0.0, "upper": 0.0},
            "lift_pct": {"mean": 0.0, "lower": 0.0, "upper": 0.0},
        },
        effects={"no_evidence": ["campaign", "discount"], "unidentified": ["campaign", "discount"]},
    )
    line(plan, mug, campaign_units=200.0, lift_units=0.0, lift_pct=0.0, revenue=None, margin=None)
    sentence = "No past campaign to learn the lift from: the forecast shows the baseline only."

    page = owner_client.get(detail_url(campaign))

    assert page.status_code == 200
    html = page.content.decode()
    assert f'<p class="verdict" id="plan-no-evidence">{sentence}</p>' in html
    assert metrics_in(html) == {}
    assert "+0%" not in html
    assert "0%</td>" not in html
    assert "chance" not in html
    assert "Expected units without the campaign 400, with it 400" in html
    listed = owner_client.get(LIST)
    assert text_of(row_of(listed, "FIRST")) == (
        f"First sale FIRST 2024-03-01 – 2024-03-03 20% off · no channel · 1 product {sentence} Enough No readout yet"
    )


def test_it_pages_the_list_newest_first(owner_client, merchant):
    for index in range(27):
        campaign_from(merchant, dt.date(2024, 1, 1 + index), external_id=f"C{index:02d}")

    first = owner_client.get(LIST).content.decode()
    second = owner_client.get(LIST, {"page": 2}).content.decode()

    assert re.findall(r'data-campaign="(C\d+)"', first)[:2] == ["C26", "C25"]
    assert re.findall(r'data-campaign="(C\d+)"', second) == ["C01", "C00"]
    assert "Page 1 of 2" in first


def test_it_shows_the_plan_with_money_chances_and_stock_warnings(owner_client, spring):
    response = owner_client.get(detail_url(spring["campaign"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert metrics_in(html) == {
        "Extra units": "+120",
        "Lift": "+25%",
        "Incremental revenue": "+1,234.50",
        "Incremental margin": "+650.00",
        "Cost": "500.00",
        "Profit": "+150.00",
        "ROI": "+45%",
    }
    assert "80% interval +10% to +41%" in html
    assert "80% interval -10% to +90%" in html
    assert "7 in 10 chance the campaign pays for itself (P(ROI &gt; 0) = 72%)." in html
    assert "More than 9 in 10 chance the campaign sells more than it would without it" in html
    stock = html.split('<table id="stock-warning-table">')[1].split("</table>")[0]
    tea = spring["tea"]
    assert re.findall(r'<tr data-sku="([^"]+)">', stock) == ["TEA-9"]
    assert (
        f'<a href="/products/{tea.pk}/">TEA-9</a></td><td>Green tea</td><td class="num">40</td>'
        '<td class="num">10</td><td class="num">95</td><td class="num">45</td><td class="date">2024-03-01</td>'
    ) in stock
    assert 'href="/products/order-today/"' in html
    products = html.split('<table id="plan-line-table">')[1].split("</table>")[0]
    assert re.findall(r'<tr data-sku="([^"]+)">', products) == ["MUG-1", "TEA-9"]
    assert '<td class="num">30%</td>' in products
    figure = chart(response, "plan-chart-data")
    assert [trace["name"] for trace in figure["data"]] == [
        "Baseline P10–P90",
        "With campaign P10–P90",
        "Baseline (mean)",
        "With campaign (mean)",
    ]
    assert figure["data"][1]["y"] == [14.0, 20.0, 21.0, 19.0, 12.0, 5.0, 8.0, 10.0, 9.0, 6.0]
    assert figure["data"][3]["y"] == [10.0, 14.0, 15.0, 13.0, 8.0]
    window = figure["layout"]["shapes"][0]
    assert (window["x0"], window["x1"]) == ("2024-03-01", "2024-03-04")
    assert 'id="rerun-forecast"' in html
    assert 'id="run-progress"' not in html


def page_with_effects(client, campaign, evaluation_row, effects: dict) -> str:
    """The campaign page once an evaluation's stored effects are ``effects``."""
    evaluation_row.effects = effects
    evaluation_row.save(update_fields=["effects"])
    return client.get(detail_url(campaign)).content.decode()


def test_it_says_how_the_past_campaigns_judged_the_plans_interval(owner_client, spring):
    plan = spring["plan"]
    html = owner_client.get(detail_url(spring["campaign"])).content.decode()
    assert 'id="plan-checked"' not in html

    html = page_with_effects(
        owner_client,
        spring["campaign"],
        plan,
        {
            "calibration": {
                "campaigns": 14,
                "level": 0.8,
                "spread": 0.071,
                "held_out_coverage": 0.714,
                "with_spread_coverage": 0.857,
            }
        },
    )
    assert (
        '<p class="muted" id="plan-checked">Checked on 14 past promotions, each forecast as if it were new: 86% of '
        "their measured lifts fall inside the 80% interval. The interval allows for promotions differing by about "
        "±7% beyond what the model explains.</p>"
    ) in html


def test_it_says_which_part_of_the_lift_no_past_campaign_showed(owner_client, spring):
    plan = spring["plan"]
    html = page_with_effects(owner_client, spring["campaign"], plan, {"unidentified": ["discount"], "no_evidence": []})

    assert (
        '<p class="verdict" id="plan-partial-evidence">No past campaign had a discount: the lift leaves that effect '
        "out, so it may be understated (the rest is learnt from your past campaigns).</p>"
    ) in html
    # with no evidence at all, the page says that instead
    html = page_with_effects(
        owner_client,
        spring["campaign"],
        plan,
        {"unidentified": ["campaign", "discount"], "no_evidence": ["campaign", "discount"]},
    )
    assert 'id="plan-partial-evidence"' not in html
    assert 'id="plan-no-evidence"' in html


def test_it_says_what_the_readout_measured_on_the_promoted_categories_other_products(owner_client, spring):
    readout = evaluation(spring["campaign"], kind="readout", lift_pct=0.2, p_positive=0.93)
    html = owner_client.get(detail_url(spring["campaign"])).content.decode()
    assert 'id="readout-siblings"' not in html

    html = page_with_effects(
        owner_client,
        spring["campaign"],
        readout,
        {
            "siblings": {
                "products": 3,
                "level": 0.9,
                "percent": {"mean": -0.31, "lower": -0.45, "upper": -0.12},
                "detected": True,
                "excluded_from_controls": True,
            }
        },
    )
    assert (
        '<p class="muted" id="readout-siblings">The other 3 products of the promoted categories sold -31% against '
        "their own forecast (90% interval -45% to -12%): the campaign took sales from them, so they were left out "
        "of the controls.</p>"
    ) in html

    readout.effects["siblings"].update(percent={"mean": -0.05, "lower": -0.2, "upper": 0.1}, detected=False)
    readout.save(update_fields=["effects"])
    html = owner_client.get(detail_url(spring["campaign"])).content.decode()
    assert "sold -5% against their own forecast (90% interval -20% to +10%): no loss to the campaign detected." in html


def test_it_shows_the_readout_against_the_prediction(owner_client, spring):
    evaluation(
        spring["campaign"],
        kind="readout",
        baseline_units=300.0,
        campaign_units=360.0,
        lift_units=60.0,
        lift_pct=0.2,
        p_positive=0.93,
        p_roi_positive=0.61,
        profit=40.0,
        roi=0.08,
        predicted_roi=0.45,
        estimates={
            "lift_units": {"mean": 60.0, "lower": 20.0, "upper": 100.0},
            "lift_pct": {"mean": 0.2, "lower": 0.05, "upper": 0.36},
            "roi": {"mean": 0.08, "lower": -0.2, "upper": 0.35},
        },
        daily={
            "dates": ["2024-03-01", "2024-03-02"],
            "window": ["2024-03-01", "2024-03-01"],
            "actual": [20.0, 9.0],
            "counterfactual_mean": [10.0, 10.0],
            "counterfactual_p10": [7.0, 7.0],
            "counterfactual_p90": [13.0, 13.0],
        },
    )

    response = owner_client.get(detail_url(spring["campaign"]))

    html = response.content.decode()
    readout = html.split('<section class="card" id="campaign-readout">')[1].split("</section>\n{%")[0]
    assert metrics_in(readout.split('id="readout-readings"')[1]) == {
        "Measured extra units": "+60",
        "Measured effect": "+20%",
        "Profit": "+40.00",
        "Realised ROI": "+8%",
        "Predicted ROI": "+45%",
    }
    assert "80% interval +5% to +36%" in readout
    assert "9 in 10 chance that the campaign really raised sales (P(effect &gt; 0) = 93%)." in readout
    assert "6 in 10 chance that the campaign paid for itself" in readout
    assert "Sold 360 units against 300 expected without the campaign." in readout
    figure = chart(response, "readout-chart-data")
    assert [trace["name"] for trace in figure["data"]] == [
        "Without campaign P10–P90",
        "Without campaign (mean)",
        "Actual",
    ]
    assert figure["data"][2]["y"] == [20.0, 9.0]


def test_it_follows_an_evaluation_in_progress(owner_client, spring):
    running = evaluation(spring["campaign"], status="running", progress=0.3, stage="forecasting with and without")

    response = owner_client.get(detail_url(spring["campaign"]))

    html = response.content.decode()
    assert f'data-progress-url="/campaigns/evaluations/{running.pk}/progress/"' in html
    assert 'aria-valuenow="30"' in html
    assert 'id="rerun-forecast" disabled' in html
    assert "/static/forecasting/js/run_progress.js" in html
    progress = owner_client.get(reverse("campaign-evaluation-progress", args=[running.pk])).json()
    assert progress == {
        "id": running.pk,
        "kind": "plan",
        "status": "running",
        "progress": 0.3,
        "stage": "forecasting with and without",
        "error": "",
    }


def test_it_shows_a_failed_evaluation_as_a_message_without_the_traceback(owner_client, spring):
    failed = evaluation(
        spring["campaign"],
        status="failed",
        error='Traceback (most recent call last):\n  File "x.py", line 1\nValueError: no sales before the start',
    )

    html = owner_client.get(detail_url(spring["campaign"])).content.decode()

    assert "failed: ValueError: no sales before the start</div>" in html
    assert "Traceback" not in html
    assert "x.py" not in html
    progress = owner_client.get(reverse("campaign-evaluation-progress", args=[failed.pk])).json()
    assert progress["error"] == "ValueError: no sales before the start"
    row = text_of(row_of(owner_client.get(LIST), "SPRING"))
    assert "Pre-campaign forecast: failed" in row


def test_it_renders_the_campaign_page_in_the_same_number_of_queries_for_more_products(owner_client, merchant, spring):
    url = detail_url(spring["campaign"])
    few = queries_to_get(owner_client, url)
    for _ in range(4):
        product = ProductFactory(merchant=merchant)
        spring["campaign"].products.add(product)
        line(spring["plan"], product, shortfall=5.0, needed_by=dt.date(2024, 3, 1))

    assert queries_to_get(owner_client, url) == few


def test_it_shows_another_merchants_owner_nothing_of_ours(client, other_merchant, spring):
    client.force_login(MembershipFactory(merchant=other_merchant).user)
    campaign = spring["campaign"]

    listing = client.get(LIST).content.decode()

    assert "Spring sale" not in listing
    assert "0 campaigns" in listing
    assert client.get(detail_url(campaign)).status_code == 404
    assert client.get(reverse("campaign-edit", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("campaign-edit", args=[campaign.pk]), {"name": "Mine"}).status_code == 404
    assert client.post(reverse("campaign-evaluate", args=[campaign.pk])).status_code == 404
    progress = reverse("campaign-evaluation-progress", args=[spring["plan"].pk])
    assert client.get(progress).status_code == 404
    campaign.refresh_from_db()
    assert campaign.name == "Spring sale"


def form_data(**overrides) -> dict:
    data = {
        "name": "Autumn sale",
        "external_id": "",
        "starts_on": "2024-09-01",
        "ends_on": "2024-09-07",
        "discount_pct": "15",
        "channel": "email",
        "cost": "250",
        "skus": "MUG-1\nTEA-9",
    }
    return {**data, **overrides}


def sold_on(product, day: dt.date) -> None:
    """A sale on `day`: the last day of the merchant's sales data, which decides what a campaign gets evaluated on."""
    order = OrderFactory(merchant=product.merchant, placed_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))
    OrderLineFactory(order=order, product=product)


@pytest.fixture
def catalogue(merchant, other_merchant):
    return {
        "mug": ProductFactory(merchant=merchant, sku="MUG-1"),
        "tea": ProductFactory(merchant=merchant, sku="TEA-9"),
        "rival": ProductFactory(merchant=other_merchant, sku="RIVAL-7"),
        "kitchen": CategoryFactory(merchant=merchant, name="Kitchen"),
        "rival_category": CategoryFactory(merchant=other_merchant, name="Rival things"),
    }


def errors_of(response) -> dict[str, str]:
    """Field name -> its error text, from the form as rendered."""
    assert response.status_code == 400
    form = response.context["form"]
    return {name: " ".join(messages) for name, messages in form.errors.items()}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ends_on": "2024-08-31"}, "ends_on", "The last day cannot be before the first day."),
        ({"discount_pct": "150"}, "discount_pct", "The discount is a percentage from 0 to 100."),
        ({"discount_pct": "-5"}, "discount_pct", "The discount is a percentage from 0 to 100."),
        ({"cost": "-1"}, "cost", "The cost cannot be negative."),
        ({"skus": "MUG-1, NOPE-1"}, "skus", "Unknown SKU: NOPE-1. Use the SKUs of your catalogue"),
        ({"skus": "MUG-1 RIVAL-7"}, "skus", "Unknown SKU: RIVAL-7. Use the SKUs of your catalogue"),
        ({"skus": ""}, "skus", "Name at least one product or choose a category"),
        ({"starts_on": "2024-13-01"}, "starts_on", "Enter a valid date."),
    ],
)
def test_it_rejects_a_bad_campaign_with_field_errors_and_saves_nothing(
    owner_client, catalogue, django_capture_on_commit_callbacks, overrides, field, message
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(NEW, form_data(**overrides))

    errors = errors_of(response)
    assert list(errors) == [field]
    assert message in errors[field]
    assert message.split(". ")[0] in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert Campaign.objects.count() == 0
    assert CampaignForecast.objects.count() == 0
    assert callbacks == []


def test_it_treats_another_merchants_category_like_an_unknown_one(owner_client, catalogue):
    response = owner_client.post(NEW, form_data(categories=[catalogue["rival_category"].pk]))

    assert "Select a valid choice" in errors_of(response)["categories"]
    assert "Rival things" not in response.content.decode()
    assert Campaign.objects.count() == 0


def test_it_refuses_an_id_another_campaign_has(owner_client, merchant, catalogue):
    CampaignFactory(merchant=merchant, external_id="TAKEN")

    response = owner_client.post(NEW, form_data(external_id="TAKEN"))

    assert errors_of(response) == {"external_id": "Another of your campaigns already has the id “TAKEN”."}
    assert Campaign.objects.count() == 1


def test_it_creates_a_campaign_and_requests_its_forecast(
    owner_client, merchant, catalogue, django_capture_on_commit_callbacks
):
    sold_on(catalogue["mug"], dt.date(2024, 8, 20))

    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(NEW, form_data(categories=[catalogue["kitchen"].pk]))

    campaign = Campaign.objects.get(merchant=merchant)
    assert response.status_code == 302
    assert response["Location"] == detail_url(campaign)
    assert campaign.name == "Autumn sale"
    assert re.fullmatch(r"planned-[0-9a-f]{8}", campaign.external_id)
    assert (campaign.starts_on, campaign.ends_on) == (dt.date(2024, 9, 1), dt.date(2024, 9, 7))
    assert (campaign.discount_pct, campaign.cost, campaign.channel) == (Decimal("15"), Decimal("250"), "email")
    assert sorted(product.sku for product in campaign.products.all()) == ["MUG-1", "TEA-9"]
    assert [category.name for category in campaign.categories.all()] == ["Kitchen"]
    plan = CampaignForecast.objects.get(campaign=campaign)
    assert (plan.kind, plan.status, plan.data_cutoff) == ("plan", "pending", dt.date(2024, 8, 20))
    assert len(callbacks) == 1

    html = owner_client.get(response["Location"]).content.decode()
    assert "Campaign “Autumn sale” created; its forecast is on its way." in html
    assert f'data-progress-url="/campaigns/evaluations/{plan.pk}/progress/"' in html
    assert "The first forecast of this campaign is on its way." in html


def test_it_edits_a_campaign_and_forecasts_it_again(owner_client, spring, django_capture_on_commit_callbacks):
    campaign = spring["campaign"]
    sold_on(spring["mug"], dt.date(2024, 2, 20))
    url = reverse("campaign-edit", args=[campaign.pk])
    form = owner_client.get(url).content.decode()
    assert 'value="Spring sale"' in form
    assert "MUG-1\nTEA-9" in form

    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(url, form_data(name="Spring sale", external_id="SPRING", skus="TEA-9"))

    assert response["Location"] == detail_url(campaign)
    campaign.refresh_from_db()
    assert campaign.external_id == "SPRING"
    assert campaign.discount_pct == Decimal("15")
    assert [product.sku for product in campaign.products.all()] == ["TEA-9"]
    assert CampaignForecast.objects.filter(campaign=campaign, status="pending").count() == 1
    assert len(callbacks) == 1


def test_it_saves_a_campaign_that_already_ended_without_forecasting_it(
    owner_client, merchant, catalogue, django_capture_on_commit_callbacks
):
    sold_on(catalogue["mug"], dt.date(2024, 9, 30))

    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(NEW, form_data(), follow=True)

    assert Campaign.objects.filter(merchant=merchant, name="Autumn sale").exists()
    assert not CampaignForecast.objects.exists()
    assert callbacks == []
    html = response.content.decode()
    assert "It ended by the last day of your sales data: measure its effect instead." in html
    assert 'id="run-readout"' in html


def test_it_reruns_the_forecast_on_request(owner_client, spring, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(reverse("campaign-evaluate", args=[spring["campaign"].pk]), {"kind": "plan"})

    pending = CampaignForecast.objects.get(campaign=spring["campaign"], status="pending")
    assert pending.kind == "plan"
    assert response["Location"] == detail_url(spring["campaign"])
    assert len(callbacks) == 1
    html = owner_client.get(response["Location"]).content.decode()
    assert f"Forecast of “Spring sale” started on history up to {pending.data_cutoff}." in html


def test_it_explains_a_readout_the_data_cannot_support_yet(owner_client, spring, django_capture_on_commit_callbacks):
    sold_on(spring["mug"], dt.date(2024, 3, 5))
    detail = owner_client.get(detail_url(spring["campaign"])).content.decode()
    assert 'id="run-readout"' not in detail

    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(
            reverse("campaign-evaluate", args=[spring["campaign"].pk]), {"kind": "readout"}, follow=True
        )

    assert "A readout needs the campaign and its 14-day post window to have ended" in response.content.decode()
    assert not CampaignForecast.objects.filter(kind="readout").exists()
    assert callbacks == []


def test_it_lets_a_viewer_read_but_not_plan(client, merchant, spring):
    client.force_login(MembershipFactory(merchant=merchant, role="viewer").user)

    assert 'id="new-campaign"' not in client.get(LIST).content.decode()
    assert 'id="rerun-forecast"' not in client.get(detail_url(spring["campaign"])).content.decode()
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data()).status_code == 403
    assert Campaign.objects.count() == 1
