from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine.uplift import (
    NEVER_PURCHASED_RECENCY_DAYS,
    TLearnerUplift,
    qini_coefficient,
    qini_curve,
    recipient_history,
    synthetic_campaign,
    uplift_at,
)

SCORES = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
TREATMENT = np.array([1, 0, 1, 1, 0, 0, 1, 0])
OUTCOME = np.array([1, 0, 1, 0, 1, 0, 0, 0])


@pytest.fixture(scope="module")
def campaign_split():
    campaign = synthetic_campaign(customers=4000, seed=3)
    order = np.random.default_rng(3).permutation(4000)
    train, test = order[:2800], order[2800:]
    model = TLearnerUplift(max_iter=80, seed=0).fit(
        campaign.features[train], campaign.treatment[train], campaign.outcome[train]
    )
    return campaign, model, test


def test_it_computes_the_qini_curve_by_hand():
    curve = qini_curve(SCORES, TREATMENT, OUTCOME)

    # After the 5th customer: 2 treated responders of 3 treated, 1 control responder of 2 controls -> 2 - 1 * 3/2.
    np.testing.assert_allclose(curve.fraction, np.arange(9) / 8)
    np.testing.assert_allclose(curve.incremental, [0, 1, 1, 2, 2, 0.5, 1, 2 - 4 / 3, 1])


def test_it_targets_tied_scores_together():
    tied = SCORES.copy()
    tied[4] = tied[5] = 0.45

    curve = qini_curve(tied, TREATMENT, OUTCOME)

    np.testing.assert_allclose(curve.fraction, [0, 1 / 8, 2 / 8, 3 / 8, 4 / 8, 6 / 8, 7 / 8, 1])
    np.testing.assert_allclose(curve.incremental, [0, 1, 1, 2, 2, 1, 2 - 4 / 3, 1])


def test_it_normalises_the_qini_coefficient_by_the_ideal_ranking():
    # Model curve area 13/12 minus the random triangle 1/2 = 7/12; the ideal ranking's curve
    # (0,0) (1/4,2) (7/8,2) (1,1) has area 27/16 - 1/2 = 19/16.
    assert qini_coefficient(SCORES, TREATMENT, OUTCOME, normalize=False) == pytest.approx(7 / 12)
    assert qini_coefficient(SCORES, TREATMENT, OUTCOME) == pytest.approx((7 / 12) / (19 / 16))


def test_it_measures_the_uplift_in_the_top_fraction():
    # Top 4: treated customers 0, 2, 3 bought 2 of 3 times; control customer 1 bought nothing.
    assert uplift_at(SCORES, TREATMENT, OUTCOME, k=0.5) == pytest.approx(2 / 3)


def test_it_rejects_a_top_fraction_with_a_single_group():
    with pytest.raises(ValueError, match="only one group"):
        uplift_at(SCORES, TREATMENT, OUTCOME, k=0.125)


def test_it_gives_random_scores_a_qini_coefficient_near_zero():
    campaign = synthetic_campaign(customers=6000, seed=1)
    rng = np.random.default_rng(0)

    coefficients = [qini_coefficient(rng.random(6000), campaign.treatment, campaign.outcome) for _ in range(30)]

    assert abs(np.mean(coefficients)) < 0.02
    assert qini_coefficient(campaign.true_uplift, campaign.treatment, campaign.outcome) > 0.1


def test_it_recovers_the_uplift_ranking_better_than_a_response_ranking(campaign_split):
    campaign, model, test = campaign_split
    treatment, outcome = campaign.treatment[test], campaign.outcome[test]
    _p_control, p_treated = model.predict_response(campaign.features[test])

    t_learner = qini_coefficient(model.predict_uplift(campaign.features[test]), treatment, outcome)
    response = qini_coefficient(p_treated, treatment, outcome)

    assert model.learner_ == "gradient_boosting"
    assert model.fallback_ is None
    assert t_learner > 0.08
    assert t_learner > response + 0.05
    assert np.corrcoef(model.predict_uplift(campaign.features[test]), campaign.true_uplift[test])[0, 1] > 0.6


def test_it_ranks_persuadables_first_and_sleeping_dogs_last(campaign_split):
    campaign, model, test = campaign_split
    uplift = model.predict_uplift(campaign.features[test])
    segments = campaign.segment[test]

    mean_by_segment = {name: uplift[segments == name].mean() for name in np.unique(segments)}

    assert max(mean_by_segment, key=mean_by_segment.get) == "persuadable"
    assert min(mean_by_segment, key=mean_by_segment.get) == "sleeping_dog"


def test_it_is_deterministic_for_a_seed():
    campaign = synthetic_campaign(customers=800, seed=5)
    assert np.array_equal(campaign.outcome, synthetic_campaign(customers=800, seed=5).outcome)

    first = TLearnerUplift(max_iter=30, min_positives=20, seed=7).fit(
        campaign.features, campaign.treatment, campaign.outcome
    )
    second = TLearnerUplift(max_iter=30, min_positives=20, seed=7).fit(
        campaign.features, campaign.treatment, campaign.outcome
    )

    np.testing.assert_array_equal(first.predict_uplift(campaign.features), second.predict_uplift(campaign.features))


def test_it_falls_back_to_a_regularised_logistic_model_with_few_responders():
    campaign = synthetic_campaign(customers=300, seed=2)

    model = TLearnerUplift(min_positives=50).fit(campaign.features, campaign.treatment, campaign.outcome)

    assert model.learner_ == "logistic"
    assert "fewer than the 50" in model.fallback_
    assert model.predict_uplift(campaign.features).shape == (300,)


def test_it_gives_a_group_without_responders_its_smoothed_rate():
    features = np.arange(12, dtype=float).reshape(-1, 1)
    treatment = np.array([1] * 6 + [0] * 6)
    outcome = np.array([1, 0, 1, 0, 1, 0] + [0] * 6)

    model = TLearnerUplift().fit(features, treatment, outcome)
    p_control, _p_treated = model.predict_response(features)

    np.testing.assert_allclose(p_control, 1 / 8)


@pytest.mark.parametrize(
    ("treatment", "outcome", "message"),
    [
        ([1, 1, 1, 1], [0, 1, 0, 1], "both treated and control"),
        ([1, 0, 2, 0], [0, 1, 0, 1], "treatment must hold only 0 and 1"),
        ([1, 0, 1], [0, 1, 0, 1], r"\(n,\)"),
    ],
)
def test_it_rejects_bad_input(treatment, outcome, message):
    with pytest.raises(ValueError, match=message):
        TLearnerUplift().fit(np.zeros((4, 2)), np.array(treatment), np.array(outcome))


def test_it_builds_recipient_features_at_the_send_date_and_the_window_outcome():
    transactions = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3],
            "timestamp": pd.to_datetime(
                ["2024-01-01", "2024-02-20", "2024-02-25", "2024-03-05", "2024-02-10", "2024-03-30", "2024-03-02"]
            ),
            "amount": [10.0, 20.0, 5.0, 30.0, 40.0, 15.0, 8.0],
            "is_return": [False, False, True, False, False, False, False],
        }
    )
    recipients = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "treated": [True, False, True],
            "sent_on": pd.to_datetime(["2024-03-01"] * 3),
            "window_end": pd.to_datetime(["2024-03-20"] * 3),
        }
    )

    history = recipient_history(transactions, recipients)

    # Customer 1: two purchases before the send date (the return does not count), the last 10 days before it.
    assert history["recency_days"].tolist() == [10.0, 20.0, NEVER_PURCHASED_RECENCY_DAYS]
    assert history["frequency"].tolist() == [2, 1, 0]
    assert history["spend"].tolist() == [30.0, 40.0, 0.0]
    # Customer 2 bought after the window closed; customer 3's first purchase falls inside it.
    assert history["responded"].tolist() == [True, False, True]
