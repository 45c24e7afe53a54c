"""evaluate_campaigns: per-campaign lift, ROI, stock warnings and readouts, and the planted lift of the demo shop."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from ecomforecast.demo.shop import generate_demo_shop
from forecasting.models import CampaignForecast
from tests.factories import StockLevelFactory
from tests.forecasting.campaign_shop import CUTOFF, make_campaign_shop, planned_campaign

pytestmark = pytest.mark.django_db


def run(**options) -> str:
    out = io.StringIO()
    call_command("evaluate_campaigns", stdout=out, **options)
    return out.getvalue()


def test_it_prints_the_lift_roi_and_stock_warnings_of_a_plan_and_the_effect_of_a_readout(merchant):
    shop = make_campaign_shop(merchant)
    campaign = planned_campaign(merchant, shop, external_id="SUMMER")
    StockLevelFactory(product=shop.promoted[0], date=CUTOFF, on_hand=3)

    output = run(merchant="acme", campaign="SUMMER")

    plan = CampaignForecast.objects.get(campaign=campaign, kind="plan")
    lift = plan.estimates["lift_pct"]
    roi = plan.estimates["roi"]
    assert (
        f"SUMMER Summer sale ({campaign.starts_on}..{campaign.ends_on}, 25% off) plan at {CUTOFF}: "
        f"lift {lift['mean']:+.0%} [{lift['lower']:+.0%}, {lift['upper']:+.0%}]"
    ) in output
    assert f"ROI {roi['mean']:+.2f} [{roi['lower']:+.2f}, {roi['upper']:+.2f}]" in output
    assert f"P(ROI > 0) {plan.p_roi_positive:.2f}" in output
    short = plan.lines.get(product=shop.promoted[0])
    assert (
        f"  stock warning: {shop.promoted[0].sku} short {short.shortfall:.0f} units of P90 demand "
        f"{short.demand_to_end_p90:.0f} (on hand 3, on order 0), needed by {campaign.starts_on}"
    ) in output

    output = run(merchant="acme", campaign=shop.past[-2].external_id)

    readout = CampaignForecast.objects.get(campaign=shop.past[-2], kind="readout")
    assert f"readout at {CUTOFF}: effect {readout.estimates['lift_pct']['mean']:+.0%}" in output
    assert f"P(effect > 0) {readout.p_positive:.2f}" in output
    assert "planted lift" not in output


def test_it_says_why_a_campaign_is_skipped_or_failed(merchant):
    shop = make_campaign_shop(merchant)

    output = run(merchant="acme", campaign=shop.past[-1].external_id, kind="readout")

    assert "skipped: A readout needs the campaign and its 14-day post window to have ended" in output
    with pytest.raises(CommandError, match="no campaign 'NOPE'"):
        run(merchant="acme", campaign="NOPE")
    with pytest.raises(CommandError, match="no merchant 'nobody'"):
        run(merchant="nobody")


def test_it_checks_the_planted_lift_of_the_demo_shop(merchant):
    start = dt.date(2024, 1, 1)
    call_command("generate_demo_shop", merchant="acme", seed=1, skus=6, days=150, start=start, stdout=io.StringIO())
    planted = generate_demo_shop(1, 6, 150, start=start).truth.campaigns.iloc[-2]

    output = run(merchant="acme", campaign=planted.campaign_id, kind="plan", demo_seed=1, demo_skus=6, demo_days=150)

    plan = CampaignForecast.objects.get(campaign__external_id=planted.campaign_id, kind="plan")
    lift = plan.estimates["lift_pct"]
    inside = lift["lower"] <= planted.lift - 1 <= lift["upper"]
    assert f"planted lifts known for {len(generate_demo_shop(1, 6, 150, start=start).campaigns)} of" in output
    assert (
        f"  planted lift {planted.lift - 1:+.0%}: {'inside' if inside else 'outside'} "
        f"[{lift['lower']:+.0%}, {lift['upper']:+.0%}]"
    ) in output
    assert f"planted lift inside the 80% interval: {int(inside)} of 1 campaigns" in output
