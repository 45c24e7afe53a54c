from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pytest

from customers.models import Order, OrderLine
from forecasting import io, services
from forecasting.models import ForecastChunk, ForecastResult, ForecastRun, ForecastValue
from tests.factories import OrderFactory, OrderLineFactory, ProductFactory, StockLevelFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")
START = dt.date(2024, 1, 1)
DAYS = 120


def _sell(merchant, product, day: dt.date, quantity: int, kind: str = OrderLine.Kind.SALE) -> None:
    placed_at = dt.datetime.combine(day, dt.time(12), tzinfo=LONDON)
    order = OrderFactory(
        merchant=merchant,
        placed_at=placed_at,
        customer=None,
        kind=Order.Kind.RETURN if kind == OrderLine.Kind.RETURN else Order.Kind.SALE,
    )
    OrderLineFactory(order=order, product=product, quantity=quantity, kind=kind, line_number=1)


@pytest.fixture
def shop(merchant):
    """Two SKUs: one sells 3 a day with a weekly peak, one sells 5 every fourth day."""
    steady = ProductFactory(merchant=merchant, sku="STEADY")
    sporadic = ProductFactory(merchant=merchant, sku="SPORADIC")
    for offset in range(DAYS):
        day = START + dt.timedelta(days=offset)
        _sell(merchant, steady, day, 6 if day.weekday() == 5 else 3)
        if offset % 4 == 0:
            _sell(merchant, sporadic, day, 5)
    return steady, sporadic


def test_it_reads_daily_net_demand_with_returns_and_stockouts(merchant):
    product = ProductFactory(merchant=merchant)
    _sell(merchant, product, START, 10)
    _sell(merchant, product, START, 4, kind=OrderLine.Kind.RETURN)
    _sell(merchant, product, START + dt.timedelta(days=1), 2, kind=OrderLine.Kind.RETURN)
    _sell(merchant, product, START + dt.timedelta(days=3), 7)
    StockLevelFactory(product=product, date=START + dt.timedelta(days=2), on_hand=0)

    (series,) = io.demand_series(merchant=merchant, product_ids=[product.pk], cutoff=START + dt.timedelta(days=4))

    assert series.start == START
    # day 0: 10 sold - 4 returned; day 1: a return alone nets to 0, not -2; day 2: out of stock -> censored.
    np.testing.assert_array_equal(series.values, [6, 0, np.nan, 7, 0])
    assert series.censored_days == 1


def test_it_forecasts_every_sku_and_writes_one_row_per_day(merchant, shop):
    config = services.ForecastConfig(horizon=14, n_paths=200)
    run = services.forecast_run_execute_in_process(merchant=merchant, config=config)

    assert run.status == ForecastRun.Status.SUCCEEDED
    assert run.data_cutoff == START + dt.timedelta(days=DAYS - 1)
    assert (run.series_total, run.series_done, run.progress) == (2, 2, 1.0)
    results = {
        result.product.sku: result for result in ForecastResult.objects.filter(run=run).select_related("product")
    }
    assert set(results) == {"STEADY", "SPORADIC"}
    assert ForecastValue.objects.filter(result__run=run).count() == 2 * 14
    steady_values = list(results["STEADY"].values.order_by("date"))
    assert steady_values[0].date == run.data_cutoff + dt.timedelta(days=1)
    # The steady SKU sells 27 a week: the forecast's total over 14 days is near 54.
    assert sum(value.mean for value in steady_values) == pytest.approx(54, rel=0.15)
    for value in steady_values:
        assert 0 <= value.p10 <= value.p50 <= value.p90
    last = steady_values[-1].cumulative
    assert float(last["0.1"]) <= float(last["0.5"]) <= float(last["0.95"])
    # Cumulative P90 over 14 days is narrower than summing 14 daily P90s.
    assert float(last["0.9"]) < sum(value.p90 for value in steady_values)


def test_it_returns_the_same_run_for_the_same_request(merchant, shop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first, created_first = services.forecast_run_request(merchant=merchant)
        second, created_second = services.forecast_run_request(merchant=merchant)
    assert first.pk == second.pk
    assert (created_first, created_second) == (True, False)
    assert len(callbacks) == 1
    assert ForecastRun.objects.filter(merchant=merchant).count() == 1


def test_it_overwrites_rows_when_a_chunk_is_retried(merchant, shop):
    config = services.ForecastConfig(horizon=7)
    run, _ = services.forecast_run_request(merchant=merchant, config=config, dispatch=False)
    (chunk,) = services.forecast_run_plan(run_id=run.pk)
    services.forecast_chunk_execute(chunk_id=chunk.pk)
    ForecastChunk.objects.filter(pk=chunk.pk).update(status=ForecastChunk.Status.RUNNING)

    services.forecast_chunk_execute(chunk_id=chunk.pk)

    assert ForecastResult.objects.filter(run=run).count() == 2
    assert ForecastValue.objects.filter(result__run=run).count() == 2 * 7
    chunk.refresh_from_db()
    assert chunk.attempts == 2


def test_it_gives_up_a_chunk_after_the_attempts_cap_and_closes_the_run(merchant, shop):
    run, _ = services.forecast_run_request(merchant=merchant, dispatch=False)
    (chunk,) = services.forecast_run_plan(run_id=run.pk)
    ForecastChunk.objects.filter(pk=chunk.pk).update(attempts=services.MAX_CHUNK_ATTEMPTS)

    services.forecast_chunk_execute(chunk_id=chunk.pk)
    run = services.forecast_run_close(run_id=run.pk)

    assert run.status == ForecastRun.Status.FAILED
    assert "gave up after 3 attempts" in run.error
    assert ForecastResult.objects.filter(run=run).count() == 0


def test_it_falls_back_on_the_series_the_engine_breaks_on(merchant, shop, monkeypatch):
    real_forecast = services.AutoForecaster.forecast

    def break_on_sporadic(self, series, horizon, *, quantiles, end=None):
        if any(np.nanmax(values) == 5 for values in series):
            raise FloatingPointError("poisoned series")
        return real_forecast(self, series, horizon, quantiles=quantiles, end=end)

    monkeypatch.setattr(services.AutoForecaster, "forecast", break_on_sporadic)
    run = services.forecast_run_execute_in_process(merchant=merchant, config=services.ForecastConfig(horizon=7))

    assert run.status == ForecastRun.Status.SUCCEEDED
    assert run.fallback_count == 1
    sporadic = ForecastResult.objects.get(run=run, product__sku="SPORADIC")
    assert sporadic.fallback is True
    assert sporadic.model == "seasonal_naive"
    assert "poisoned series" in sporadic.fallback_reason
    steady = ForecastResult.objects.get(run=run, product__sku="STEADY")
    assert steady.fallback is False


def test_it_stores_model_info_as_strict_json():
    info = {"alpha": np.float64(0.3), "aicc": float("nan"), "orders": np.array([1, 0, 1]), "bounds": (float("inf"), 2)}
    assert services._jsonable(info) == {"alpha": 0.3, "aicc": None, "orders": [1, 0, 1], "bounds": [None, 2]}


def test_it_counts_no_demand_for_a_cancelled_order(merchant):
    product = ProductFactory(merchant=merchant)
    _sell(merchant, product, START, 3)
    _sell(merchant, product, START + dt.timedelta(days=1), 50)
    Order.objects.filter(lines__quantity=50).update(status=Order.Status.CANCELLED)

    (series,) = io.demand_series(merchant=merchant, product_ids=[product.pk], cutoff=START + dt.timedelta(days=1))

    np.testing.assert_array_equal(series.values, [3, 0])
