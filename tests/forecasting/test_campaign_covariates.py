"""Campaigns as known-future covariates of the nightly sales forecast: the io columns, and what they do to a run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from customers.models import Campaign
from forecasting import io, services
from forecasting.engine.auto import AutoForecaster
from forecasting.models import ForecastResult, ForecastValue
from inventory.models import Product
from tests.factories import CampaignFactory, CategoryFactory, ProductFactory
from tests.forecasting.shop import write_daily_orders

START = dt.date(2024, 1, 1)
DAYS = 280
CUTOFF = START + dt.timedelta(days=DAYS - 1)
HORIZON = 21
WEEKLY = (1.0, 1.0, 1.0, 1.1, 1.2, 1.5, 0.8)
LIFT = 2.0
# past campaigns run for a week every five weeks; the last one ends nine days before the cutoff
PAST_CAMPAIGN_DAYS = tuple(range(20, DAYS - 14, 35))
PLANNED_FIRST, PLANNED_LAST = CUTOFF + dt.timedelta(days=8), CUTOFF + dt.timedelta(days=14)


def _day(offset: int) -> dt.date:
    return START + dt.timedelta(days=offset)


# -- io: the columns ------------------------------------------------------------------------------------------


def test_it_flags_a_product_in_a_campaign_and_its_discount_on_the_campaign_days(merchant):
    outdoor = CategoryFactory(merchant=merchant, name="Outdoor")
    garden = CategoryFactory(merchant=merchant, name="Garden", parent=outdoor)
    direct = ProductFactory(merchant=merchant)
    in_subcategory = ProductFactory(merchant=merchant, category=garden)
    untouched = ProductFactory(merchant=merchant)
    spring = CampaignFactory(
        merchant=merchant, starts_on=_day(5), ends_on=_day(8), discount_pct=Decimal("20"), name="Spring"
    )
    spring.products.add(direct)
    planned = CampaignFactory(
        merchant=merchant, starts_on=_day(9), ends_on=_day(12), discount_pct=Decimal("35"), name="Planned"
    )
    planned.categories.add(outdoor)
    cutoff = _day(10)

    covariates = io.campaign_covariates(
        merchant=merchant,
        starts={direct.pk: START, in_subcategory.pk: _day(2), untouched.pk: START},
        cutoff=cutoff,
        horizon=4,
    )

    assert covariates.names == ("campaign", "discount")
    assert covariates.kinds == ("flag", "numeric")
    flag, discount = covariates.history[direct.pk].T
    np.testing.assert_array_equal(flag, [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0])
    np.testing.assert_allclose(discount, [0, 0, 0, 0, 0, 0.2, 0.2, 0.2, 0.2, 0, 0])
    np.testing.assert_array_equal(covariates.future[direct.pk], np.zeros((4, 2)))
    # the subcategory's product: history from its own first day (day 2), the planned campaign on days 9-12
    flag, discount = covariates.history[in_subcategory.pk].T
    np.testing.assert_array_equal(flag, [0, 0, 0, 0, 0, 0, 0, 1, 1])
    np.testing.assert_allclose(discount, [0, 0, 0, 0, 0, 0, 0, 0.35, 0.35])
    np.testing.assert_array_equal(covariates.future[in_subcategory.pk][:, 0], [1, 1, 0, 0])
    np.testing.assert_allclose(covariates.future[in_subcategory.pk][:, 1], [0.35, 0.35, 0, 0])
    np.testing.assert_array_equal(covariates.history[untouched.pk], np.zeros((11, 2)))
    np.testing.assert_array_equal(covariates.future[untouched.pk], np.zeros((4, 2)))
    # only campaigns that reach into the horizon explain a forecast
    assert [item["name"] for item in covariates.planned[in_subcategory.pk]] == ["Planned"]
    assert covariates.planned[in_subcategory.pk][0]["id"] == planned.pk
    assert direct.pk not in covariates.planned
    assert untouched.pk not in covariates.planned


def test_it_takes_the_largest_discount_where_campaigns_overlap(merchant):
    product = ProductFactory(merchant=merchant)
    for start, end, pct in ((2, 5, "10"), (4, 7, "30")):
        CampaignFactory(merchant=merchant, starts_on=_day(start), ends_on=_day(end), discount_pct=Decimal(pct))
    for campaign in Campaign.objects.filter(merchant=merchant):
        campaign.products.add(product)

    covariates = io.campaign_covariates(merchant=merchant, starts={product.pk: START}, cutoff=_day(9), horizon=1)

    np.testing.assert_array_equal(covariates.history[product.pk][:, 0], [0, 0, 1, 1, 1, 1, 1, 1, 0, 0])
    np.testing.assert_allclose(covariates.history[product.pk][:, 1], [0, 0, 0.1, 0.1, 0.3, 0.3, 0.3, 0.3, 0, 0])


def test_it_returns_none_without_campaigns_on_the_products(merchant, other_merchant):
    product = ProductFactory(merchant=merchant)
    elsewhere = ProductFactory(merchant=merchant)
    CampaignFactory(merchant=merchant, starts_on=_day(3), ends_on=_day(4)).products.add(elsewhere)
    rival = CampaignFactory(merchant=other_merchant, starts_on=_day(3), ends_on=_day(4))
    rival.categories.add(CategoryFactory(merchant=other_merchant))
    old = CampaignFactory(merchant=merchant, starts_on=_day(0), ends_on=_day(1))
    old.products.add(product)

    assert io.campaign_covariates(merchant=merchant, starts={product.pk: _day(2)}, cutoff=_day(9), horizon=7) is None
    assert io.campaign_covariates(merchant=other_merchant, starts={}, cutoff=_day(9), horizon=7) is None


@pytest.mark.parametrize("size", [2, 12])
def test_it_reads_in_a_bounded_number_of_queries(merchant, django_assert_num_queries, size):
    parent = CategoryFactory(merchant=merchant, name="Parent")
    category = CategoryFactory(merchant=merchant, name="Child", parent=parent)
    products = [ProductFactory(merchant=merchant, category=category if i % 2 else None) for i in range(size)]
    for index in range(size):
        campaign = CampaignFactory(merchant=merchant, starts_on=_day(index), ends_on=_day(index + 3))
        campaign.products.add(products[index])
        campaign.categories.add(parent if index % 2 else category)

    # campaigns, their products, their categories, the products' categories, the category tree
    with django_assert_num_queries(5):
        covariates = io.campaign_covariates(
            merchant=merchant, starts={product.pk: START for product in products}, cutoff=_day(20), horizon=7
        )

    assert len(covariates.history) == size


class _ChunkBreaks(AutoForecaster):
    """auto that fails on any panel of more than one series, to send _forecast_guarded down its retry path."""

    def forecast(self, series, horizon, **kwargs):
        if len(series) > 1:
            raise ValueError("the chunk breaks")
        return super().forecast(series, horizon, **kwargs)


def test_it_keeps_each_series_covariates_when_it_retries_series_by_series():
    rng = np.random.default_rng(0)
    length, horizon = 210, 14
    flag = np.zeros(length + horizon)
    for first in range(10, length, 30):
        flag[first : first + 5] = 1.0
    flag[length + 3 : length + 8] = 1.0
    covariates = np.stack([flag, 0.25 * flag], axis=1)
    series = [rng.poisson(4.0 * (1.0 + flag[:length])).astype(float), rng.poisson(3.0, length).astype(float)]
    X = [covariates[:length], np.zeros((length, 2))]
    X_future = [covariates[length:], np.zeros((horizon, 2))]
    forecaster = _ChunkBreaks(n_paths=50, covariate_names=("campaign", "discount"), covariate_kinds=("flag", "numeric"))

    promoted, plain = services._forecast_guarded(forecaster, series, horizon, X=X, X_future=X_future)

    assert not promoted.fallbacks
    assert not plain.fallbacks
    assert promoted.forecast.mean[3:8].mean() > 1.5 * promoted.forecast.mean[8:].mean()
    assert promoted.covariates


# -- a run: planned campaigns lift the forecast, past ones stop inflating the baseline ---------------------


def _write_shop(merchant, *, rng: np.random.Generator) -> tuple[list[Product], np.ndarray]:
    """Twelve SKUs with Poisson sales around their own rate and a weekly profile; the first six (category Garden)
    sell LIFT times as much during the past campaigns (alternately on the SKUs and on the category). Returns the
    products and their true base daily rate (mean over a week)."""
    garden = CategoryFactory(merchant=merchant, name="Garden")
    products = Product.objects.bulk_create(
        Product(merchant=merchant, sku=f"CMP{index:02d}", category=garden if index < 6 else None, price=Decimal("5"))
        for index in range(12)
    )
    rates = rng.uniform(3.0, 8.0, size=len(products))
    promoted = np.zeros(DAYS, dtype=bool)
    for number, first in enumerate(PAST_CAMPAIGN_DAYS):
        promoted[first : first + 7] = True
        campaign = CampaignFactory(
            merchant=merchant,
            name=f"Past {number}",
            starts_on=_day(first),
            ends_on=_day(first + 6),
            discount_pct=Decimal("25"),
        )
        if number % 2:
            campaign.categories.add(garden)
        else:
            campaign.products.add(*products[:6])
    sales = [
        (product, offset, _day(offset), int(rng.poisson(rate * WEEKLY[_day(offset).weekday()] * lift)))
        for index, (product, rate) in enumerate(zip(products, rates, strict=True))
        for offset in range(DAYS)
        for lift in [LIFT if index < 6 and promoted[offset] else 1.0]
    ]
    write_daily_orders(merchant=merchant, sales=sales, unit_price=Decimal("5"), hour=11)
    return products, rates * np.mean(WEEKLY)


def _run_means(merchant, variant: str) -> tuple[dict[int, np.ndarray], dict[int, dict]]:
    """Daily forecast means and explanations per product of an in-process run."""
    config = services.ForecastConfig(horizon=HORIZON, n_paths=100, extra={"variant": variant})
    run = services.forecast_run_execute_in_process(merchant=merchant, config=config)
    assert run.data_cutoff == CUTOFF
    means: dict[int, list[float]] = {}
    for product_id, mean in (
        ForecastValue.objects.filter(result__run=run).order_by("date").values_list("result__product_id", "mean")
    ):
        means.setdefault(product_id, []).append(mean)
    explanations = dict(ForecastResult.objects.filter(run=run).values_list("product_id", "explanation"))
    return {product_id: np.array(values) for product_id, values in means.items()}, explanations


def test_it_lifts_the_forecast_of_a_planned_campaign_and_deflates_past_ones(merchant):
    products, base_rates = _write_shop(merchant, rng=np.random.default_rng(3))
    garden = products[0].category
    planned = CampaignFactory(
        merchant=merchant, name="Summer sale", starts_on=PLANNED_FIRST, ends_on=PLANNED_LAST, discount_pct=25
    )
    planned.categories.add(garden)
    planned_days = slice((PLANNED_FIRST - CUTOFF).days - 1, (PLANNED_LAST - CUTOFF).days)
    promoted = [product.pk for product in products[:6]]
    others = [product.pk for product in products[6:]]

    with_plan, explanations = _run_means(merchant, "planned")
    planned.delete()
    without_plan, _ = _run_means(merchant, "unplanned")
    Campaign.objects.filter(merchant=merchant).delete()
    plain, plain_explanations = _run_means(merchant, "no campaigns")

    # the planned week is forecast well above the same run without it (true lift x2); other SKUs do not move
    ratios = [with_plan[pk][planned_days].mean() / without_plan[pk][planned_days].mean() for pk in promoted]
    assert min(ratios) > 1.5
    assert np.mean(ratios) == pytest.approx(LIFT, rel=0.25)
    for pk in others:
        np.testing.assert_allclose(with_plan[pk], without_plan[pk], rtol=1e-9)
    assert [item["name"] for item in explanations[promoted[0]]["campaigns"]] == ["Summer sale"]
    assert "campaigns" not in explanations[others[0]]
    assert explanations[promoted[0]]["model_info"]["covariates"]
    assert "campaigns" not in plain_explanations[promoted[0]]

    # past campaigns inflated the campaign-blind baseline; with them as covariates it is near the true rate
    truth = base_rates[:6]
    blind = np.array([plain[pk].mean() for pk in promoted])
    aware = np.array([without_plan[pk].mean() for pk in promoted])
    assert np.abs(aware / truth - 1).mean() < np.abs(blind / truth - 1).mean()
    assert np.abs(aware / truth - 1).mean() < 0.15


def test_it_forecasts_a_merchant_without_campaigns_exactly_as_without_covariates(merchant):
    products, _ = _write_shop(merchant, rng=np.random.default_rng(5))
    Campaign.objects.filter(merchant=merchant).delete()

    means, _ = _run_means(merchant, "plain")

    history = io.demand_series(merchant=merchant, product_ids=[product.pk for product in products], cutoff=CUTOFF)
    outcomes = AutoForecaster(n_paths=100, seed=0).forecast(
        [item.values for item in history],
        HORIZON,
        quantiles=services.DAILY_QUANTILES,
        end=np.datetime64(CUTOFF, "D"),
    )
    for item, outcome in zip(history, outcomes, strict=True):
        np.testing.assert_allclose(means[item.product_id], outcome.forecast.mean, rtol=1e-12)
