from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.customer.calibration import ProbabilityCalibrator


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_it_never_reorders_customers(method):
    rng = np.random.default_rng(0)
    scores = rng.random(4000)
    # Over-confident raw scores: the true probability is flatter than the score.
    outcomes = rng.random(4000) < 0.2 + 0.5 * scores

    calibrator = ProbabilityCalibrator(method).fit(scores, outcomes)
    grid = np.linspace(-0.1, 1.1, 500)
    calibrated = calibrator.transform(grid)

    assert np.all(np.diff(calibrated) >= 0)
    assert np.all((calibrated > 0) & (calibrated < 1))
    assert calibrator.transform([0.25, 0.75]) == pytest.approx([0.325, 0.575], abs=0.05)


def test_it_rejects_an_unknown_method():
    with pytest.raises(ValueError, match="unknown calibration method"):
        ProbabilityCalibrator("magic").fit([0.1, 0.9], [0, 1])
