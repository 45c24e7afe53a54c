from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecasting.engine import metrics

Y = np.array([2.0, 0.0, 4.0, 6.0])
F = np.array([1.0, 1.0, 5.0, 3.0])
# errors F - Y: -1, 1, 1, -3; |e| = 1, 1, 1, 3; sum |y| = 12


def test_it_computes_the_point_metrics_by_hand():
    assert metrics.mae(Y, F) == pytest.approx(6 / 4)
    assert metrics.mse(Y, F) == pytest.approx((1 + 1 + 1 + 9) / 4)
    assert metrics.rmse(Y, F) == pytest.approx(math.sqrt(3.0))
    # MAPE skips the zero actual: (1/2 + 1/4 + 3/6) / 3
    assert metrics.mape(Y, F) == pytest.approx((0.5 + 0.25 + 0.5) / 3)
    # sMAPE: 2|e| / (|y| + |f|): 2/3, 2/1, 2/9, 6/9
    assert metrics.smape(Y, F) == pytest.approx((2 / 3 + 2 + 2 / 9 + 6 / 9) / 4)
    assert metrics.wape(Y, F) == pytest.approx(6 / 12)
    assert metrics.bias(Y, F) == pytest.approx(-2 / 12)
    # R2 = 1 - SSE / SST, mean(y) = 3, SST = 1 + 9 + 1 + 9 = 20
    assert metrics.r2(Y, F) == pytest.approx(1 - 12 / 20)


def test_it_treats_zero_over_zero_as_no_error_in_smape():
    assert metrics.smape(np.array([0.0, 2.0]), np.array([0.0, 2.0])) == 0.0


def test_it_scales_mase_and_rmsse_by_the_in_sample_seasonal_naive_error():
    train = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    # season 2: differences y_t - y_{t-2} = 1, 2, 2 -> MAE scale 5/3, MSE scale 9/3 = 3
    assert metrics.seasonal_naive_scale(train, 2) == pytest.approx(5 / 3)
    assert metrics.seasonal_naive_scale(train, 2, power=2) == pytest.approx(3.0)
    assert metrics.mase(Y, F, train, 2) == pytest.approx((6 / 4) / (5 / 3))
    assert metrics.rmsse(Y, F, train, 2) == pytest.approx(math.sqrt(3.0 / 3.0))


def test_it_gives_nan_mase_for_a_constant_training_part():
    assert math.isnan(metrics.mase(Y, F, np.ones(10), 7))


def test_it_computes_pinball_and_weighted_quantile_loss_by_hand():
    y = np.array([10.0, 0.0])
    q_low = np.array([8.0, 1.0])
    q_high = np.array([12.0, 2.0])
    # level 0.1: y - q = 2 -> 0.2; y - q = -1 -> 0.9
    assert metrics.pinball_loss(y, q_low, 0.1) == pytest.approx((0.2 + 0.9) / 2)
    # level 0.9: y - q = -2 -> 0.2; -2 -> 0.2
    assert metrics.pinball_loss(y, q_high, 0.9) == pytest.approx(0.2)
    wql = metrics.weighted_quantile_loss(y, np.vstack([q_low, q_high]), [0.1, 0.9])
    assert wql == pytest.approx(((2 * 1.1 / 10) + (2 * 0.4 / 10)) / 2)


def test_it_computes_coverage_and_msis_by_hand():
    y = np.array([1.0, 5.0, 10.0, 3.0])
    lower = np.array([0.0, 6.0, 2.0, 3.0])
    upper = np.array([2.0, 8.0, 9.0, 4.0])
    assert metrics.coverage(y, lower, upper) == pytest.approx(2 / 4)
    train = np.array([0.0, 2.0, 4.0])  # season 1: |2|, |2| -> scale 2
    # widths 2, 2, 7, 1 = 12; penalties 2/0.2 * (6 - 5) = 10 and 10 * (10 - 9) = 10
    assert metrics.msis(y, lower, upper, train, 1, alpha=0.2) == pytest.approx((12 + 20) / 4 / 2)


def _long_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    days = pd.date_range("2024-01-01", periods=6, freq="D")
    train = pd.DataFrame({"unique_id": "a", "ds": days, "y": [1.0, 3.0, 2.0, 5.0, 4.0, 6.0]})
    table = pd.DataFrame(
        {
            "unique_id": "a",
            "cutoff": [days[3], days[3], days[4]],
            "ds": [days[4], days[5], days[5]],
            "y": [4.0, 6.0, 6.0],
            "model": "m",
            "mean": [5.0, 4.0, 7.0],
            "q0.1": [3.0, 3.0, 6.5],
            "q0.9": [6.0, 5.0, 8.0],
        }
    )
    return table, train


def test_it_scores_the_long_table_with_scales_up_to_each_cutoff():
    table, train = _long_table()
    scores = metrics.score_table(table, train, 1, (0.1, 0.9)).set_index("model").loc["m"]
    # cutoff day 4: train 1, 3, 2, 5 -> |diffs| 2, 1, 3 -> scale 2; MAE (1 + 2) / 2 -> 0.75
    # cutoff day 5: train adds 4 -> |diffs| 2, 1, 3, 1 -> scale 7/4; MAE 1 -> 4/7
    assert scores["MASE"] == pytest.approx((0.75 + 4 / 7) / 2)
    assert scores["WAPE"] == pytest.approx(4 / 16)
    assert scores["bias"] == pytest.approx(0 / 16)
    assert scores["COV80"] == pytest.approx(1 / 3)
    pinball_low = 0.1 * 1 + 0.1 * 3 + (0.1 - 1) * (6 - 6.5)
    pinball_high = (0.9 - 1) * (4 - 6) + 0.9 * (6 - 5) + (0.9 - 1) * (6 - 8)
    assert scores["WQL"] == pytest.approx((2 * pinball_low / 16 + 2 * pinball_high / 16) / 2)


def test_it_scores_per_group_and_per_series():
    table, train = _long_table()
    other = table.assign(unique_id="b", y=table["y"] * 2)
    both = pd.concat([table, other], ignore_index=True)
    train_both = pd.concat([train, train.assign(unique_id="b", y=train["y"] * 2)], ignore_index=True)
    by_group = metrics.score_table(both, train_both, 1, (0.1, 0.9), groups={"a": "smooth", "b": "lumpy"})
    assert sorted(by_group["group"]) == ["lumpy", "smooth"]
    by_series = metrics.score_table(both, train_both, 1, (0.1, 0.9), by="unique_id")
    assert by_series.set_index("unique_id").loc["a", "WAPE"] == pytest.approx(4 / 16)
    assert by_series.set_index("unique_id").loc["b", "WAPE"] == pytest.approx((3 + 8 + 5) / 32)


def test_it_names_quantile_columns_like_the_long_table():
    assert [metrics.quantile_column(level) for level in (0.1, 0.5, 0.9)] == ["q0.1", "q0.5", "q0.9"]
