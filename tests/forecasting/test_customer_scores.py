"""Customer-score runs: what is read, one row per customer known at the cutoff, history across runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from customers.models import ActivityEvent
from forecasting import customer_io, customer_selectors, customer_services
from forecasting.customer_services import CustomerScoreConfig
from forecasting.models import CustomerForecastRun, CustomerScore
from tests.factories import ActivityEventFactory, CustomerFactory
from tests.forecasting.customer_shop import every, make_customers

pytestmark = pytest.mark.django_db

CUTOFF = dt.date(2024, 6, 30)


@pytest.fixture
def shop(merchant):
    """A weekly buyer up to the day before the cutoff, a buyer silent for a year, and a few ordinary customers."""
    rng = np.random.default_rng(3)
    histories = {
        "weekly": every(7, start=dt.date(2023, 7, 8), end=CUTOFF - dt.timedelta(days=1)),
        "silent": [dt.date(2023, 3, 1), dt.date(2023, 4, 2), dt.date(2023, 5, 20), dt.date(2023, 6, 25)],
        "once": [dt.date(2024, 5, 1)],
    }
    for index in range(20):
        gap = int(rng.integers(10, 90))
        start = dt.date(2023, 1, 1) + dt.timedelta(days=int(rng.integers(0, 300)))
        histories[f"c{index:02d}"] = every(gap, start=start, end=start + dt.timedelta(days=int(rng.integers(0, 400))))
    histories = {key: [day for day in days if day <= CUTOFF] for key, days in histories.items()}
    return make_customers(
        merchant=merchant,
        histories={**histories, "newcomer": [CUTOFF + dt.timedelta(days=3)]},
        returns={"once": [dt.date(2024, 5, 9)]},
    )


def test_it_reads_orders_net_of_cancellations_with_returns_in_local_time(merchant):
    customers = make_customers(
        merchant=merchant,
        histories={"anna": [dt.date(2024, 6, 1), dt.date(2024, 6, 20)], "ghost": []},
        returns={"anna": [dt.date(2024, 6, 5)]},
        cancelled={"anna": [dt.date(2024, 6, 10)], "ghost": [dt.date(2024, 6, 11)]},
    )
    ActivityEventFactory(
        merchant=merchant,
        customer=customers["anna"],
        kind=ActivityEvent.Kind.CART,
        occurred_at=dt.datetime(2024, 6, 19, 8, tzinfo=dt.UTC),
    )

    table = customer_io.transactions_table(merchant=merchant, data_cutoff=dt.date(2024, 6, 19))
    events = customer_io.events_table(merchant=merchant, data_cutoff=dt.date(2024, 6, 19))

    assert table["customer_id"].tolist() == [customers["anna"].pk] * 2
    assert sorted(table["timestamp"].tolist()) == [pd.Timestamp("2024-06-01 10:00"), pd.Timestamp("2024-06-05 10:00")]
    assert sorted(zip(table["is_return"], table["amount"], strict=True)) == [(False, 20.0), (True, 20.0)]
    assert events.to_dict("records") == [
        {"customer_id": customers["anna"].pk, "timestamp": pd.Timestamp("2024-06-19 09:00"), "kind": "cart"}
    ]


def test_it_scores_each_customer_known_at_the_cutoff_once_with_values_in_range(merchant, shop):
    CustomerFactory(merchant=merchant, external_id="never-bought")

    run = customer_services.customer_scores_run_in_process(merchant=merchant, data_cutoff=CUTOFF)

    assert run.status == CustomerForecastRun.Status.SUCCEEDED, run.error
    scores = CustomerScore.objects.filter(run=run)
    known = set(shop) - {"newcomer"}
    assert sorted(scores.values_list("customer__external_id", flat=True)) == sorted(known)
    assert run.customers_total == len(known) == 23
    for score in scores:
        assert 0 <= score.p_alive <= 1
        assert 0 <= score.p_purchase_30d <= 1
        assert 0 <= score.churn_risk <= 1
        assert score.expected_orders_90d >= 0
        assert score.clv_12m >= 0
        assert score.segment in CustomerScore.Segment.values
        assert score.model == "bg_nbd_seasonal"  # a year of history: the purchase law runs on the seasonal clock
    assert run.score_models["p_alive"] == "bg_nbd"
    assert run.score_models["expected_orders_90d"] == "bg_nbd_seasonal"
    assert set(run.score_models["parameters"]["bg_nbd_seasonal"]) == {"30d", "90d"}
    assert run.score_models["clv_12m"] == "gamma_gamma x bg_nbd, net of returns"
    assert "gradient boosting needs" in run.score_models["notes"][0]
    assert set(run.timings) == {"read", "engine", "write", "total"}
    assert run.progress == 1.0


def test_it_rates_a_weekly_buyer_safer_than_one_silent_for_a_year(merchant, shop):
    run = customer_services.customer_scores_run_in_process(merchant=merchant, data_cutoff=CUTOFF)

    weekly = CustomerScore.objects.get(run=run, customer=shop["weekly"])
    silent = CustomerScore.objects.get(run=run, customer=shop["silent"])
    assert weekly.churn_risk < 0.05 < 0.5 < silent.churn_risk
    assert weekly.p_alive > 0.95 > silent.p_alive
    assert weekly.p_purchase_30d > 0.9 > silent.p_purchase_30d
    assert weekly.expected_orders_90d > 10 * silent.expected_orders_90d
    assert weekly.clv_12m > silent.clv_12m
    assert weekly.orders == 52
    assert weekly.days_since_last_order == pytest.approx(1 + 14 / 24)
    assert weekly.total_spend == pytest.approx(52 * 20.0)
    assert weekly.segment == "champions"
    returned_everything = CustomerScore.objects.get(run=run, customer=shop["once"])
    assert returned_everything.clv_12m == 0.0
    assert returned_everything.expected_orders_90d > 0
    assert silent.segment in {"lost", "hibernating", "at risk"}


def test_it_keeps_each_runs_scores_and_reads_the_latest(merchant, shop):
    earlier = customer_services.customer_scores_run_in_process(merchant=merchant, data_cutoff=dt.date(2024, 3, 31))
    later = customer_services.customer_scores_run_in_process(merchant=merchant, data_cutoff=CUTOFF)

    assert earlier.pk != later.pk
    assert CustomerScore.objects.filter(run=earlier).count() < CustomerScore.objects.filter(run=later).count()
    assert customer_selectors.customer_run_latest(merchant=merchant) == later
    history = customer_selectors.customer_score_history(merchant=merchant, customer=shop["weekly"])
    assert [score.run_id for score in history] == [earlier.pk, later.pk]
    latest = customer_selectors.customer_score_latest(merchant=merchant, customer=shop["weekly"])
    assert latest.run_id == later.pk
    assert customer_selectors.customer_score_latest(merchant=merchant, customer=shop["newcomer"]) is None
    overview = customer_selectors.segment_overview(merchant=merchant, run=later)
    assert sum(row["customers"] for row in overview) == 23
    assert [row["segment"] for row in overview] == [
        segment for segment in CustomerScore.Segment.values if segment in {row["segment"] for row in overview}
    ]


def test_it_returns_the_same_run_for_the_same_request_and_dispatches_once(
    merchant, shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        first, created = customer_services.customer_scores_run_request(merchant=merchant)
        again, created_again = customer_services.customer_scores_run_request(merchant=merchant)

    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    assert first.data_cutoff == CUTOFF + dt.timedelta(days=3)
    assert len(callbacks) == 1


def test_it_starts_a_failed_run_again_on_request(merchant, shop, django_capture_on_commit_callbacks):
    run, _ = customer_services.customer_scores_run_request(merchant=merchant, data_cutoff=CUTOFF, dispatch=False)
    CustomerForecastRun.objects.filter(pk=run.pk).update(status=CustomerForecastRun.Status.FAILED, error="boom")

    with django_capture_on_commit_callbacks() as callbacks:
        again, started = customer_services.customer_scores_run_request(merchant=merchant, data_cutoff=CUTOFF)

    assert again.pk == run.pk
    assert started
    assert (again.status, again.error) == (CustomerForecastRun.Status.PENDING, "")
    assert len(callbacks) == 1


def test_it_overwrites_its_rows_when_a_run_is_executed_again(merchant, shop):
    run, _ = customer_services.customer_scores_run_request(merchant=merchant, data_cutoff=CUTOFF, dispatch=False)
    customer_services.customer_scores_run_execute(run_id=run.pk)
    CustomerForecastRun.objects.filter(pk=run.pk).update(status=CustomerForecastRun.Status.RUNNING)

    run = customer_services.customer_scores_run_execute(run_id=run.pk)

    assert run.status == CustomerForecastRun.Status.SUCCEEDED
    assert run.attempts == 2
    assert CustomerScore.objects.filter(run=run).count() == 23


def test_it_records_the_engines_error_on_a_failed_run(merchant, shop, monkeypatch):
    def broken(*args, **kwargs):
        raise FloatingPointError("likelihood is NaN")

    monkeypatch.setattr(customer_services, "score_customers", broken)

    run = customer_services.customer_scores_run_in_process(merchant=merchant, data_cutoff=CUTOFF)

    assert run.status == CustomerForecastRun.Status.FAILED
    assert run.error == "FloatingPointError: likelihood is NaN"
    assert not CustomerScore.objects.filter(run=run).exists()


def test_it_gives_up_after_the_attempts_cap(merchant, shop):
    run, _ = customer_services.customer_scores_run_request(merchant=merchant, data_cutoff=CUTOFF, dispatch=False)
    CustomerForecastRun.objects.filter(pk=run.pk).update(attempts=customer_services.MAX_ATTEMPTS)

    run = customer_services.customer_scores_run_execute(run_id=run.pk)

    assert run.status == CustomerForecastRun.Status.FAILED
    assert "gave up" in run.error


def test_it_succeeds_with_no_rows_for_a_merchant_without_orders(merchant):
    run = customer_services.customer_scores_run_in_process(merchant=merchant, data_cutoff=CUTOFF)

    assert run.status == CustomerForecastRun.Status.SUCCEEDED
    assert run.customers_total == 0


def test_it_reports_progress_by_stage(merchant, shop):
    seen: list[tuple[str, float]] = []

    customer_services.customer_scores_run_in_process(
        merchant=merchant, data_cutoff=CUTOFF, progress=lambda stage, fraction: seen.append((stage, fraction))
    )

    fractions = [fraction for _stage, fraction in seen]
    assert fractions == sorted(fractions)
    assert seen[0][0] == "reading orders and activity"
    assert seen[-1] == ("done", 1.0)


def test_it_uses_calibrated_boosting_for_purchase_and_churn_when_the_history_allows(merchant, monkeypatch):
    monkeypatch.setattr(customer_services, "MIN_CLASSIFIER_CUSTOMERS", 100)
    rng = np.random.default_rng(0)
    histories = {}
    for index in range(400):
        gap = int(rng.integers(5, 120))
        start = dt.date(2022, 6, 1) + dt.timedelta(days=int(rng.integers(0, 500)))
        lifetime = int(rng.integers(0, 900))
        days = every(gap, start=start, end=min(start + dt.timedelta(days=lifetime), CUTOFF))
        histories[f"p{index:03d}"] = days
    make_customers(merchant=merchant, histories=histories)

    run = customer_services.customer_scores_run_in_process(merchant=merchant, data_cutoff=CUTOFF)

    assert run.status == CustomerForecastRun.Status.SUCCEEDED, run.error
    assert run.score_models["p_purchase_30d"] == "gradient_boosting_calibrated"
    assert run.score_models["churn_risk"] == "gradient_boosting_calibrated"
    assert run.score_models["p_alive"] == "bg_nbd"
    scores = CustomerScore.objects.filter(run=run)
    assert scores.count() == 400
    assert set(scores.values_list("model", flat=True)) == {"gradient_boosting_calibrated"}
    churn = dict(scores.values_list("days_since_last_order", "churn_risk"))
    recent = [risk for days, risk in churn.items() if days < 30]
    gone = [risk for days, risk in churn.items() if days > 365]
    assert np.mean(recent) < np.mean(gone)


def test_it_falls_back_to_bgnbd_when_the_history_is_too_short(merchant, monkeypatch):
    monkeypatch.setattr(customer_services, "MIN_CLASSIFIER_CUSTOMERS", 5)
    make_customers(
        merchant=merchant,
        histories={
            f"s{index}": every(3 + index, start=CUTOFF - dt.timedelta(days=40), end=CUTOFF) for index in range(8)
        },
    )

    run = customer_services.customer_scores_run_in_process(
        merchant=merchant, data_cutoff=CUTOFF, config=CustomerScoreConfig(classifier=True)
    )

    assert run.status == CustomerForecastRun.Status.SUCCEEDED, run.error
    assert run.score_models["churn_risk"] == run.score_models["p_alive"]
    assert run.score_models["churn_risk"] != "gradient_boosting_calibrated"
    assert "days of history" in run.score_models["notes"][-1]
