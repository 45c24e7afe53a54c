from __future__ import annotations

import numpy as np
import pytest

from forecasting.engine.covariates import (
    DEFAULT_SPREAD,
    FLAG,
    NUMERIC,
    PRICE,
    CampaignScores,
    covariate_features,
    fit_covariate_effects,
    infer_kinds,
    local_baseline,
)

LIFT = 0.7
DIP = -0.3


def promoted_panel(
    n: int, periods: int, seed: int, *, share: float = 0.1, lift: float = LIFT, dip: float = DIP
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson demand on a slowly moving level, lifted by exp(lift) in promoted periods and by exp(dip) in the
    period after a promotion ends; returns values (n, T) and the flag (n, T, 1)."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(3.0, 30.0, size=(n, 1)) * np.exp(0.2 * np.sin(np.arange(periods) / 10.0))[None, :]
    promo = (rng.random((n, periods)) < share).astype(float)
    after = np.concatenate([np.zeros((n, 1)), promo[:, :-1]], axis=1) * (1.0 - promo)
    values = rng.poisson(level * np.exp(lift * promo + dip * after)).astype(float)
    return values, promo[:, :, None]


def fit(values: np.ndarray, covariates: np.ndarray, kinds=None):
    features, names = covariate_features(covariates, kinds or infer_kinds(covariates), names=["promo"])
    return fit_covariate_effects(values, features, names=names), features


def test_it_recovers_a_planted_promotion_lift_and_post_promotion_dip():
    values, flags = promoted_panel(40, 150, seed=0)
    effects, _ = fit(values, flags)
    assert effects.names == ("promo", "promo:after")
    assert abs(effects.pooled[0] - LIFT) < 0.08
    assert abs(effects.pooled[1] - DIP) < 0.08
    assert np.all(np.abs(effects.effects[:, 0] - LIFT) < 0.15)
    # standard errors: positive, and the truth within three of them
    assert 0 < effects.pooled_se[0] < 0.05
    assert np.all(effects.effects_se > 0)
    assert np.mean(np.abs(effects.effects[:, 0] - LIFT) < 3 * effects.effects_se[:, 0]) > 0.9


def test_it_shrinks_a_series_with_one_promotion_towards_the_pooled_effect():
    values, flags = promoted_panel(30, 150, seed=1)
    rng = np.random.default_rng(7)
    lonely = rng.poisson(10.0, size=150).astype(float)
    lonely[75] = 60.0  # one promotion that sold six times the level: alone it says log 6 = 1.8
    lonely_flag = np.zeros((1, 150, 1))
    lonely_flag[0, 75, 0] = 1.0
    effects, _ = fit(np.vstack([values, lonely]), np.concatenate([flags, lonely_flag]))
    own = np.log(6.0)
    lonely_effect = effects.effects[-1, 0]
    assert effects.pooled[0] < lonely_effect < own
    assert abs(lonely_effect - effects.pooled[0]) < abs(lonely_effect - own)
    # with one promotion the series is less sure of its lift than a series with fifteen; the effects of the others
    # agree, so the spread between series, and the lonely series' uncertainty with it, stays small
    assert effects.effects_se[-1, 0] > np.median(effects.effects_se[:-1, 0])
    assert effects.spread[0] < 0.1


def test_a_series_without_promotions_gets_the_pooled_effect_with_the_spread_as_its_uncertainty():
    values, flags = promoted_panel(20, 120, seed=2)
    flags[0] = 0.0
    values[0] = np.random.default_rng(3).poisson(8.0, size=120)
    effects, _ = fit(values, flags)
    assert abs(effects.effects[0, 0] - effects.pooled[0]) < 1e-6
    assert effects.effects_se[0, 0] >= effects.spread[0]


def test_it_is_a_no_op_when_the_covariates_never_vary():
    values, _ = promoted_panel(10, 80, seed=3)
    covariates = np.stack([np.zeros((10, 80)), np.full((10, 80), 2.5)], axis=-1)
    features, names = covariate_features(covariates, (FLAG, PRICE), names=["promo", "price"])
    effects = fit_covariate_effects(values, features, names=names)
    assert names == ("promo", "promo:after", "log(price/regular)")
    assert np.all(effects.effects == 0.0)
    assert np.all(np.isnan(effects.effects_se))
    assert np.all(effects.factors(features) == 1.0)
    assert effects.summary(0)["promo"] == {
        "effect": 0.0,
        "se": None,
        "pooled": 0.0,
        "pooled_se": None,
        "episode_sd": None,
    }


def test_it_tolerates_nans_and_all_zero_series():
    values, flags = promoted_panel(30, 150, seed=4)
    rng = np.random.default_rng(5)
    values[rng.random(values.shape) < 0.1] = np.nan
    values[0] = 0.0
    values[1] = np.nan
    flags = flags.copy()
    flags[rng.random(flags.shape) < 0.05] = np.nan
    effects, features = fit(values, flags)
    assert np.isfinite(effects.effects).all()
    assert np.isfinite(effects.effects_se).all()
    assert abs(effects.pooled[0] - LIFT) < 0.12
    assert np.isfinite(effects.factors(features)).all()


def test_it_derives_the_after_flag_and_the_log_price_ratio():
    flag = np.array([0, 1, 1, 0, 0, 1, 0], dtype=float)
    price = np.array([2.0, 1.5, 1.5, 2.0, np.nan, 1.0, 2.2])
    features, names = covariate_features(np.stack([flag, price], axis=-1)[None], (FLAG, PRICE), price_window=3)
    assert names == ("x0", "x0:after", "log(x1/regular)")
    np.testing.assert_array_equal(features[0, :, 1], [0, 0, 0, 1, 0, 0, 1])
    # regular price: the largest of the trailing three periods; a missing price has no effect
    expected = np.log([1.0, 0.75, 0.75, 1.0, 1.0, 0.5, 1.0])
    expected[4] = 0.0
    np.testing.assert_allclose(features[0, :, 2], expected)


def test_it_infers_flags_prices_and_numeric_columns():
    covariates = np.stack([np.array([0.0, 1.0, np.nan]), np.array([1.2, 0.9, 1.1]), np.array([-1.0, 0.0, 2.0])], -1)
    assert infer_kinds(covariates) == (FLAG, PRICE, NUMERIC)


def test_the_baseline_leaves_the_period_itself_out():
    values = np.array([[10.0, 10.0, 40.0, 10.0, 10.0]])
    baseline = local_baseline(values, np.zeros_like(values), window=2)
    assert baseline[0, 2] == 10.0
    # and divides its neighbours by their factors
    deflated = local_baseline(values, np.log([[1.0, 1.0, 4.0, 1.0, 1.0]]), window=1)
    assert deflated[0, 1] == 10.0


def test_series_whose_lifts_differ_keep_their_own_and_the_spread_says_so():
    low, low_flags = promoted_panel(15, 150, seed=8, lift=0.3)
    high, high_flags = promoted_panel(15, 150, seed=9, lift=1.1)
    effects, _ = fit(np.vstack([low, high]), np.concatenate([low_flags, high_flags]))
    assert effects.spread[0] > 0.2
    assert np.all(np.abs(effects.effects[:15, 0] - 0.3) < 0.2)
    assert np.all(np.abs(effects.effects[15:, 0] - 1.1) < 0.2)


def campaign_panel(n: int, periods: int, seed: int, *, spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Poisson demand on a slowly moving level; every 11-13 periods a campaign of 1-3 periods promotes a third of
    the series at once with the log lift LIFT + spread x N(0, 1), one draw per campaign shared by its series."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(5.0, 30.0, size=(n, 1)) * np.exp(0.2 * np.sin(np.arange(periods) / 10.0))[None, :]
    flag, log_lift = np.zeros((n, periods)), np.zeros((n, periods))
    start = 5
    while start < periods - 8:
        length = int(rng.integers(1, 4))
        chosen = rng.random(n) < 0.3
        flag[chosen, start : start + length] = 1.0
        log_lift[chosen, start : start + length] = LIFT + spread * rng.standard_normal()
        start += length + 10
    return rng.poisson(level * np.exp(log_lift)).astype(float), flag[:, :, None]


def test_it_measures_no_spread_between_campaigns_that_lifted_alike():
    for seed in range(3):
        effects, _ = fit(*campaign_panel(20, 300, seed, spread=0.0))
        assert effects.episode_sd[0] < 0.05
        # the period after a promotion marks no episode of its own
        assert np.isnan(effects.episode_sd[1])


def test_it_measures_the_spread_between_campaigns():
    # about 25 campaigns: the standard deviation of 25 draws of sd 0.3 is within 0.1 of it with probability 0.98
    # (its standard error is 0.3 / sqrt(50)); the Poisson noise of each campaign is measured and taken out
    for seed in range(3):
        effects, _ = fit(*campaign_panel(20, 300, seed, spread=0.3))
        assert abs(effects.episode_sd[0] - 0.3) < 0.1
        assert effects.summary(0)["promo"]["episode_sd"] == pytest.approx(effects.episode_sd[0])


def test_it_learns_the_whole_lift_of_campaigns_longer_than_the_baseline_window():
    # inside a 14-day campaign a 7-day window sees mostly promoted neighbours: the baseline and the effect must be
    # iterated until they agree, not a fixed few rounds (three rounds learnt half of this lift)
    rng = np.random.default_rng(11)
    flags = np.zeros((20, 400))
    for row in range(20):
        start = int(rng.integers(5, 30))
        while start < 380:
            flags[row, start : start + 14] = 1.0
            start += 14 + int(rng.integers(30, 60))
    values = rng.poisson(rng.uniform(5.0, 30.0, size=(20, 1)) * np.exp(LIFT * flags)).astype(float)
    features, names = covariate_features(flags[:, :, None], (FLAG,), names=["promo"])
    effects = fit_covariate_effects(values, features, names=names, window=7)
    assert abs(effects.pooled[0] - LIFT) < 0.05
    assert abs(effects.pooled[1]) < 0.05
    assert effects.episode_sd[0] < 0.1


def test_the_error_of_the_pooled_effect_counts_campaigns_not_series_when_their_lifts_differ():
    values, flags = campaign_panel(20, 300, 0, spread=0.3)
    campaigns = int(np.sum(np.diff(flags[:, :, 0].max(axis=0)) > 0))
    effects, _ = fit(values, flags)
    steady, _ = fit(*campaign_panel(20, 300, 0, spread=0.0))
    # a mean over the campaigns' own deviations is uncertain by about 0.3 / sqrt(campaigns), whatever the series count
    assert 0.7 * 0.3 / np.sqrt(campaigns) < effects.pooled_se[0] < 1.5 * 0.3 / np.sqrt(campaigns)
    assert steady.pooled_se[0] < 0.02


def test_it_scores_every_past_campaign_as_if_it_were_the_next_one():
    # 20 series x 300 periods: about 25 campaigns, each lifting a third of the series by its own deviation
    varying, _ = fit(*campaign_panel(20, 300, 0, spread=0.3))
    steady, _ = fit(*campaign_panel(20, 300, 0, spread=0.0))
    for effects in (varying, steady):
        scores = effects.campaign_scores
        assert 20 <= len(scores) <= 30
        assert np.all(np.isfinite(scores.residual))
        assert np.all(scores.model_variance > 0)
        assert np.all(scores.noise_variance > 0)
    # held out, a campaign's log lift misses the pooled effect by its own deviation (sd 0.3) plus a little noise
    assert 0.2 < np.std(varying.campaign_scores.residual) < 0.45
    assert np.std(steady.campaign_scores.residual) < 0.1
    # the model's episode spread explains the deviations: the extra spread is only what 25 campaigns cannot rule
    # out (its posterior root mean square), well under the deviations themselves
    assert rms(steady.campaign_scores) < 0.05
    assert rms(varying.campaign_scores) < 0.5 * np.std(varying.campaign_scores.residual)


def _scores(residual: np.ndarray, model: float, noise: float) -> CampaignScores:
    count = len(residual)
    return CampaignScores(residual, np.full(count, model), np.full(count, noise))


def rms(scores: CampaignScores) -> float:
    grid, weights = scores.spread_posterior()
    assert weights.sum() == pytest.approx(1.0)
    return float(np.sqrt(np.sum(weights * grid**2)))


def test_the_posterior_spread_recovers_a_deviation_the_model_leaves_out():
    rng = np.random.default_rng(0)
    model, noise = 0.05**2, 0.1**2
    # 400 campaigns whose log lifts deviate by sd 0.2 beyond the model's and the noise's variance
    missing = _scores(rng.normal(0.0, np.sqrt(model + noise + 0.2**2), 400), model, noise)
    assert rms(missing) == pytest.approx(0.2, abs=0.04)
    explained = _scores(rng.normal(0.0, np.sqrt(model + noise), 400), model, noise)
    assert rms(explained) < 0.05


def test_a_few_noisy_campaigns_leave_the_spread_uncertain_rather_than_zero():
    # six campaigns whose measurement noise (sd 0.3) swamps any deviation: a point estimate would say 0, but the
    # next campaign's interval must still allow the spread that six noisy campaigns cannot rule out
    residual = np.array([0.1, -0.2, 0.05, 0.25, -0.1, 0.0])
    few = rms(_scores(residual, 0.05**2, 0.3**2))
    assert 0.08 < few < DEFAULT_SPREAD
    # the same residuals measured without noise do rule out a large spread only when there are many of them
    many = rms(_scores(np.tile(residual, 40), 0.05**2, 0.3**2))
    assert many < few
