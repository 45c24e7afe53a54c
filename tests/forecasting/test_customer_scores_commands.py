"""evaluate_customers, run_customer_scores and bench_customer_scores, run as a merchant would."""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer, Order
from ecomforecast.models import Merchant
from forecasting.management.commands.bench_customer_scores import simulate_purchases
from forecasting.models import CustomerForecastRun, CustomerScore
from tests.forecasting.customer_shop import make_customers

pytestmark = pytest.mark.django_db

END = dt.date(2024, 6, 30)
DAYS = 730


@pytest.fixture
def population(merchant):
    """400 customers drawn from the BG/NBD story over two years up to END."""
    owner, offsets = simulate_purchases(customers=400, days=DAYS, seed=4)
    start = END - dt.timedelta(days=DAYS - 1)
    histories: dict[str, list[dt.date]] = {}
    for index, offset in zip(owner, offsets, strict=True):
        histories.setdefault(f"P{index:03d}", []).append(start + dt.timedelta(days=int(offset)))
    return make_customers(merchant=merchant, histories=histories)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_prints_every_models_holdout_metrics_side_by_side(merchant, population):
    output = run("evaluate_customers", "--merchant", "acme", "--holdout-days", "90")

    cutoff = END + dt.timedelta(days=1 - 90)
    assert output.startswith(f"cutoff {cutoff}  holdout 90 days  customers ")
    header = output.splitlines()[1].split()
    assert header[:5] == ["model", "AUC", "Brier", "log", "loss"]
    rows = {line.split()[0]: line.split()[1:] for line in output.splitlines()[2:10]}
    assert set(rows) == {
        "bg_nbd",
        "pareto_nbd",
        "gradient_boosting_calibrated",
        "gradient_boosting_raw",
        "gru_sequence",
        "gru_sequence_raw",
        "bg_nbd_seasonal",
        "pareto_nbd_seasonal",
    }
    holdout_orders = Order.objects.filter(merchant=merchant, placed_at__date__gte=cutoff).count()
    known_before = (
        Customer.objects.filter(merchant=merchant, orders__placed_at__date__lt=cutoff).distinct().values("pk")
    )
    holdout_of_known = Order.objects.filter(
        merchant=merchant, placed_at__date__gte=cutoff, customer__in=known_before
    ).count()
    assert 0 < holdout_of_known <= holdout_orders
    for values in rows.values():
        auc, brier = float(values[0]), float(values[1])
        assert 0.5 < auc <= 1.0
        assert 0.0 < brier < 0.25
        assert values[5] == f"{holdout_of_known:,}"
    assert re.search(r"gradient_boosting_calibrated: AUC x\d\.\d{3}  Brier x\d\.\d{3}", output)
    assert "bg_nbd x gamma_gamma holdout spend: predicted " in output


def test_it_refuses_an_unknown_merchant_or_a_history_too_short_to_evaluate(merchant):
    with pytest.raises(CommandError, match="no merchant 'nope'"):
        run("evaluate_customers", "--merchant", "nope")
    with pytest.raises(CommandError, match="has no orders with a customer"):
        run("evaluate_customers", "--merchant", "acme")
    make_customers(merchant=merchant, histories={"a": [END - dt.timedelta(days=5), END]})
    with pytest.raises(CommandError, match="cannot evaluate on this history"):
        run("evaluate_customers", "--merchant", "acme", "--holdout-days", "30")


def test_it_scores_customers_in_process_and_says_which_model_made_each_score(merchant, population):
    output = run("run_customer_scores", "--merchant", "acme", "--sync", "--no-classifier")

    scored = CustomerScore.objects.filter(run__merchant=merchant).count()
    assert scored == len(population)
    assert f"succeeded, {scored:,} customers scored up to {END}" in output
    assert "  churn_risk: bg_nbd" in output
    assert "  clv_12m: gamma_gamma x bg_nbd, net of returns" in output


def test_it_benchmarks_synthetic_customers_and_drops_them_afterwards():
    output = run("bench_customer_scores", "--customers", "300", "--events", "1", "--no-classifier")

    assert "customers scored: 300" in output
    assert re.search(r"read +\d+\.\d+s", output)
    assert re.search(r"engine +\d+\.\d+s", output)
    assert re.search(r"write +\d+\.\d+s", output)
    assert "churn_risk=bg_nbd" in output
    assert not Merchant.objects.filter(slug__startswith="bench-customers-").exists()
    assert not CustomerForecastRun.objects.exists()


def test_the_synthetic_population_buys_like_a_shop():
    owner, offsets = simulate_purchases(customers=5000, days=730, seed=0)

    purchases = np.bincount(owner, minlength=5000)
    assert purchases.min() == 1
    assert 2 < purchases.mean() < 8
    assert (offsets >= 0).all()
    assert (offsets < 730).all()
    assert np.all(np.diff(offsets)[np.diff(owner) == 0] >= 0)
