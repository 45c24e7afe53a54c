from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.customer.btyd import BetaGeoModel, ParetoNBDModel


def fitted(model_class, params):
    model = model_class()
    model.params_ = params
    return model


BGNBD = fitted(BetaGeoModel, (0.243, 4.414, 0.793, 2.426))
PARETO = fitted(ParetoNBDModel, (0.55, 10.58, 0.61, 11.67))


def test_it_keeps_a_bgnbd_customer_without_repeat_purchases_alive():
    p_alive = BGNBD.p_alive([0, 0], [0.0, 0.0], [5.0, 39.0])

    assert p_alive.tolist() == [1.0, 1.0]


def test_it_gives_the_highest_p_alive_to_a_purchase_at_the_end_of_calibration():
    recency = np.linspace(0.5, 39.0, 40)
    for model in (BGNBD, PARETO):
        p_alive = model.p_alive(np.full(40, 3.0), recency, np.full(40, 39.0))

        assert p_alive.argmax() == recency.size - 1
        assert np.all(np.diff(p_alive) > 0)
    assert PARETO.p_alive([3.0], [39.0], [39.0])[0] == pytest.approx(1.0)


def test_it_lowers_p_alive_the_longer_a_pareto_customer_without_repeat_purchases_is_silent():
    p_alive = PARETO.p_alive(np.zeros(3), np.zeros(3), [1.0, 10.0, 39.0])

    assert p_alive[0] > p_alive[1] > p_alive[2]


def test_it_expects_more_purchases_from_a_recent_frequent_customer():
    frequency = np.array([1.0, 6.0, 6.0])
    recency = np.array([38.0, 10.0, 38.0])
    T = np.full(3, 39.0)
    for model in (BGNBD, PARETO):
        expected = model.expected_purchases(13.0, frequency, recency, T)
        probability = model.probability_of_purchase(13.0, frequency, recency, T)

        assert expected[2] > expected[0]
        assert expected[2] > expected[1]
        assert probability[2] > probability[1]
        assert np.all((probability > 0) & (probability < 1))
