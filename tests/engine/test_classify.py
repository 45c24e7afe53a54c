from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.classify import classify_panel, classify_series, demand_statistics
from forecasting.engine.models.common import to_panel

SMOOTH = np.full(60, 5.0)
ERRATIC = np.tile([1.0, 10.0], 30)
INTERMITTENT = np.tile([0.0, 0.0, 5.0], 20)
LUMPY = np.tile([0.0, 0.0, 1.0, 0.0, 0.0, 10.0], 10)
NEW = np.array([3.0, 1.0, 4.0, 2.0])
DEAD = np.r_[np.full(20, 4.0), np.zeros(60)]


def test_it_classifies_a_panel_by_adi_and_cv2():
    classes = classify_panel(to_panel([SMOOTH, ERRATIC, INTERMITTENT, LUMPY, NEW, DEAD]))

    assert classes.tolist() == ["smooth", "erratic", "intermittent", "lumpy", "new", "dead"]


def test_it_computes_adi_and_cv2_by_hand():
    stats = demand_statistics(to_panel([ERRATIC, LUMPY]))

    # sizes 1 and 10: mean 5.5, population variance 20.25
    np.testing.assert_allclose(stats["cv2"], [20.25 / 5.5**2] * 2)
    np.testing.assert_allclose(stats["adi"], [1.0, 3.0])
    np.testing.assert_array_equal(stats["days_since_demand"], [0, 0])


def test_it_takes_the_thresholds_as_parameters():
    assert classify_series(INTERMITTENT) == "intermittent"
    assert classify_series(INTERMITTENT, adi_threshold=3.5) == "smooth"
    assert classify_series(ERRATIC, cv2_threshold=0.7) == "smooth"
    assert classify_series(NEW, min_history=3) == "smooth"
    assert classify_series(DEAD, dead_after=61) == "intermittent"
    assert classify_series(DEAD, dead_after=60) == "dead"


@pytest.mark.parametrize(
    ("cycle", "expected"),
    [([5.0, 5.0, 5.0, 5.0, 0.0], "smooth"), ([5.0, 5.0, 5.0, 0.0], "intermittent"), ([5.0, 5.0, 0.0], "intermittent")],
)
def test_it_puts_the_adi_boundary_at_1_32(cycle, expected):
    # ADI 1.25, 1.33 and 1.5 days per demand
    assert classify_series(np.tile(cycle, 12)) == expected


def test_it_ignores_missing_days_in_the_history():
    y = np.r_[np.full(20, 3.0), np.full(20, np.nan)]

    stats = demand_statistics(y[None, :])

    assert stats["history"][0] == 20
    assert classify_series(y) == "new"
