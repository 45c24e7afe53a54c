from __future__ import annotations

import math

import numpy as np
import pytest

from forecasting.engine.auto import AutoForecaster, split_candidate
from forecasting.engine.yearly import default_year_length, yearly_factor

YEAR = 364
H = 28
W = 28
SERIES = 100
CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "new", "dead")


def rotating_panel(counts: np.ndarray) -> np.ndarray:
    """(SERIES, len(counts)) panel of single-unit sales: on day t exactly counts[t] series sell one unit, a
    different set every day, so every series has sales and its typical (median) sale is 1."""
    series = np.arange(SERIES)[:, None]
    days = np.arange(len(counts))[None, :]
    return ((series - days) % SERIES < counts[None, :]).astype(float)


def ramp_counts(length: int, *, before: int = 20, after: int = 30) -> np.ndarray:
    """`before` sales a day, `after` a day in the h days that follow the panel end's date one year back."""
    counts = np.full(length, before)
    anchor = length - YEAR
    counts[anchor : anchor + H] = after
    return counts


def test_the_year_length_keeps_weekdays_aligned_for_daily_data():
    assert default_year_length(7) == 364
    assert default_year_length(52) == 52
    assert default_year_length(1) == 0
    assert AutoForecaster(season_length=7).year_length == 364
    assert AutoForecaster(season_length=52).year_length == 52


def test_factor_is_one_without_a_year_plus_horizon_plus_window_of_history():
    short = rotating_panel(ramp_counts(YEAR + H + W - 1))
    assert yearly_factor(short, H, year_length=YEAR, window=W) == 1.0
    # NaN padding before the first observation does not count as history
    padded = np.hstack([np.full((SERIES, 100), np.nan), short])
    assert yearly_factor(padded, H, year_length=YEAR, window=W) == 1.0
    # no year length (unknown frequency), an empty or an all-zero panel
    long = rotating_panel(ramp_counts(YEAR + H + W + 10))
    assert yearly_factor(long, H, year_length=0) == 1.0
    assert yearly_factor(np.zeros((0, 500)), H, year_length=YEAR) == 1.0
    assert yearly_factor(np.zeros((5, 500)), H, year_length=YEAR) == 1.0


def test_a_known_yearly_ramp_gives_the_shrunk_ratio():
    panel = rotating_panel(ramp_counts(YEAR + H + W + 30))
    factor = yearly_factor(panel, H, year_length=YEAR, window=W, neighbours=0, prior=100.0)
    # last year: 30 sales a day in the h days after the anchor, 20 in the W days before; 28 x 50 = 1,400 sales
    evidence = H * 30 + W * 20
    assert factor == pytest.approx(math.exp(evidence / (evidence + 100.0) * math.log(1.5)), rel=1e-12)
    # with the neighbouring anchors (+-7, +-14 days) part of the ramp falls outside the shifted windows
    smoothed = yearly_factor(panel, H, year_length=YEAR, window=W)
    assert 1.2 < smoothed < factor
    # a fall is read as well, and the factor stays within its bounds
    falling = rotating_panel(ramp_counts(YEAR + H + W + 30, before=40, after=10))
    assert yearly_factor(falling, H, year_length=YEAR, window=W, neighbours=0, prior=0.0) == pytest.approx(0.5)
    assert yearly_factor(falling, H, year_length=YEAR, window=W, neighbours=0, bounds=(0.8, 1.25)) == 0.8


def test_bulk_orders_are_capped_at_a_typical_sale():
    panel = rotating_panel(ramp_counts(YEAR + H + W + 30))
    anchor = panel.shape[1] - YEAR
    bulky = panel.copy()
    bulky[0, anchor - 5] = 5_000.0  # one bulk order in last year's window before the anchor
    assert yearly_factor(bulky, H, year_length=YEAR, window=W) == pytest.approx(
        yearly_factor(panel, H, year_length=YEAR, window=W)
    )


def test_series_launched_inside_last_years_windows_do_not_read_as_growth():
    panel = rotating_panel(np.full(YEAR + H + W + 30, 20))
    anchor = panel.shape[1] - YEAR
    launched = np.vstack([panel, np.full((50, panel.shape[1]), np.nan)])
    launched[SERIES:, anchor:] = 5.0  # fifty new SKUs selling from the anchor on
    assert yearly_factor(launched, H, year_length=YEAR, window=W) == pytest.approx(1.0)


def test_no_look_ahead_the_factor_at_an_internal_cutoff_ignores_later_data():
    panel = rotating_panel(ramp_counts(YEAR + H + W + 3 * H))
    forecaster = AutoForecaster(season_length=7, n_windows=3)
    routes = {"smooth": ("moving_average+year",)}
    factors = forecaster._year_factors(panel, H, routes)
    length = panel.shape[1]
    assert sorted(factors) == [length - 3 * H, length - 2 * H, length - H, length]
    for cutoff, factor in factors.items():
        assert factor == yearly_factor(panel[:, :cutoff], H, year_length=YEAR, window=W)
        changed = panel.copy()
        changed[:, cutoff:] = 1_000.0
        assert forecaster._year_factors(changed, H, routes)[cutoff] == factor
    # no `+year` candidate: nothing is computed
    assert forecaster._year_factors(panel, H, {"smooth": ("moving_average",)}) == {}


@pytest.mark.parametrize("base", ["moving_average", "ses+season"])
def test_year_composes_with_season_and_scales_the_forecast(base: str):
    rng = np.random.default_rng(3)
    weekly = np.tile([1.0, 1.2, 1.1, 1.4, 0.9, 0.3, 0.4], 70)[: YEAR + H + W + 60]
    counts = ramp_counts(len(weekly), before=40, after=60)
    panel = rotating_panel(counts) * np.round(5 * weekly)[None, :] + rng.integers(0, 2, (SERIES, len(weekly)))
    series = list(panel)
    forecaster = AutoForecaster(season_length=7, top_k=1, n_paths=0)
    without = forecaster.forecast(series, H, quantiles=(0.1, 0.5, 0.9))
    with_year = AutoForecaster(
        season_length=7, top_k=1, n_paths=0, candidates=dict.fromkeys(CLASSES, (f"{base}+year",))
    ).forecast(series, H, quantiles=(0.1, 0.5, 0.9))
    plain = AutoForecaster(season_length=7, top_k=1, n_paths=0, candidates=dict.fromkeys(CLASSES, (base,))).forecast(
        series, H, quantiles=(0.1, 0.5, 0.9)
    )
    factor = yearly_factor(panel, H, year_length=YEAR, window=W)
    assert factor > 1.2
    assert {result.model for result in with_year} == {f"{base}+year"}
    for scaled, unscaled in zip(with_year, plain, strict=True):
        np.testing.assert_allclose(scaled.forecast.mean, unscaled.forecast.mean * factor)
    # the default candidates carry no `+year` variant: the factor is opt-in
    assert all("+year" not in result.model for result in without)


def test_candidate_names_take_both_suffixes_in_any_order_and_reject_unknown_ones():
    assert split_candidate("ses") == ("ses", False, False)
    assert split_candidate("ses+season+year") == ("ses", True, True)
    assert split_candidate("ses+year+season") == ("ses", True, True)
    assert split_candidate("tsb+year") == ("tsb", False, True)
    for bad in ("ses+month", "ses+year+year", "+year"):
        with pytest.raises(ValueError, match="bad candidate"):
            split_candidate(bad)
