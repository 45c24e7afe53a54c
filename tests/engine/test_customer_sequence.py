from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine.customer.evaluate import binary_metrics, evaluate_customer_models
from forecasting.engine.customer.features import holdout_outcomes
from forecasting.engine.customer.sequence import SequencePurchaseModel, event_stream, snapshot_sequences

START = pd.Timestamp("2022-01-01")
CUTOFF = pd.Timestamp("2023-07-01")
HORIZON = 30
SMALL_NETWORK = {
    "horizon_days": HORIZON,
    "hidden_size": 16,
    "max_events": 24,
    "max_epochs": 8,
    "patience": 3,
    "batch_size": 128,
    "training_snapshots": 6,
    "threads": 1,
}


def regular_and_lapsed_shop(n_customers: int = 240, seed: int = 1) -> pd.DataFrame:
    """Every customer buys every 5-20 days (their own rhythm) from the day they join until they lapse; half of
    them lapse at a uniform time in the first 18 months, the rest keep buying to the end of the data."""
    rng = np.random.default_rng(seed)
    end = (CUTOFF - START).days + 120
    rows = []
    for number in range(n_customers):
        joined = rng.uniform(0, 300)
        lapses = rng.uniform(joined + 30, end - 120) if number % 2 else end
        mean_gap = rng.uniform(5, 20)
        day = joined
        while day < lapses:
            rows.append((f"c{number}", START + pd.Timedelta(days=day), rng.gamma(3, 15), False))
            if rng.random() < 0.05:
                rows.append((f"c{number}", START + pd.Timedelta(days=day + 2), -12.0, True))
            day += rng.uniform(0.5, 1.5) * mean_gap
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "is_return"])


def browsing_events(transactions: pd.DataFrame, seed: int = 3) -> pd.DataFrame:
    """A view a day before most purchases and a cart for some, plus customers who only browse."""
    rng = np.random.default_rng(seed)
    purchases = transactions[~transactions["is_return"]]
    views = purchases.sample(frac=0.7, random_state=seed)
    carts = purchases.sample(frac=0.3, random_state=seed + 1)
    rows = [(row.customer_id, row.timestamp - pd.Timedelta(days=1), "view") for row in views.itertuples()]
    rows += [(row.customer_id, row.timestamp - pd.Timedelta(hours=2), "cart") for row in carts.itertuples()]
    for number in range(20):
        for day in rng.uniform(0, (CUTOFF - START).days + 60, size=5):
            rows.append((f"browser{number}", START + pd.Timedelta(days=day), "view"))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "kind"])


@pytest.fixture(scope="module")
def shop() -> pd.DataFrame:
    return regular_and_lapsed_shop()


@pytest.fixture(scope="module")
def fitted(shop) -> SequencePurchaseModel:
    return SequencePurchaseModel(**SMALL_NETWORK).fit(shop, cutoff=CUTOFF)


def test_it_learns_that_regular_buyers_return_and_lapsed_ones_do_not(fitted):
    unseen = regular_and_lapsed_shop(seed=2)
    predictions = fitted.predict(unseen, cutoff=CUTOFF)
    outcomes = holdout_outcomes(unseen, cutoff=CUTOFF, horizon_days=HORIZON, customers=predictions.index)

    metrics = binary_metrics(outcomes["purchased"], predictions["p_purchase"])

    assert metrics["auc"] > 0.9
    assert metrics["brier"] < 0.12
    assert predictions["p_purchase"].between(0, 1).all()
    assert predictions["p_purchase_raw"].between(0, 1).all()
    assert (predictions["churn_risk"] == 1 - predictions["p_purchase"]).all()
    assert (predictions["expected_purchases"] >= 0).all()
    assert predictions["expected_purchases"].sum() == pytest.approx(outcomes["purchases"].sum(), rel=0.3)
    assert fitted.epochs_ <= SMALL_NETWORK["max_epochs"]
    assert 1 <= fitted.best_epoch_ <= fitted.epochs_
    assert all(
        snapshot + pd.Timedelta(days=HORIZON) <= fitted.calibration_snapshot_ for snapshot in fitted.training_snapshots_
    )
    assert fitted.calibration_snapshot_ + pd.Timedelta(days=HORIZON) <= CUTOFF


def test_it_gives_identical_predictions_for_the_same_seed(shop, fitted):
    again = SequencePurchaseModel(**SMALL_NETWORK).fit(shop, cutoff=CUTOFF)
    other_seed = SequencePurchaseModel(**{**SMALL_NETWORK, "seed": 7}).fit(shop, cutoff=CUTOFF)

    first = fitted.predict(shop, cutoff=CUTOFF)
    pd.testing.assert_frame_equal(first, again.predict(shop, cutoff=CUTOFF))
    assert not np.allclose(first["p_purchase_raw"], other_seed.predict(shop, cutoff=CUTOFF)["p_purchase_raw"])


def test_it_never_reads_rows_at_or_after_the_cutoff(shop):
    events = browsing_events(shop)
    options = {**SMALL_NETWORK, "max_epochs": 3}

    with_future = SequencePurchaseModel(**options).fit(shop, events, cutoff=CUTOFF).predict(shop, events, cutoff=CUTOFF)
    shop_before, events_before = shop[shop["timestamp"] < CUTOFF], events[events["timestamp"] < CUTOFF]
    without_future = (
        SequencePurchaseModel(**options)
        .fit(shop_before, events_before, cutoff=CUTOFF)
        .predict(shop_before, events_before, cutoff=CUTOFF)
    )

    pd.testing.assert_frame_equal(with_future, without_future)


def test_it_scores_one_time_buyers_and_customers_with_only_events(shop):
    events = browsing_events(shop)
    one_timers = pd.DataFrame(
        {
            "customer_id": ["once_early", "once_late"],
            "timestamp": [START + pd.Timedelta(days=40), CUTOFF - pd.Timedelta(days=1)],
            "amount": [30.0, 45.0],
            "is_return": [False, False],
        }
    )
    transactions = pd.concat([shop, one_timers], ignore_index=True)
    model = SequencePurchaseModel(**{**SMALL_NETWORK, "max_epochs": 3}).fit(transactions, events, cutoff=CUTOFF)

    predictions = model.predict(transactions, events, cutoff=CUTOFF)

    browsers = {f"browser{number}" for number in range(20)}
    assert browsers <= set(predictions.index)
    assert {"once_early", "once_late"} <= set(predictions.index)
    assert np.isfinite(predictions.to_numpy()).all()
    assert predictions["p_purchase"].between(0, 1).all()
    assert model.event_kinds_ == ["cart", "view"]


def test_it_predicts_churn_over_its_own_horizon(shop):
    model = SequencePurchaseModel(**{**SMALL_NETWORK, "churn_horizon_days": 60}).fit(shop, cutoff=CUTOFF)

    predictions = model.predict(shop, cutoff=CUTOFF)
    stayed = holdout_outcomes(shop, cutoff=CUTOFF, horizon_days=60, customers=predictions.index)["purchased"]

    assert predictions["churn_risk"].between(0, 1).all()
    assert binary_metrics(~stayed, predictions["churn_risk"])["auc"] > 0.9
    assert predictions["churn_risk"].mean() == pytest.approx(1 - stayed.mean(), abs=0.1)
    assert model.calibration_snapshot_ == CUTOFF - pd.Timedelta(days=60)


def test_it_caps_each_sequence_at_the_last_events_before_the_snapshot(shop):
    stream = event_stream(shop.sort_values(["customer_id", "timestamp"]), None, [])
    snapshot = pd.Timestamp("2022-06-01")

    source = snapshot_sequences(stream, snapshot, kinds=0, max_events=5)

    known = shop[shop["timestamp"] < snapshot].groupby("customer_id").size()
    assert list(source.customers) == list(known.index)
    assert (source.lengths == np.minimum(known.to_numpy(), 5)).all()
    tokens, lengths, static = source.padded(np.arange(3))
    assert tokens.shape == (3, lengths.max(), source.tokens.shape[1])
    assert static.shape == (3, source.static.shape[1])
    assert (tokens[0, lengths[0] :] == 0).all()
    # The last token of a sequence is the customer's latest event: its age is the smallest.
    age_column = 2 + 2
    first_tokens = source.tokens[source.offsets[0] : source.offsets[0] + source.lengths[0]]
    assert first_tokens[-1, age_column] == first_tokens[:, age_column].min()


def test_it_refuses_bad_input(shop):
    with pytest.raises(ValueError, match="days of history"):
        SequencePurchaseModel(horizon_days=400).fit(shop, cutoff=CUTOFF)
    with pytest.raises(ValueError, match="events lack columns: kind"):
        SequencePurchaseModel(**SMALL_NETWORK).fit(shop, shop[["customer_id", "timestamp"]], cutoff=CUTOFF)
    with pytest.raises(ValueError, match="validation_fraction"):
        SequencePurchaseModel(validation_fraction=1.0).fit(shop, cutoff=CUTOFF)
    with pytest.raises(ValueError, match="no transactions"):
        SequencePurchaseModel(**SMALL_NETWORK).fit(shop, cutoff=START)


def test_it_falls_back_to_the_cpu_when_cuda_is_missing(shop):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")

    model = SequencePurchaseModel(**{**SMALL_NETWORK, "max_epochs": 1, "device": "cuda"}).fit(shop, cutoff=CUTOFF)

    assert model.device_ == "cpu"


def test_it_adds_the_sequence_model_to_the_side_by_side_evaluation(shop):
    options = {key: value for key, value in SMALL_NETWORK.items() if key != "horizon_days"}
    report = evaluate_customer_models(
        shop,
        cutoff=CUTOFF,
        holdout_days=HORIZON,
        classifier_options={"training_snapshots": 2, "max_iter": 30, "min_samples_leaf": 20},
        include_sequence=True,
        sequence_options=options,
    )

    table = report.table()
    assert list(table.index)[-2:] == ["gru_sequence", "gru_sequence_raw"]
    assert table.loc["gru_sequence", "auc"] > 0.9
    assert table.loc["gru_sequence", "actual_total"] == table.loc["bg_nbd", "actual_total"]
    assert table.loc["gru_sequence", "parameters"]["epochs"] >= 1
