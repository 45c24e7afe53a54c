from __future__ import annotations

import math

import numpy as np
import pytest

from forecasting.engine.customer.btyd import BetaGeoModel, RepeatPurchaseData, simulate_bgnbd

# Fader, Hardie & Lee (2005), CDNOW sample of 2,357 customers, T = 39 weeks (time in weeks).
PUBLISHED = (0.243, 4.414, 0.793, 2.426)


def paper_likelihood(r: float, alpha: float, a: float, b: float, x: int, t_x: float, T: float) -> float:
    """FHL (2005) equation (6), written out with plain gamma and beta functions."""

    def beta(p: float, q: float) -> float:
        return math.gamma(p) * math.gamma(q) / math.gamma(p + q)

    rate = math.gamma(r + x) * alpha**r / math.gamma(r)
    likelihood = beta(a, b + x) / beta(a, b) * rate / (alpha + T) ** (r + x)
    if x > 0:
        likelihood += beta(a + 1, b + x - 1) / beta(a, b) * rate / (alpha + t_x) ** (r + x)
    return likelihood


@pytest.mark.parametrize(
    ("x", "t_x", "T"), [(0, 0.0, 39.0), (1, 2.5, 39.0), (2, 30.43, 38.86), (5, 35.0, 36.0), (12, 38.0, 39.0)]
)
def test_it_matches_the_papers_likelihood_for_small_cases(x, t_x, T):
    data = RepeatPurchaseData.of([x], [t_x], [T])

    log_likelihood = BetaGeoModel.log_likelihood_terms(PUBLISHED, data)[0]

    assert log_likelihood == pytest.approx(math.log(paper_likelihood(*PUBLISHED, x, t_x, T)), rel=1e-10)


def test_it_stays_finite_for_customers_with_hundreds_of_purchases():
    data = RepeatPurchaseData.of([400.0, 900.0], [300.0, 360.0], [365.0, 365.0])

    assert np.all(np.isfinite(BetaGeoModel.log_likelihood_terms(PUBLISHED, data)))


def test_it_recovers_the_published_parameters_from_simulated_customers():
    data = simulate_bgnbd(PUBLISHED, n_customers=5000, T=39.0, seed=7)

    model = BetaGeoModel().fit(data.frequency, data.recency, data.T)

    for fitted, true in zip(model.params_, PUBLISHED, strict=True):
        assert fitted == pytest.approx(true, rel=0.15)
    at_truth = BetaGeoModel.log_likelihood_terms(PUBLISHED, data).sum()
    assert at_truth <= model.log_likelihood_
    assert model.log_likelihood_ - at_truth < 5.0


def test_it_predicts_purchases_of_a_new_customer_like_the_process_does():
    model = BetaGeoModel()
    model.params_ = PUBLISHED
    simulated = simulate_bgnbd(PUBLISHED, n_customers=50_000, T=39.0, seed=3)

    zero = np.zeros(1)
    expected = model.expected_purchases(39.0, zero, zero, zero)[0]
    probability = model.probability_of_purchase(39.0, zero, zero, zero)[0]

    assert expected == pytest.approx(simulated.frequency.mean(), rel=0.05)
    assert expected == pytest.approx(model.expected_purchases_new_customer(39.0), rel=1e-9)
    assert probability == pytest.approx((simulated.frequency > 0).mean(), abs=0.01)
