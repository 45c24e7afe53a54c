"""Cannibalisation in campaign plans: the unpromoted products of a promoted category that lose sales to it."""

from __future__ import annotations

import math

import pytest
from django.urls import reverse

from customers.models import Campaign
from forecasting import campaign_services
from forecasting.campaign_services import CampaignEvaluationConfig
from forecasting.models import CampaignForecast
from tests.forecasting.campaign_shop import (
    KITCHEN,
    SIBLING_CAMPAIGN_DAYS,
    SIBLING_FACTOR,
    make_cannibalised_shop,
    planned_product_campaign,
)

pytestmark = pytest.mark.django_db

FAST = CampaignEvaluationConfig(n_paths=100)


@pytest.fixture
def shop(merchant):
    return make_cannibalised_shop(merchant)


def plan(merchant, campaign) -> CampaignForecast:
    forecast = campaign_services.campaign_forecast_in_process(
        merchant=merchant, campaign=campaign, kind=CampaignForecast.Kind.PLAN, config=FAST
    )
    assert forecast.status == CampaignForecast.Status.SUCCEEDED, forecast.error
    return forecast


def test_it_reports_the_sales_a_product_campaign_takes_from_its_category_and_nets_them_off_the_profit(merchant, shop):
    campaign = planned_product_campaign(merchant, shop.products[:1], length=7)

    forecast = plan(merchant, campaign)

    found = forecast.effects["cannibalisation"]
    assert found["status"] == "detected"
    assert found["detected"] is True
    assert found["lower"] < found["effect"] < found["upper"] < 0
    # the siblings sold x SIBLING_FACTOR while another Kitchen product was promoted
    assert found["lower"] <= math.log(SIBLING_FACTOR) <= found["upper"]
    assert found["siblings"] == KITCHEN - 1
    assert sorted(item["product_id"] for item in found["products"]) == sorted(p.pk for p in shop.products[1:])
    assert {item["sku"] for item in found["products"]} == {p.sku for p in shop.products[1:]}
    assert found["units_lost"]["mean"] > 0
    assert found["revenue_lost"]["mean"] == pytest.approx(10 * found["units_lost"]["mean"], rel=1e-3)
    assert found["margin_lost"]["mean"] == pytest.approx(6 * found["units_lost"]["mean"], rel=1e-3)
    # the profit is net of the siblings' lost margin, path by path
    assert forecast.profit < found["gross_profit"]["mean"]
    assert forecast.profit == pytest.approx(found["gross_profit"]["mean"] - found["margin_lost"]["mean"], abs=0.05)
    assert forecast.roi == pytest.approx(forecast.profit / 100, abs=1e-3)


def test_it_has_nothing_to_report_when_the_campaign_promotes_the_whole_category(merchant, shop):
    campaign = planned_product_campaign(merchant, shop.products, length=7)

    forecast = plan(merchant, campaign)

    found = forecast.effects["cannibalisation"]
    assert (found["status"], found["detected"], found["siblings"], found["products"]) == ("no_siblings", False, 0, [])
    assert found["units_lost"] is None
    assert forecast.profit == pytest.approx(found["gross_profit"]["mean"], abs=1e-3)


def test_it_shows_the_cannibalisation_on_the_campaign_page_and_in_the_api(merchant, shop, owner, client, api_client):
    campaign = planned_product_campaign(merchant, shop.products[:1], length=7)
    forecast = plan(merchant, campaign)
    found = forecast.effects["cannibalisation"]
    client.force_login(owner)

    html = client.get(reverse("campaign-view", args=[campaign.pk])).content.decode()

    block = html[
        html.index('id="plan-cannibalisation"') : html.index("</section>", html.index('id="cannibalisation-table"'))
    ]
    assert "Detected: in the history, products sold -3" in block
    assert f"{found['units_lost']['mean']:,.0f}" in block
    for product in shop.products[1:]:
        assert f'<tr data-sku="{product.sku}">' in block
    assert shop.products[0].sku not in block.split("<tbody>")[1]

    body = api_client.get(f"/api/v1/campaigns/{campaign.pk}/forecast/").json()
    assert body["latest"]["effects"]["cannibalisation"]["detected"] is True
    assert body["latest"]["effects"]["cannibalisation"]["units_lost"] == found["units_lost"]


def test_it_reports_not_detected_and_leaves_the_profit_alone_where_siblings_sold_as_usual(merchant, owner, client):
    shop = make_cannibalised_shop(merchant, sibling_factor=1.0)
    campaign = planned_product_campaign(merchant, shop.products[:1], length=7)

    forecast = plan(merchant, campaign)

    found = forecast.effects["cannibalisation"]
    assert (found["status"], found["detected"], found["siblings"]) == ("not_detected", False, KITCHEN - 1)
    assert found["lower"] <= 0.0 <= found["upper"]
    assert forecast.profit == pytest.approx(found["gross_profit"]["mean"], abs=1e-3)
    client.force_login(owner)
    html = client.get(reverse("campaign-view", args=[campaign.pk])).content.decode()
    assert "Not detected: in the history, products sold" in html
    assert 'id="cannibalisation-table"' not in html


def readout(merchant, number: int = len(SIBLING_CAMPAIGN_DAYS) - 1) -> CampaignForecast:
    campaign = Campaign.objects.get(merchant=merchant, external_id=f"KIT-PAST-{number}")
    forecast = campaign_services.campaign_forecast_in_process(
        merchant=merchant, campaign=campaign, kind=CampaignForecast.Kind.READOUT, config=FAST
    )
    assert forecast.status == CampaignForecast.Status.SUCCEEDED, forecast.error
    return forecast


def test_a_readout_measures_what_the_siblings_lost_and_keeps_them_out_of_the_controls(merchant):
    # halved: three siblings over one week sell about 140 units, whose noise would hide a smaller loss in one readout
    make_cannibalised_shop(merchant, sibling_factor=0.5)

    forecast = readout(merchant)

    found = forecast.effects["siblings"]
    # the three other Kitchen products sold x 0.5 that week; the two uncategorised ones are the controls
    assert found["products"] == KITCHEN - 1
    assert found["level"] == 0.9
    assert found["percent"]["lower"] < found["percent"]["mean"] < found["percent"]["upper"] < 0
    assert found["percent"]["lower"] <= 0.5 - 1.0 <= found["percent"]["upper"]
    # the counterfactual deflates the past weeks a sibling was promoted: it expects the full rate, not a mix
    assert found["units"]["mean"] < 0
    assert found["actual_units"] < 0.7 * found["expected_units"]
    assert found["p_loss"] > 0.95
    assert (found["detected"], found["excluded_from_controls"]) == (True, True)
    assert forecast.effects["controls"] == 2
    # the promoted product's own readout is still made, against those two controls only
    assert forecast.estimates["lift_units"]["lower"] > 0


def test_siblings_that_lost_nothing_stay_among_the_controls(merchant):
    make_cannibalised_shop(merchant, sibling_factor=1.0)

    forecast = readout(merchant)

    found = forecast.effects["siblings"]
    assert found["percent"]["lower"] < 0 < found["percent"]["upper"]
    assert (found["detected"], found["excluded_from_controls"]) == (False, False)
    assert forecast.effects["controls"] == KITCHEN - 1 + 2
