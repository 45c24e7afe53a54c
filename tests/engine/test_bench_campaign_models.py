from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.bench.campaign_models import evaluate_models, identifiable_columns
from forecasting.bench.campaigns import sample_series

LIFT = 3.0
WEEKS = 104


def promoted_panel(*, series: int = 6, seed: int = 0) -> pd.DataFrame:
    """Weekly Poisson demand around a level per series, tripled in promoted weeks (a feature, a display or a 20 %
    price cut), with the promotions drawn at random so that every series has some in its history and its tests."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2020-01-01", periods=WEEKS, freq="7D")
    frames = []
    for index in range(series):
        level = rng.uniform(10.0, 30.0)
        kind = rng.integers(0, 4, WEEKS)
        promoted = rng.random(WEEKS) < 0.2
        feature = (promoted & (kind <= 1)).astype(float)
        display = (promoted & (kind == 2)).astype(float)
        tpr_only = (promoted & (kind == 3)).astype(float)
        price = np.where(promoted, 0.8, 1.0) * 3.5
        frames.append(
            pd.DataFrame(
                {
                    "unique_id": f"s{index}",
                    "ds": dates,
                    "y": rng.poisson(level * np.where(promoted, LIFT, 1.0)).astype(float),
                    "price": price,
                    "feature": feature,
                    "display": display,
                    "tpr_only": tpr_only,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def report() -> dict:
    neural = {
        "transformer": {
            "max_epochs": 6,
            "steps_per_epoch": 20,
            "batch_size": 32,
            "n_paths": 50,
            "threads": 1,
            "device": "cpu",
        }
    }
    return evaluate_models(
        promoted_panel(),
        horizon=8,
        windows=2,
        step=8,
        level=0.8,
        n_paths=50,
        seed=0,
        neural=neural,
        season_length=4,
    )


def test_it_scores_every_model_on_the_same_promoted_weeks(report: dict) -> None:
    assert list(report["models"]) == ["auto", "auto+covariates", "sarimax", "transformer"]
    assert report["cutoffs"] == ["2021-09-01", "2021-10-27"]
    assert report["rows"]["all"] == 6 * 2 * 8
    assert 10 <= report["rows"]["promoted"] <= 40
    assert "lift_interval" not in report["models"]["auto"]
    for name in ("auto+covariates", "sarimax", "transformer"):
        lift = report["models"][name]["lift_interval"]
        assert lift["promotions"] > 0
        assert lift["coverage"] + lift["below"] + lift["above"] == pytest.approx(1.0)


def test_it_finds_the_covariate_aware_models_better_on_promoted_weeks(report: dict) -> None:
    without = report["models"]["auto"]["promoted_weeks"]
    # auto without covariates forecasts the unpromoted level, about a third of a promoted week's demand
    assert without["bias"] < -0.4
    for name in ("auto+covariates", "sarimax", "transformer"):
        assert report["models"][name]["promoted_weeks"]["wape"] < without["wape"], name
        assert report["models"][name]["promoted_weeks"]["mae"] < without["mae"], name


def test_it_samples_the_series_as_the_campaigns_bench_does() -> None:
    panel = promoted_panel(series=5)
    chosen = sample_series(panel, size=3, seed=0)
    ids = np.sort(panel["unique_id"].unique())
    expected = np.random.default_rng(0).choice(ids, size=3, replace=False)
    assert sorted(chosen["unique_id"].unique()) == sorted(expected)
    assert len(chosen) == 3 * WEEKS
    assert sample_series(panel, size=10, seed=0) is panel


def test_it_drops_the_regressors_a_history_cannot_identify() -> None:
    rng = np.random.default_rng(0)
    feature = (rng.random(40) < 0.3).astype(float)
    display = (rng.random(40) < 0.3).astype(float)
    # the price cut always comes with the feature, and tpr_only never happens in this history
    history = np.column_stack([np.log(0.8) * feature, feature, display, np.zeros(40), display])
    assert identifiable_columns(history).tolist() == [0, 2]
