from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.customer.spend import GammaGammaModel, customer_lifetime_value


def test_it_computes_expected_spend_by_hand():
    model = GammaGammaModel()
    model.params_ = (6.25, 3.74, 15.44)  # FHL (2005) CDNOW Gamma-Gamma fit

    spend = model.expected_spend([0, 2, 10], [0.0, 50.0, 20.0])

    # (gamma + m x) p / (p x + q - 1)
    assert spend[0] == pytest.approx(15.44 * 6.25 / 2.74)
    assert spend[1] == pytest.approx((15.44 + 100.0) * 6.25 / (12.5 + 2.74))
    assert spend[2] == pytest.approx((15.44 + 200.0) * 6.25 / (62.5 + 2.74))
    assert model.population_mean_spend() == pytest.approx(spend[0])


def test_it_recovers_spend_parameters_from_simulated_customers():
    rng = np.random.default_rng(4)
    p, q, gamma = 6.25, 3.74, 15.44
    frequency = rng.integers(1, 8, 4000)
    nu = rng.gamma(q, 1 / gamma, 4000)
    monetary = np.array([rng.gamma(p, 1 / rate, count).mean() for rate, count in zip(nu, frequency, strict=True)])

    model = GammaGammaModel().fit(frequency, monetary)

    assert model.population_mean_spend() == pytest.approx(gamma * p / (q - 1), rel=0.1)


def test_it_discounts_lifetime_value():
    def steady_purchases(days: float) -> np.ndarray:
        return np.array([days / 30.0])

    undiscounted = customer_lifetime_value(
        steady_purchases, np.array([10.0]), horizon_days=360, annual_discount_rate=0.0
    )
    discounted = customer_lifetime_value(steady_purchases, np.array([10.0]), horizon_days=360, annual_discount_rate=0.1)

    assert undiscounted[0] == pytest.approx(120.0)
    expected = sum(10.0 / 1.1 ** (30 * month / 365) for month in range(1, 13))
    assert discounted[0] == pytest.approx(expected)
