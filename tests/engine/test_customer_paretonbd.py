from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import dblquad
from scipy.stats import gamma

from forecasting.engine.customer.btyd import ParetoNBDModel, RepeatPurchaseData, simulate_pareto_nbd

# The Gamma densities with shape < 1 are singular at 0, which quad reports while still converging.
pytestmark = pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")

# Fader & Hardie, Pareto/NBD fit to the CDNOW sample (time in weeks).
PUBLISHED = (0.55, 10.58, 0.61, 11.67)


def integrated_likelihood(r: float, alpha: float, s: float, beta: float, x: int, t_x: float, T: float) -> float:
    """The individual-level Pareto/NBD likelihood integrated numerically over Gamma(r, alpha) x Gamma(s, beta)."""

    def individual(mu: float, lam: float) -> float:
        total = lam + mu
        died = mu / total * (math.exp(-total * t_x) - math.exp(-total * T))
        density = gamma.pdf(lam, r, scale=1 / alpha) * gamma.pdf(mu, s, scale=1 / beta)
        return lam**x * (math.exp(-total * T) + died) * density

    value, _error = dblquad(individual, 0, 5, 0, 5, epsabs=1e-10, epsrel=1e-6)
    return value


@pytest.mark.parametrize(("x", "t_x", "T"), [(0, 0.0, 39.0), (3, 10.0, 30.0)])
def test_it_matches_the_integrated_individual_likelihood(x, t_x, T):
    data = RepeatPurchaseData.of([x], [t_x], [T])

    log_likelihood = ParetoNBDModel.log_likelihood_terms(PUBLISHED, data)[0]

    assert log_likelihood == pytest.approx(math.log(integrated_likelihood(*PUBLISHED, x, t_x, T)), abs=1e-4)


def test_it_takes_either_branch_of_the_closed_form_when_alpha_exceeds_beta():
    swapped = (0.55, 11.67, 0.61, 10.58)
    data = RepeatPurchaseData.of([2], [15.0], [39.0])

    log_likelihood = ParetoNBDModel.log_likelihood_terms(swapped, data)[0]

    assert log_likelihood == pytest.approx(math.log(integrated_likelihood(*swapped, 2, 15.0, 39.0)), abs=1e-4)


def test_it_stays_finite_for_customers_with_hundreds_of_purchases():
    data = RepeatPurchaseData.of([400.0, 900.0], [300.0, 10.0], [365.0, 365.0])

    assert np.all(np.isfinite(ParetoNBDModel.log_likelihood_terms(PUBLISHED, data)))


def test_it_recovers_the_published_parameters_from_simulated_customers():
    # Dropout is slow next to 39 weeks, so s and beta need a longer window than BG/NBD to be pinned down.
    data = simulate_pareto_nbd(PUBLISHED, n_customers=10_000, T=78.0, seed=12)

    model = ParetoNBDModel().fit(data.frequency, data.recency, data.T)

    r, alpha, s, beta = model.params_
    assert r == pytest.approx(PUBLISHED[0], rel=0.15)
    assert alpha == pytest.approx(PUBLISHED[1], rel=0.15)
    # s and beta are only weakly identified one by one; the mean dropout rate s / beta is well identified.
    assert s / beta == pytest.approx(PUBLISHED[2] / PUBLISHED[3], rel=0.2)
    at_truth = ParetoNBDModel.log_likelihood_terms(PUBLISHED, data).sum()
    assert at_truth <= model.log_likelihood_
    assert model.log_likelihood_ - at_truth < 5.0


def test_it_predicts_purchases_of_a_new_customer_like_the_process_does():
    model = ParetoNBDModel()
    model.params_ = PUBLISHED
    simulated = simulate_pareto_nbd(PUBLISHED, n_customers=50_000, T=39.0, seed=5)

    zero = np.zeros(1)

    assert model.expected_purchases(39.0, zero, zero, zero)[0] == pytest.approx(simulated.frequency.mean(), rel=0.05)
    assert model.probability_of_purchase(39.0, zero, zero, zero)[0] == pytest.approx(
        (simulated.frequency > 0).mean(), abs=0.01
    )
