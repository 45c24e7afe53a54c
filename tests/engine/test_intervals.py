from __future__ import annotations

import numpy as np

from forecasting.engine.intervals import conformal_quantiles, paths_from_residuals


def test_it_takes_conformal_order_statistics_per_step():
    residuals = np.repeat(np.arange(-4.0, 5.0)[:, None], 3, axis=1)

    quantiles = conformal_quantiles(np.array([10.0, 10.0, 10.0]), residuals, (0.9, 0.1, 0.5))

    np.testing.assert_allclose(quantiles, [[6.0] * 3, [10.0] * 3, [14.0] * 3])


def test_it_clips_conformal_quantiles_at_zero_and_keeps_them_ascending():
    residuals = np.array([[-5.0, 1.0], [3.0, -2.0], [1.0, np.nan]])

    quantiles = conformal_quantiles(np.array([2.0, 1.0]), residuals, (0.1, 0.5, 0.9))

    assert np.all(quantiles >= 0)
    assert np.all(np.diff(quantiles, axis=0) >= 0)
    np.testing.assert_allclose(quantiles[:, 0], [0.0, 3.0, 5.0])
    np.testing.assert_allclose(quantiles[:, 1], [0.0, 2.0, 2.0])


def test_it_uses_the_mean_where_a_step_has_no_residual():
    quantiles = conformal_quantiles(np.array([4.0, 5.0]), np.array([[1.0, np.nan]]), (0.1, 0.9))

    np.testing.assert_allclose(quantiles[:, 1], [5.0, 5.0])


def test_it_resamples_whole_residual_vectors_for_paths():
    residuals = np.array([[1.0, 1.0, 1.0], [-2.0, -2.0, -2.0], [3.0, 3.0, 3.0]])

    paths = paths_from_residuals(np.array([10.0, 10.0, 10.0]), residuals, 500, seed=1)

    deviations = paths - 10.0
    assert set(np.unique(deviations[:, 0])) == {-2.0, 1.0, 3.0}
    np.testing.assert_array_equal(deviations[:, 0], deviations[:, 2])
    np.testing.assert_allclose(np.std(paths.sum(axis=1)), 3 * np.std(paths[:, 0]))


def test_it_clips_paths_at_zero_and_is_deterministic():
    residuals = np.array([[-8.0, 2.0], [4.0, np.nan]])

    first = paths_from_residuals(np.array([3.0, 3.0]), residuals, 100, seed=7)
    second = paths_from_residuals(np.array([3.0, 3.0]), residuals, 100, seed=7)

    assert np.all(first >= 0)
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first[:, 0])) == {0.0, 7.0}
