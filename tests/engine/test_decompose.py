from __future__ import annotations

import numpy as np

from forecasting.engine.decompose import decompose_series, explain_series

PATTERN = np.array([0.0, 2.0, 5.0, 1.0, 0.0, 9.0, 3.0])


def test_it_splits_a_series_into_trend_season_and_remainder():
    y = 10 + 0.1 * np.arange(84) + np.tile(PATTERN - PATTERN.mean(), 12)

    parts = decompose_series(y, season_length=7)

    np.testing.assert_allclose(parts.trend + parts.seasonal[7] + parts.remainder, y, atol=1e-8)
    np.testing.assert_allclose(parts.seasonal[7][-7:], PATTERN - PATTERN.mean(), atol=0.3)
    np.testing.assert_allclose(parts.trend[10:-10], (10 + 0.1 * np.arange(84))[10:-10], atol=0.3)


def test_it_adds_a_yearly_season_for_two_years_of_daily_data():
    days = np.arange(2 * 365 + 10)
    y = 50 + 10 * np.sin(2 * np.pi * days / 365) + np.tile(PATTERN, 200)[: days.size]

    parts = decompose_series(y, season_length=7)

    assert sorted(parts.seasonal) == [7, 365]
    assert np.ptp(parts.seasonal[365]) > 15


def test_it_returns_the_series_as_trend_when_too_short_for_a_season():
    parts = decompose_series(np.array([1.0, 4.0, np.nan, 2.0]), season_length=7)

    assert parts.seasonal == {}
    np.testing.assert_allclose(parts.trend, [1.0, 4.0, 3.0, 2.0])
    assert parts.as_dict()["observed"] == [1.0, 4.0, None, 2.0]


def test_it_explains_a_series_with_the_model_parameters():
    y = 20 + np.tile(PATTERN, 8) + np.random.default_rng(0).normal(0, 0.5, 56)

    explanation = explain_series(y, "holt_winters_add", season_length=7)

    assert explanation.model == "holt_winters_add"
    assert explanation.parameters["method"] == "ETS(A,A,A)"
    assert 0 <= explanation.parameters["gamma"] <= 1
    assert list(explanation.decomposition.seasonal) == [7]
