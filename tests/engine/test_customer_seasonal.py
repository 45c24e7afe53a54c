from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.engine.customer.btyd import BetaGeoModel, ParetoNBDModel
from forecasting.engine.customer.features import repeat_purchase_summary
from forecasting.engine.customer.seasonal import SeasonalTimeChange

START = pd.Timestamp("2021-01-01")
SEASON_DAYS = 90
# The season is the first 90 days of every 365-day cycle counted from START; the data start just after one, so
# the model fitted a year before the cutoff has only seen the off-season rate.
DATA_START_DAY = SEASON_DAYS
CUTOFF = START + pd.Timedelta(days=730)


def seasonal_shop(n_customers: int = 1500, *, peak: float = 2.0, end_day: float = 820, seed: int = 3) -> pd.DataFrame:
    """Customers join between day 90 and 200 and buy as a Poisson process at their own rate, `peak` times that
    rate in the season; no one leaves. Thinning a Poisson process at the peak rate gives the seasonal process."""
    rng = np.random.default_rng(seed)
    rows = []
    for number in range(n_customers):
        joined = rng.uniform(DATA_START_DAY, 200)
        rate = rng.gamma(2.0, 1 / 60)
        times = [joined]
        day = joined
        while (day := day + rng.exponential(1 / (rate * peak))) < end_day:
            in_season = (day % 365) < SEASON_DAYS
            if in_season or rng.random() < 1 / peak:
                times.append(day)
        rows.extend((f"c{number}", START + pd.Timedelta(days=value), 20.0, False) for value in times)
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "is_return"])


@pytest.fixture(scope="module")
def shop() -> pd.DataFrame:
    return seasonal_shop()


def test_it_leaves_the_clock_alone_without_a_year_and_a_window_of_history(shop):
    cutoff = START + pd.Timedelta(days=365 + DATA_START_DAY + 60)
    model = SeasonalTimeChange("bg_nbd").fit(shop, cutoff=cutoff)

    assert model.intensity(90) == 1.0
    assert "history starts" in model.estimate(90)["reason"]
    # 60 days of history before last year's cutoff: enough for a 30-day window, or with a shorter requirement.
    assert "raw_intensity" in model.estimate(30)
    relaxed = SeasonalTimeChange("bg_nbd", min_calibration_days=30).fit(shop, cutoff=cutoff)
    assert "raw_intensity" in relaxed.estimate(90)


def test_it_recovers_a_doubled_purchase_rate_in_the_season(shop):
    for base in ("bg_nbd", "pareto_nbd"):
        model = SeasonalTimeChange(base).fit(shop, cutoff=CUTOFF)

        estimate = model.estimate(SEASON_DAYS)
        assert estimate["intensity"] == pytest.approx(2.0, abs=0.2)
        assert estimate["last_year_actual"] == pytest.approx(2 * estimate["last_year_stationary"], rel=0.12)
        assert estimate["shrinkage_weight"] > 0.95


def test_it_finds_no_season_in_a_stationary_shop():
    flat = seasonal_shop(peak=1.0, seed=5)

    model = SeasonalTimeChange("bg_nbd").fit(flat, cutoff=CUTOFF)

    assert model.intensity(SEASON_DAYS) == pytest.approx(1.0, abs=0.12)


def test_it_shrinks_a_small_shops_intensity_towards_one():
    small = seasonal_shop(n_customers=40, seed=7)

    loose = SeasonalTimeChange("bg_nbd", prior_log_scale=5.0).fit(small, cutoff=CUTOFF).estimate(SEASON_DAYS)
    tight = SeasonalTimeChange("bg_nbd", prior_log_scale=0.05).fit(small, cutoff=CUTOFF).estimate(SEASON_DAYS)

    assert loose["raw_intensity"] == tight["raw_intensity"]
    assert tight["shrinkage_weight"] < loose["shrinkage_weight"]
    assert abs(np.log(tight["intensity"])) < abs(np.log(loose["intensity"]))


def test_it_never_looks_past_the_cutoff(shop):
    before = shop[shop["timestamp"] < CUTOFF]

    with_future = SeasonalTimeChange("bg_nbd").fit(shop, cutoff=CUTOFF)
    without_future = SeasonalTimeChange("bg_nbd").fit(before, cutoff=CUTOFF)

    assert with_future.estimate(SEASON_DAYS) == without_future.estimate(SEASON_DAYS)
    pd.testing.assert_series_equal(
        with_future.expected_purchases(SEASON_DAYS), without_future.expected_purchases(SEASON_DAYS)
    )
    pd.testing.assert_series_equal(
        with_future.probability_of_purchase(SEASON_DAYS), without_future.probability_of_purchase(SEASON_DAYS)
    )


@pytest.mark.parametrize("model_class", [BetaGeoModel, ParetoNBDModel])
def test_it_predicts_the_stationary_model_at_the_operational_horizon(shop, model_class):
    seasonal = SeasonalTimeChange(model_class.name).fit(shop, cutoff=CUTOFF)
    summary = repeat_purchase_summary(shop, cutoff=CUTOFF)
    arrays = (summary["frequency"], summary["recency"], summary["T"])
    stationary = model_class().fit(*arrays)
    s = seasonal.intensity(SEASON_DAYS)

    np.testing.assert_allclose(
        seasonal.expected_purchases(SEASON_DAYS), stationary.expected_purchases(s * SEASON_DAYS, *arrays), rtol=1e-6
    )
    np.testing.assert_allclose(
        seasonal.probability_of_purchase(SEASON_DAYS),
        stationary.probability_of_purchase(s * SEASON_DAYS, *arrays),
        rtol=1e-6,
    )
    np.testing.assert_allclose(seasonal.p_alive(), stationary.p_alive(*arrays), rtol=1e-9)
    # No one leaves in this shop, so doubling the clock about doubles the expected purchases.
    ratio = seasonal.expected_purchases(SEASON_DAYS).sum() / stationary.expected_purchases(SEASON_DAYS, *arrays).sum()
    assert ratio == pytest.approx(s, rel=0.1)
    actual = shop[(shop["timestamp"] >= CUTOFF) & (shop["timestamp"] < CUTOFF + pd.Timedelta(days=SEASON_DAYS))]
    seasonal_error = seasonal.expected_purchases(SEASON_DAYS).sum() / len(actual) - 1
    stationary_error = stationary.expected_purchases(SEASON_DAYS, *arrays).sum() / len(actual) - 1
    assert stationary_error < -0.35
    # The fit at the cutoff has seen one season in its history while last year's fit had seen none, so its base
    # rate is already a little higher and the time change overshoots by about the season's share of that history.
    assert 0 < seasonal_error < 0.2


def test_it_rejects_bad_settings_and_windows_past_the_cutoff(shop):
    with pytest.raises(ValueError, match="base must be one of"):
        SeasonalTimeChange("arima").fit(shop, cutoff=CUTOFF)
    with pytest.raises(ValueError, match="clip"):
        SeasonalTimeChange(clip=(1.5, 3.0)).fit(shop, cutoff=CUTOFF)
    model = SeasonalTimeChange().fit(shop, cutoff=CUTOFF)
    with pytest.raises(ValueError, match="past the cutoff"):
        model.intensity(400)
    with pytest.raises(ValueError, match="no customer purchased"):
        SeasonalTimeChange().fit(shop, cutoff=START)
