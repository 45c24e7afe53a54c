"""Cannibalisation of a campaign's unpromoted category siblings on synthetic panels with a planted effect."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.auto import AutoForecaster
from forecasting.engine.cannibalisation import (
    DETECTED,
    NO_SIBLINGS,
    NOT_DETECTED,
    cannibalisation_forecast,
    sibling_flags,
)

LEVEL = 20.0
LIFT = 2.0
SIBLING_FACTOR = 0.7
WEEKS = 156
CATEGORIES = 4
MEMBERS = 4
HORIZON = 6
CAMPAIGN = 4


def _forecaster() -> AutoForecaster:
    return AutoForecaster(
        season_length=52,
        n_windows=2,
        covariate_names=("campaign",),
        covariate_kinds=("flag",),
        n_paths=200,
        seed=0,
        calibration_prior=20.0,
    )


def _panel(sibling_factor: float, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray], list[int]]:
    """Weekly Poisson demand around LEVEL; every 6 weeks each category promotes one member (in turn) for 2 weeks,
    x LIFT, while its other members sell x sibling_factor."""
    rng = np.random.default_rng(seed)
    flags = np.zeros((CATEGORIES * MEMBERS, WEEKS))
    for category in range(CATEGORIES):
        for turn, start in enumerate(range(2 + category, WEEKS - 2, 6)):
            flags[category * MEMBERS + turn % MEMBERS, start : start + 2] = 1.0
    categories = [row // MEMBERS for row in range(CATEGORIES * MEMBERS)]
    siblings = np.array(sibling_flags(list(flags), categories))
    rate = LEVEL * np.where(flags > 0, LIFT, 1.0) * np.where(siblings > 0, sibling_factor, 1.0)
    values = [row.astype(float) for row in rng.poisson(rate)]
    return values, [row[:, None] for row in flags], categories


def _plan(count: int, promoted: tuple[int, ...]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The horizon's covariates with the campaign (promoted rows flagged over the first CAMPAIGN weeks) and without."""
    on, off = [], []
    for row in range(count):
        flag = np.zeros((HORIZON, 1))
        if row in promoted:
            flag[:CAMPAIGN] = 1.0
        on.append(flag)
        off.append(np.zeros((HORIZON, 1)))
    return on, off


def _run(values, flags, categories, promoted=(0,)):
    on, off = _plan(len(values), promoted)
    count = len(values)
    return cannibalisation_forecast(
        values,
        flags,
        on,
        off,
        categories=categories,
        products=list(promoted),
        price=np.full(count, 10.0),
        unit_cost=np.full(count, 6.0),
        forecaster=_forecaster(),
    )


def test_it_flags_the_periods_when_another_member_of_the_category_is_promoted() -> None:
    promoted = [np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0]), np.array([1, 1])]
    flags = sibling_flags(promoted, ["a", "a", "b", None])
    assert flags[0].tolist() == [0, 0, 0, 1]
    assert flags[1].tolist() == [0, 1, 0, 0]
    assert flags[2].tolist() == [0, 0, 0, 0]
    assert flags[3].tolist() == [0, 0]
    shares = sibling_flags([*promoted[:2], np.array([0, 0, 0, 0])], ["a", "a", "a"], share=True)
    assert shares[2].tolist() == [0.0, 0.5, 1.0, 0.5]


def test_it_recovers_and_reports_a_planted_cannibalisation() -> None:
    values, flags, categories = _panel(SIBLING_FACTOR)
    result = _run(values, flags, categories)
    truth = np.log(SIBLING_FACTOR)
    assert result.status == DETECTED
    assert result.lower <= truth <= result.upper
    assert result.upper < 0
    assert sorted(loss.row for loss in result.siblings) == [1, 2, 3]
    # three siblings lose 30 % of LEVEL over the CAMPAIGN weeks
    expected = 3 * CAMPAIGN * LEVEL * (1.0 - SIBLING_FACTOR)
    assert result.units.mean == pytest.approx(expected, rel=0.2)
    assert result.units.contains(expected)
    assert result.units.lower > 0
    assert result.revenue.mean == pytest.approx(10.0 * result.units.mean)
    assert result.margin.mean == pytest.approx(4.0 * result.units.mean)
    assert result.margin_draws.shape == (200,)


def test_it_reports_not_detected_without_a_planted_effect() -> None:
    values, flags, categories = _panel(1.0, seed=1)
    result = _run(values, flags, categories)
    assert result.status == NOT_DETECTED
    assert result.lower <= 0.0 <= result.upper
    assert len(result.siblings) == 3


def test_it_has_nothing_to_report_for_a_product_alone_in_its_category() -> None:
    values, flags, categories = _panel(SIBLING_FACTOR)
    alone = [*categories[:-1], "alone"]
    result = _run(values, flags, alone, promoted=(len(values) - 1,))
    assert result.status == NO_SIBLINGS
    assert result.siblings == ()
    assert result.units is None


def test_it_reports_not_detected_without_an_estimate_when_no_sibling_was_ever_promoted_alone() -> None:
    values, flags, categories = _panel(1.0)
    # every member of a category promoted together: no period ever had a promoted sibling and an unpromoted one
    together = [
        np.max([flags[other] for other in range(len(flags)) if categories[other] == categories[row]], axis=0)
        for row in range(len(flags))
    ]
    result = _run(values, together, categories)
    assert result.status == NOT_DETECTED
    assert np.isnan(result.effect)
    assert np.isnan(result.upper)
    assert result.units.mean == 0.0
