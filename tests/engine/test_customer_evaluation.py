from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine.customer.discriminative import PurchaseClassifier
from forecasting.engine.customer.evaluate import binary_metrics, calibration_curve, evaluate_customer_models

START = pd.Timestamp("2022-01-01")
CUTOFF = pd.Timestamp("2023-10-01")
SMALL_BOOSTER = {"training_snapshots": 2, "max_iter": 40, "min_samples_leaf": 40}


def simulated_shop(n_customers: int = 400, seed: int = 1) -> pd.DataFrame:
    """Customers join during the first year, buy at their own Poisson rate and leave after an exponential life."""
    rng = np.random.default_rng(seed)
    rows = []
    for number in range(n_customers):
        joined = rng.uniform(0, 365)
        rate = rng.gamma(0.8, 1 / 20)  # purchases per day
        leaves = joined + rng.exponential(400)
        times = [joined]
        while (nxt := times[-1] + rng.exponential(1 / rate)) < min(leaves, 730):
            times.append(nxt)
        for day in times:
            rows.append((f"c{number}", START + pd.Timedelta(days=day), rng.gamma(2, 20), False))
            if rng.random() < 0.05:
                rows.append((f"c{number}", START + pd.Timedelta(days=day + 3), -10.0, True))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "is_return"])


@pytest.fixture(scope="module")
def shop() -> pd.DataFrame:
    return simulated_shop()


def test_it_scores_every_model_side_by_side_on_the_holdout(shop):
    report = evaluate_customer_models(shop, cutoff=CUTOFF, holdout_days=60, classifier_options=SMALL_BOOSTER)

    table = report.table()
    assert list(table.index) == ["bg_nbd", "pareto_nbd", "gradient_boosting_calibrated", "gradient_boosting_raw"]
    known = shop[shop["timestamp"] < CUTOFF]["customer_id"].nunique()
    assert report.customers == known
    holdout = shop[
        ~shop["is_return"]
        & (shop["timestamp"] >= CUTOFF)
        & (shop["timestamp"] < CUTOFF + pd.Timedelta(days=60))
        & shop["customer_id"].isin(shop[shop["timestamp"] < CUTOFF]["customer_id"])
    ]
    assert (table["actual_total"] == len(holdout)).all()
    assert report.holdout_purchasers == holdout["customer_id"].nunique()
    assert (table["auc"] > 0.75).all()
    assert (table["brier"] < 0.2).all()
    assert table.loc["bg_nbd", "aggregate_error"] == pytest.approx(0.0, abs=0.25)
    for curve in report.calibration_curves.values():
        assert sum(point["customers"] for point in curve) == known


def test_it_never_looks_past_the_cutoff_when_fitting_the_classifier(shop):
    before_cutoff = shop[shop["timestamp"] < CUTOFF]
    options = {"horizon_days": 60, **SMALL_BOOSTER}

    with_future = PurchaseClassifier(**options).fit(shop, cutoff=CUTOFF).predict(shop, cutoff=CUTOFF)
    without_future = (
        PurchaseClassifier(**options).fit(before_cutoff, cutoff=CUTOFF).predict(before_cutoff, cutoff=CUTOFF)
    )

    pd.testing.assert_frame_equal(with_future, without_future)
    assert with_future["p_purchase"].between(0, 1).all()
    assert (with_future["churn_risk"] == 1 - with_future["p_purchase"]).all()


def test_it_computes_binary_metrics_and_bins_by_hand():
    outcomes = np.array([0, 0, 1, 1])
    probabilities = np.array([0.1, 0.4, 0.35, 0.8])

    metrics = binary_metrics(outcomes, probabilities)
    curve = calibration_curve(outcomes, probabilities, bins=2)

    assert metrics["auc"] == pytest.approx(0.75)
    assert metrics["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert [point["customers"] for point in curve] == [3, 1]
    assert curve[0]["observed_rate"] == pytest.approx(1 / 3)


def test_it_adds_the_seasonal_time_change_rows_when_asked(shop):
    report = evaluate_customer_models(
        shop, cutoff=CUTOFF, holdout_days=60, classifier_options=SMALL_BOOSTER, include_seasonal=True
    )

    table = report.table()
    assert list(table.index) == [
        "bg_nbd",
        "pareto_nbd",
        "gradient_boosting_calibrated",
        "gradient_boosting_raw",
        "bg_nbd_seasonal",
        "pareto_nbd_seasonal",
    ]
    for base in ("bg_nbd", "pareto_nbd"):
        seasonal = table.loc[f"{base}_seasonal"]
        # This shop has no season: last year's stationary forecast was close, so the clock barely moves.
        assert seasonal["parameters"]["intensity"] == pytest.approx(1.0, abs=0.2)
        assert seasonal["actual_total"] == table.loc[base, "actual_total"]
        assert seasonal["predicted_total"] == pytest.approx(
            table.loc[base, "predicted_total"], rel=abs(seasonal["parameters"]["intensity"] - 1) + 1e-6
        )
        assert seasonal["parameters"]["r"] == pytest.approx(table.loc[base, "parameters"]["r"])
        assert seasonal["auc"] > 0.75
