"""Campaign evaluations: plans (lift, money, stock check), readouts, requests, failures and the nightly step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Campaign
from ecomforecast.pipeline import campaign_plan_after_save, request_pipeline, run_pipeline
from forecasting import campaign_io, campaign_selectors, campaign_services
from forecasting.campaign_io import CampaignEvaluationError
from forecasting.campaign_services import CampaignEvaluationConfig
from forecasting.models import CampaignForecast, CampaignForecastLine
from tests.factories import CampaignFactory, ProductFactory, PurchaseOrderLineFactory, StockLevelFactory
from tests.forecasting.campaign_shop import (
    CUTOFF,
    LIFT,
    PAST_CAMPAIGN_DAYS,
    PROMOTED,
    day,
    make_campaign_shop,
    planned_campaign,
)

pytestmark = pytest.mark.django_db

FAST = CampaignEvaluationConfig(n_paths=100)
PLAN = CampaignForecast.Kind.PLAN
READOUT = CampaignForecast.Kind.READOUT


@pytest.fixture
def shop(merchant):
    return make_campaign_shop(merchant)


def evaluate(merchant, campaign, kind, **kwargs) -> CampaignForecast:
    return campaign_services.campaign_forecast_in_process(
        merchant=merchant, campaign=campaign, kind=kind, config=FAST, **kwargs
    )


# -- plans ----------------------------------------------------------------------------------------------------


def test_it_plans_a_campaign_with_its_lift_money_and_fan_chart(merchant, shop):
    campaign = planned_campaign(merchant, shop, lead_days=8, length=7)

    forecast = evaluate(merchant, campaign, PLAN)

    assert forecast.status == CampaignForecast.Status.SUCCEEDED, forecast.error
    assert forecast.data_cutoff == CUTOFF
    assert (forecast.campaign_days, forecast.post_days, forecast.products_total) == (7, 14, PROMOTED)
    # past campaigns doubled these products' sales: the planned one is expected to lift them by about +100 %
    assert forecast.lift_pct == pytest.approx(LIFT - 1, abs=0.35)
    lift = forecast.estimates["lift_pct"]
    assert lift["lower"] < forecast.lift_pct < lift["upper"]
    assert lift["lower"] > 0.3
    assert forecast.p_positive > 0.95
    assert forecast.campaign_units == pytest.approx(forecast.baseline_units * (1 + forecast.lift_pct), rel=0.15)
    # money: units at 10 x 0.75 in the window, margin net of the unit cost 4, then the cost of 100
    assert forecast.estimates["profit"]["mean"] == pytest.approx(forecast.estimates["margin"]["mean"] - 100, abs=0.01)
    assert forecast.roi == pytest.approx(forecast.profit / 100, abs=1e-3)
    assert 0.0 <= forecast.p_roi_positive <= 1.0
    assert set(forecast.estimates["roi_quantiles"]) == {"0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95"}
    # the fan chart: the lead (7 days), the window and the post window, day by day
    daily = forecast.daily
    assert len(daily["dates"]) == 7 + 7 + 14
    assert daily["dates"][0] == (CUTOFF + dt.timedelta(days=1)).isoformat()
    assert daily["window"] == [campaign.starts_on.isoformat(), campaign.ends_on.isoformat()]
    in_window = slice(7, 14)
    assert sum(daily["campaign_mean"][in_window]) > 1.5 * sum(daily["baseline_mean"][in_window])
    assert all(low <= high for low, high in zip(daily["campaign_p10"], daily["campaign_p90"], strict=True))
    assert forecast.effects["lead_days"] == 7
    assert forecast.effects["others"] == 4
    assert forecast.effects["no_evidence"] == []

    lines = list(CampaignForecastLine.objects.filter(forecast=forecast))
    assert sorted(line.product_id for line in lines) == sorted(product.pk for product in shop.promoted)
    assert sum(line.lift_units for line in lines) == pytest.approx(forecast.lift_units, rel=0.05)
    assert all(line.lift_pct > 0.3 for line in lines)
    assert all(line.revenue is not None and line.margin is not None for line in lines)
    assert all(len(line.daily["campaign_mean"]) == 28 for line in lines)
    assert forecast.campaign_snapshot["categories"] == [shop.garden.pk]


def test_it_checks_stock_against_p90_demand_to_the_campaigns_end(merchant, shop, monkeypatch):
    applied = []

    def apply_needs(*, merchant, needs):
        applied.extend(needs)
        return {"plan_id": None, "applied": 0}

    monkeypatch.setattr("inventory.services.reorder_plan_apply_campaign_needs", apply_needs)
    short, stocked, on_order = shop.promoted[:3]
    campaign = planned_campaign(merchant, shop, lead_days=8, length=7)
    StockLevelFactory(product=short, date=CUTOFF, on_hand=5)
    StockLevelFactory(product=stocked, date=CUTOFF, on_hand=10_000)
    StockLevelFactory(product=on_order, date=CUTOFF, on_hand=5)
    # one order arrives before the start and counts, the other only after the campaign's end
    PurchaseOrderLineFactory(
        purchase_order__supplier__merchant=merchant,
        purchase_order__expected_at=campaign.starts_on - dt.timedelta(days=2),
        product=on_order,
        quantity=40,
    )
    PurchaseOrderLineFactory(
        purchase_order__supplier__merchant=merchant,
        purchase_order__expected_at=campaign.ends_on + dt.timedelta(days=3),
        product=on_order,
        quantity=900,
    )

    forecast = evaluate(merchant, campaign, PLAN)

    lines = {line.product_id: line for line in CampaignForecastLine.objects.filter(forecast=forecast)}
    line = lines[short.pk]
    assert (line.on_hand, line.on_order) == (5.0, 0.0)
    assert line.demand_to_end_p90 > line.demand_to_end_mean > 30
    assert line.shortfall == pytest.approx(line.demand_to_end_p90 - 5, abs=1e-3)
    assert line.needed_by == campaign.starts_on
    assert (lines[stocked.pk].shortfall, lines[stocked.pk].needed_by) == (0.0, None)
    assert (lines[on_order.pk].on_hand, lines[on_order.pk].on_order) == (5.0, 40.0)
    assert lines[on_order.pk].shortfall == pytest.approx(lines[on_order.pk].demand_to_end_p90 - 45, abs=1e-3)
    # the fourth product has no stock level: nothing on hand
    assert forecast.stock_short_count == 3
    # every product's demand to the end goes to the reorder plan, counted from the first forecast day
    assert sorted(need.product_id for need in applied) == sorted(lines)
    need = next(need for need in applied if need.product_id == short.pk)
    assert need.demand_to_end_p90 == pytest.approx(line.demand_to_end_p90, abs=1e-3)
    assert need.demand_to_end_mean == pytest.approx(line.demand_to_end_mean, abs=1e-3)
    assert (need.campaign_id, need.starts_on, need.ends_on) == (campaign.pk, campaign.starts_on, campaign.ends_on)
    assert need.forecast_start == CUTOFF + dt.timedelta(days=1)
    assert forecast.effects["reorder"] == {"plan_id": None, "applied": 0}


def test_it_flags_a_plan_without_a_past_campaign_to_learn_the_lift_from(merchant, shop):
    Campaign.objects.filter(pk__in=[past.pk for past in shop.past] + [shop.flat.pk]).delete()
    campaign = planned_campaign(merchant, shop)

    forecast = evaluate(merchant, campaign, PLAN)

    assert forecast.status == CampaignForecast.Status.SUCCEEDED, forecast.error
    assert forecast.effects["no_evidence"] == ["campaign", "campaign:after", "discount"]
    assert forecast.effects["unidentified"] == ["campaign", "campaign:after", "discount"]
    # no lift is invented: the with-campaign forecast is the baseline, and no chance of a lift is claimed
    assert forecast.p_positive is None
    assert forecast.campaign_units == pytest.approx(forecast.baseline_units)
    assert forecast.daily["campaign_mean"] == pytest.approx(forecast.daily["baseline_mean"])
    assert forecast.products_total == PROMOTED


def test_it_plans_a_running_campaign_over_its_remaining_days(merchant, shop):
    campaign = planned_campaign(merchant, shop, lead_days=-2, length=7)

    forecast = evaluate(merchant, campaign, PLAN)

    assert forecast.status == CampaignForecast.Status.SUCCEEDED, forecast.error
    assert (forecast.campaign_days, forecast.effects["lead_days"]) == (4, 0)
    assert forecast.daily["window"][0] == (CUTOFF + dt.timedelta(days=1)).isoformat()
    assert forecast.lift_pct > 0.3


def test_it_plans_a_finished_campaign_as_on_the_day_before_it_started(merchant, shop):
    campaign = shop.past[-2]

    forecast = evaluate(merchant, campaign, PLAN)

    assert forecast.data_cutoff == campaign.starts_on - dt.timedelta(days=1)
    assert forecast.effects["lead_days"] == 0
    assert forecast.lift_pct > 0.3


# -- requests, failures -------------------------------------------------------------------------------------


def test_it_requests_once_per_cutoff_definition_and_config_and_dispatches_after_commit(
    merchant, shop, django_capture_on_commit_callbacks
):
    campaign = planned_campaign(merchant, shop)

    with django_capture_on_commit_callbacks() as callbacks:
        first, created = campaign_services.campaign_forecast_request(merchant=merchant, campaign=campaign, kind=PLAN)
        again, created_again = campaign_services.campaign_forecast_request(
            merchant=merchant, campaign=campaign, kind=PLAN
        )

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert len(callbacks) == 1
    assert (first.status, first.data_cutoff, first.kind) == ("pending", CUTOFF, PLAN)
    # a changed discount is another campaign to evaluate; so are another cutoff and another configuration
    Campaign.objects.filter(pk=campaign.pk).update(discount_pct=Decimal("40"))
    edited, created = campaign_services.campaign_forecast_request(
        merchant=merchant, campaign=campaign, kind=PLAN, dispatch=False
    )
    assert (created, edited.pk != first.pk) == (True, True)
    earlier, created = campaign_services.campaign_forecast_request(
        merchant=merchant, campaign=campaign, kind=PLAN, data_cutoff=CUTOFF - dt.timedelta(days=1), dispatch=False
    )
    assert (created, earlier.data_cutoff) == (True, CUTOFF - dt.timedelta(days=1))
    other, created = campaign_services.campaign_forecast_request(
        merchant=merchant, campaign=campaign, kind=PLAN, config=FAST, dispatch=False
    )
    assert (created, other.pk in {first.pk, edited.pk, earlier.pk}) == (True, False)
    assert CampaignForecast.objects.filter(campaign=campaign).count() == 4


def test_it_records_a_campaign_without_products_as_failed_and_retries_it_on_request(merchant, shop):
    empty = CampaignFactory(
        merchant=merchant, starts_on=CUTOFF + dt.timedelta(days=5), ends_on=CUTOFF + dt.timedelta(days=9)
    )

    forecast = evaluate(merchant, empty, PLAN)

    assert forecast.status == CampaignForecast.Status.FAILED
    assert forecast.error == "The campaign promotes no product: add products or categories to it."
    assert not forecast.lines.exists()
    retried, restarted = campaign_services.campaign_forecast_request(
        merchant=merchant, campaign=empty, kind=PLAN, config=FAST, dispatch=False
    )
    assert (retried.pk, restarted, retried.status, retried.attempts, retried.error) == (
        forecast.pk,
        True,
        "pending",
        0,
        "",
    )


def test_it_fails_a_campaign_whose_products_never_sold(merchant, shop):
    campaign = planned_campaign(merchant, shop)
    campaign.categories.clear()
    campaign.products.add(ProductFactory(merchant=merchant), ProductFactory(merchant=merchant))

    forecast = evaluate(merchant, campaign, PLAN)

    assert forecast.status == CampaignForecast.Status.FAILED
    assert forecast.error.startswith("None of the campaign's 2 product(s) sold anything up to 2024-10-06")


def test_it_gives_up_after_three_attempts(merchant, shop):
    forecast, _ = campaign_services.campaign_forecast_request(
        merchant=merchant, campaign=planned_campaign(merchant, shop), kind=PLAN, config=FAST, dispatch=False
    )
    CampaignForecast.objects.filter(pk=forecast.pk).update(attempts=3, status=CampaignForecast.Status.RUNNING)

    forecast = campaign_services.campaign_forecast_execute(forecast_id=forecast.pk)

    assert (forecast.status, forecast.attempts, forecast.error) == ("failed", 4, "gave up after 3 attempts")
    assert not forecast.lines.exists()


def test_it_replaces_the_lines_of_an_earlier_attempt(merchant, shop):
    forecast, _ = campaign_services.campaign_forecast_request(
        merchant=merchant, campaign=planned_campaign(merchant, shop), kind=PLAN, config=FAST, dispatch=False
    )
    CampaignForecastLine.objects.create(
        merchant=merchant, forecast=forecast, product=shop.promoted[0], baseline_units=1, campaign_units=1, lift_units=0
    )

    forecast = campaign_services.campaign_forecast_execute(forecast_id=forecast.pk)

    assert forecast.status == "succeeded"
    assert forecast.lines.count() == PROMOTED
    assert forecast.lines.get(product=shop.promoted[0]).baseline_units > 1


# -- readouts -------------------------------------------------------------------------------------------------


def test_it_reads_out_a_finished_campaign_against_its_plan(merchant, shop):
    campaign = shop.past[-2]
    plan = evaluate(merchant, campaign, PLAN)

    readout = evaluate(merchant, campaign, READOUT)

    assert readout.status == CampaignForecast.Status.SUCCEEDED, readout.error
    assert readout.data_cutoff == CUTOFF
    assert (readout.campaign_days, readout.post_days, readout.products_total) == (7, 14, PROMOTED)
    assert readout.lift_pct == pytest.approx(LIFT - 1, abs=0.4)
    assert readout.estimates["lift_pct"]["lower"] > 0.3
    assert readout.p_positive > 0.95
    assert readout.predicted_roi == pytest.approx(plan.roi)
    assert readout.control_ratio == pytest.approx(1.0, abs=0.3)
    assert readout.effects["controls"] == 4
    assert readout.campaign_units == pytest.approx(sum(readout.daily["actual"][:7]), abs=1e-3)
    assert len(readout.daily["counterfactual_mean"]) == 21
    assert readout.daily["dates"][0] == campaign.starts_on.isoformat()
    lines = list(readout.lines.all())
    assert len(lines) == PROMOTED
    assert sum(line.campaign_units for line in lines) == pytest.approx(readout.campaign_units)


def test_it_reads_out_a_campaign_without_effect_with_an_interval_around_zero(merchant, shop):
    readout = evaluate(merchant, shop.flat, READOUT)

    assert readout.status == CampaignForecast.Status.SUCCEEDED, readout.error
    lift = readout.estimates["lift_pct"]
    assert lift["lower"] < 0 < lift["upper"]
    assert abs(readout.lift_pct) < 0.2
    assert readout.predicted_roi is None


def test_it_refuses_a_readout_before_the_post_window_ends(merchant, shop):
    campaign = shop.past[-1]

    with pytest.raises(CampaignEvaluationError, match="post window to have ended by the data cutoff"):
        campaign_services.campaign_forecast_request(merchant=merchant, campaign=campaign, kind=READOUT)

    assert not CampaignForecast.objects.exists()


# -- the nightly step -----------------------------------------------------------------------------------------


def test_it_picks_upcoming_and_running_campaigns_for_plans_and_just_finished_ones_for_readouts(merchant, shop):
    soon = planned_campaign(merchant, shop, lead_days=30, name="Soon")
    running = planned_campaign(merchant, shop, lead_days=-1, name="Running")
    planned_campaign(merchant, shop, lead_days=90, name="Far")
    read_out = shop.past[-3]
    CampaignForecast.objects.create(
        merchant=merchant,
        campaign=read_out,
        kind=READOUT,
        status=CampaignForecast.Status.SUCCEEDED,
        idempotency_key="done",
        data_cutoff=CUTOFF,
    )

    due = campaign_services.campaigns_due(merchant=merchant)

    # the flat campaign ended 73 days before the cutoff, past[-2] 43 days: too old for CAMPAIGN_READOUT_DAYS=30 + 14
    expected_readouts = [c for c in [*shop.past, shop.flat] if c.ends_on > CUTOFF - dt.timedelta(days=44)]
    expected_readouts = [c for c in expected_readouts if c.ends_on <= CUTOFF - dt.timedelta(days=14) and c != read_out]
    assert [(c.name, kind) for c, kind in due] == [("Running", PLAN), ("Soon", PLAN)] + [
        (c.name, READOUT) for c in expected_readouts
    ]
    forecasts = campaign_services.campaign_evaluations_request(merchant=merchant, dispatch=False)
    assert [(f.campaign_id, f.kind) for f in forecasts] == [(c.pk, kind) for c, kind in due]
    assert {f.campaign_id for f in forecasts} >= {soon.pk, running.pk}


# -- reads ----------------------------------------------------------------------------------------------------


def test_it_reads_a_campaign_panel_in_a_bounded_number_of_queries(merchant, shop, django_assert_max_num_queries):
    campaign = planned_campaign(merchant, shop)
    campaign.products.add(*shop.others[:2])
    campaign = campaign_io.campaign_with_links(merchant=merchant, campaign_id=campaign.pk)

    with django_assert_max_num_queries(20):
        panel = campaign_io.campaign_panel(
            merchant=merchant, campaign=campaign, first_day=CUTOFF + dt.timedelta(days=1), horizon=30
        )

    assert sorted(panel.product_ids) == sorted(product.pk for product in [*shop.promoted, *shop.others[:2]])
    assert sorted(panel.other_ids) == sorted(product.pk for product in shop.others[2:])
    assert len(panel.series) == len(panel.X) == len(panel.X_campaign) == 8
    assert all(len(block) == 30 for block in panel.X_campaign)
    # the baseline switches this campaign off and nothing else
    row = panel.product_ids.index(shop.promoted[0].pk)
    assert panel.X_campaign[row][:, 0].sum() == 7
    assert panel.X_baseline[row][:, 0].sum() == 0
    assert list(panel.price) == [10.0] * 6
    assert day(PAST_CAMPAIGN_DAYS[0]) == shop.past[0].starts_on


# -- the pipeline ---------------------------------------------------------------------------------------------


def test_it_evaluates_campaigns_in_the_pipeline_and_their_needs_raise_the_reorder_plan(merchant, shop):
    campaign = planned_campaign(merchant, shop)
    StockLevelFactory(product=shop.promoted[0], date=CUTOFF, on_hand=0)

    made = run_pipeline(merchant=merchant)

    plan = next(f for f in made["campaign_evaluations"] if f.campaign_id == campaign.pk)
    assert (plan.kind, plan.status, plan.data_cutoff) == (PLAN, "succeeded", CUTOFF)
    readouts = [f for f in made["campaign_evaluations"] if f.kind == READOUT]
    assert [f.campaign_id for f in readouts] == [shop.past[-2].pk]
    assert readouts[0].status == "succeeded"
    reorder_line = made["reorder_plan"].lines.get(product=shop.promoted[0])
    assert [need["campaign_id"] for need in reorder_line.campaign_needs] == [campaign.pk]
    assert reorder_line.final_quantity >= plan.lines.get(product=shop.promoted[0]).shortfall


def test_it_requests_a_plan_when_a_coming_campaign_is_saved_and_none_for_a_finished_one(
    merchant, shop, django_capture_on_commit_callbacks
):
    campaign = planned_campaign(merchant, shop)

    with django_capture_on_commit_callbacks() as callbacks:
        forecast = campaign_plan_after_save(merchant=merchant, campaign=campaign)
        finished = campaign_plan_after_save(merchant=merchant, campaign=shop.past[-1])

    assert (forecast.kind, forecast.status, forecast.campaign_id) == (PLAN, "pending", campaign.pk)
    assert finished is None
    assert len(callbacks) == 1


def test_it_hands_the_reorder_plan_the_needs_of_each_coming_campaigns_latest_plan_at_the_cutoff(
    merchant, other_merchant, django_assert_num_queries
):
    coming = CampaignFactory(merchant=merchant, name="Coming", starts_on=day(300), ends_on=day(306))
    over = CampaignFactory(merchant=merchant, starts_on=day(200), ends_on=day(206))
    rival = CampaignFactory(merchant=other_merchant, starts_on=day(300), ends_on=day(306))
    product = ProductFactory(merchant=merchant)

    def plan(campaign, *, cutoff=CUTOFF, p90=30.0, status="succeeded", key=""):
        forecast = CampaignForecast.objects.create(
            merchant=campaign.merchant,
            campaign=campaign,
            kind=PLAN,
            status=status,
            idempotency_key=key or f"{campaign.pk}-{p90}-{cutoff}-{status}",
            data_cutoff=cutoff,
            campaign_snapshot={"name": campaign.name, "starts_on": "2024-10-27", "ends_on": "2024-11-02"},
        )
        CampaignForecastLine.objects.create(
            merchant=campaign.merchant,
            forecast=forecast,
            product=product if campaign.merchant == merchant else ProductFactory(merchant=campaign.merchant),
            baseline_units=10,
            campaign_units=20,
            lift_units=10,
            demand_to_end_p90=p90,
            demand_to_end_mean=p90 - 8,
        )
        return forecast

    plan(coming, p90=30.0)
    plan(coming, p90=35.0)  # the latest one counts
    plan(coming, p90=99.0, status="failed")
    plan(coming, p90=50.0, cutoff=CUTOFF - dt.timedelta(days=1))
    plan(over, p90=40.0)
    plan(rival, p90=60.0)

    with django_assert_num_queries(2):
        needs = campaign_selectors.campaign_stock_needs(merchant=merchant, data_cutoff=CUTOFF)

    assert [(need.campaign_id, need.product_id, need.demand_to_end_p90) for need in needs] == [
        (coming.pk, product.pk, 35.0)
    ]
    assert (needs[0].campaign_name, needs[0].starts_on, needs[0].ends_on) == (
        "Coming",
        dt.date(2024, 10, 27),
        dt.date(2024, 11, 2),
    )
    assert (needs[0].demand_to_end_mean, needs[0].forecast_start) == (27.0, CUTOFF + dt.timedelta(days=1))


def test_it_requests_the_campaign_evaluations_with_the_nightly_runs(merchant, shop, django_capture_on_commit_callbacks):
    campaign = planned_campaign(merchant, shop)

    with django_capture_on_commit_callbacks() as callbacks:
        made = request_pipeline(merchant=merchant)

    requested = CampaignForecast.objects.order_by("pk")
    assert [(f.campaign_id, f.kind) for f in requested] == [(campaign.pk, PLAN), (shop.past[-2].pk, READOUT)]
    assert made["campaign_evaluations"] == [f.pk for f in requested]
    # the forecast run, the two evaluations and the customer scores, each dispatched after commit
    assert len(callbacks) == 4


def test_it_fails_a_plan_whose_campaign_was_moved_before_the_cutoff_with_a_clear_message(merchant, shop):
    campaign = planned_campaign(merchant, shop)
    forecast, _ = campaign_services.campaign_forecast_request(
        merchant=merchant, campaign=campaign, kind=PLAN, config=FAST, dispatch=False
    )
    Campaign.objects.filter(pk=campaign.pk).update(starts_on=day(240), ends_on=day(245))

    forecast = campaign_services.campaign_forecast_execute(forecast_id=forecast.pk)

    assert forecast.status == CampaignForecast.Status.FAILED
    assert forecast.error.startswith("The campaign ended by the data cutoff 2024-10-06: request its readout")
