from __future__ import annotations

import numpy as np
import pytest
import torch

from forecasting.engine.neural.gpt import GPTForecaster, from_pretrained, pretrain, sample_tokens
from forecasting.engine.neural.synthetic import generate_corpus
from forecasting.engine.neural.tokenizer import PAD, ZERO, MeanScaleTokenizer
from forecasting.engine.neural.training import load_checkpoint
from tests.engine.promotion_panels import forecasts_with_and_without_promotion, mean_ratios, promotion_panel

HORIZON = 14
TINY = {
    "d_model": 32,
    "n_heads": 2,
    "n_layers": 1,
    "dropout": 0.0,
    "n_bins": 64,
    "max_scaled": 8.0,
    "horizon": HORIZON,
    "context_length": 28,
    "batch_size": 64,
    "steps_per_epoch": 20,
    "learning_rate": 1e-2,
    "patience": 100,
    "n_paths": 50,
    "device": "cpu",
    "threads": 1,
    "seed": 0,
}


def test_it_round_trips_values_within_half_a_bin_width_times_the_scale():
    tokenizer = MeanScaleTokenizer(n_bins=64, max_scaled=12.0)
    values = np.random.default_rng(0).gamma(0.8, 5.0, size=(20, 50))
    values[values < 1.0] = 0.0

    tokens, scale = tokenizer.encode(values)
    decoded = tokenizer.decode(tokens, scale)

    scaled = values / scale[:, None]
    in_range = scaled <= tokenizer.max_scaled
    bins = np.searchsorted(tokenizer.edges, scaled, side="left") - 1
    half_width = np.diff(tokenizer.edges)[np.clip(bins, 0, tokenizer.n_bins - 1)] / 2.0
    error = np.abs(decoded - values)
    assert in_range.mean() > 0.95
    assert np.all(error[in_range] <= (half_width * scale[:, None])[in_range] + 1e-12)
    assert np.all(decoded[values == 0.0] == 0.0)
    assert np.all(tokens[values == 0.0] == ZERO)


def test_it_scales_each_row_by_its_mean_observed_value_with_a_floor_and_one_without_sales():
    tokenizer = MeanScaleTokenizer(min_scale=0.5)

    scale = tokenizer.scale_of(
        np.array([[2.0, np.nan, 4.0], [0.3, 0.0, 0.0], [0.0, 0.0, 0.0], [np.nan, np.nan, np.nan]])
    )

    np.testing.assert_allclose(scale, [3.0, 0.5, 1.0, 1.0])


def test_it_maps_missing_values_to_pad_and_decodes_them_as_missing():
    tokenizer = MeanScaleTokenizer()

    tokens, scale = tokenizer.encode(np.array([np.nan, 1.0, np.inf, 0.0, -2.0]))

    assert tokens.tolist()[:1] + tokens.tolist()[2:] == [PAD, PAD, ZERO, ZERO]
    assert scale == pytest.approx(1.0)
    decoded = tokenizer.decode(tokens, scale)
    assert np.isnan(decoded[[0, 2]]).all()
    np.testing.assert_array_equal(decoded[3:], 0.0)


def test_it_decodes_every_token_but_pad_to_a_non_negative_value():
    tokenizer = MeanScaleTokenizer(n_bins=32)
    tokens = np.arange(1, tokenizer.vocab_size)

    decoded = tokenizer.decode(tokens, 7.5)

    assert decoded.shape == (tokenizer.vocab_size - 1,)
    assert np.all(decoded >= 0.0)
    assert np.all(np.diff(decoded) > 0.0)


def test_it_encodes_targets_with_the_context_scale():
    tokenizer = MeanScaleTokenizer()
    context = np.array([4.0, 4.0, 4.0])

    _, scale = tokenizer.encode(context)
    tokens, _ = tokenizer.encode(np.array([40.0, 400.0]), scale)

    assert tokens[0] < tokens[1] == tokenizer.vocab_size - 1
    assert tokenizer.decode(tokens[:1], scale)[0] == pytest.approx(40.0, rel=0.05)


def test_it_generates_the_same_corpus_for_the_same_seed():
    first = generate_corpus(12, 200, seed=3)
    second = generate_corpus(12, 200, seed=3)
    other = generate_corpus(12, 200, seed=4)

    for a, b in zip(first.series, second.series, strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.params == second.params
    assert any(not np.array_equal(a, b, equal_nan=True) for a, b in zip(first.series, other.series, strict=True))


def test_it_draws_each_series_from_its_own_stream_whatever_the_corpus_size():
    small = generate_corpus(3, 100, seed=9)
    large = generate_corpus(10, 100, seed=9)

    for a, b in zip(small.series, large.series[:3], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("freq", "length"), [("D", 365), ("W", 104)])
def test_it_generates_non_negative_counts_with_promotion_flags(freq, length):
    corpus = generate_corpus(40, length, freq=freq, seed=1)

    assert len(corpus) == 40
    assert corpus.freq == freq
    for values, flags, params in zip(corpus.series, corpus.covariates, corpus.params, strict=True):
        assert values.shape == (length,)
        assert flags.shape == (length, 1)
        assert set(np.unique(flags)) <= {0.0, 1.0}
        observed = values[~np.isnan(values)]
        assert np.all(observed >= 0.0)
        np.testing.assert_array_equal(observed, np.round(observed))
        assert np.isnan(values[: params.launch_at]).all()
        assert not np.isnan(values[params.launch_at :]).any()
        if params.discontinued_at is not None:
            np.testing.assert_array_equal(values[params.discontinued_at :], 0.0)


def test_it_raises_mean_demand_during_promotions():
    corpus = generate_corpus(300, 365, seed=2)

    ratios = [
        np.nanmean(values[flags[:, 0] == 1.0]) / np.nanmean(values[flags[:, 0] == 0.0])
        for values, flags in zip(corpus.series, corpus.covariates, strict=True)
        if 0 < flags.sum() < len(flags) and np.nanmean(values[flags[:, 0] == 0.0]) > 0
    ]

    assert len(ratios) > 50
    assert np.median(ratios) > 1.3


def test_it_makes_intermittent_series_mostly_zero_and_smooth_ones_mostly_positive():
    corpus = generate_corpus(300, 365, seed=5)
    zero_share = np.array([np.mean(values[~np.isnan(values)] == 0.0) for values in corpus.series])
    intermittent = np.array([params.intermittent for params in corpus.params])

    assert 0.2 < intermittent.mean() < 0.6
    assert 0.4 < np.median(zero_share[intermittent]) < 0.95
    assert np.median(zero_share[~intermittent]) < 0.2
    assert np.all(zero_share[intermittent] > 0.3)


def test_it_includes_launches_discontinuations_and_bulk_orders():
    params = generate_corpus(200, 365, seed=7).params

    assert sum(p.launch_at > 0 for p in params) > 20
    assert sum(p.discontinued_at is not None for p in params) > 10
    assert sum(p.n_bulk_orders > 0 for p in params) > 10
    assert sum(p.shift_at is not None for p in params) > 10


def test_it_rejects_an_unknown_frequency():
    with pytest.raises(ValueError, match="freq"):
        generate_corpus(2, 10, freq="M")


def seasonal_panel(n_series: int = 24, length: int = 140, seed: int = 0) -> list[np.ndarray]:
    """Poisson counts around a level with a strong weekly rhythm of random phase: naive misses, a model should not."""
    rng = np.random.default_rng(seed)
    days = np.arange(length)
    return [
        rng.poisson(rng.uniform(2.0, 20.0) * np.exp(0.6 * np.sin(2 * np.pi * (days + rng.integers(7)) / 7))).astype(
            float
        )
        for _ in range(n_series)
    ]


@pytest.fixture(scope="module")
def panel() -> list[np.ndarray]:
    return seasonal_panel()


@pytest.fixture(scope="module")
def fitted(panel) -> GPTForecaster:
    return GPTForecaster(max_epochs=6, **TINY).fit([values[:-HORIZON] for values in panel])


def test_it_tokenises_scaled_windows_on_the_tokenizer_grid(fitted):
    tokenizer = fitted.tokenizer
    scaled = np.random.default_rng(1).gamma(0.7, 1.5, size=(6, 40))
    scaled[scaled < 0.3] = 0.0
    observed = np.ones_like(scaled)
    observed[:, :5] = 0.0

    tokens = fitted.module_.tokens(torch.tensor(scaled, dtype=torch.float32), torch.tensor(observed))

    expected, _ = tokenizer.encode(np.where(observed > 0, scaled, np.nan), 1.0)
    np.testing.assert_array_equal(tokens.numpy(), expected)


def test_it_beats_the_naive_forecast_on_a_seasonal_panel(fitted, panel):
    history = [values[:-HORIZON] for values in panel]
    actual = np.array([values[-HORIZON:] for values in panel])

    forecasts = fitted.predict(HORIZON, history)

    model_mae = np.mean(np.abs(np.array([forecast.mean for forecast in forecasts]) - actual))
    naive_mae = np.mean(np.abs(np.array([np.repeat(values[-1], HORIZON) for values in history]) - actual))
    seasonal_naive_mae = np.mean(np.abs(np.array([np.tile(values[-7:], 2) for values in history]) - actual))
    assert model_mae < 0.6 * naive_mae
    assert model_mae < seasonal_naive_mae
    assert fitted.training_.validation_losses[-1] < fitted.training_.validation_losses[0]


def test_it_forecasts_non_negative_paths_and_ordered_quantiles_for_awkward_series(fitted, panel):
    spiky = panel[0].copy()
    spiky[[10, 50]] = [np.nan, 5000.0]
    contexts = [panel[1], np.zeros(60), np.array([3.0]), np.full(30, np.nan), spiky]

    forecasts = fitted.predict(HORIZON + 3, contexts, quantiles=(0.9, 0.1, 0.5))

    assert len(forecasts) == len(contexts)
    for forecast in forecasts:
        assert forecast.mean.shape == (HORIZON + 3,)
        assert forecast.quantile_levels == (0.1, 0.5, 0.9)
        assert forecast.quantiles.shape == (3, HORIZON + 3)
        assert forecast.paths.shape == (TINY["n_paths"], HORIZON + 3)
        assert np.all(np.isfinite(forecast.paths))
        assert np.all(forecast.paths >= 0.0)
        assert np.all(forecast.mean >= 0.0)
        assert np.all(np.diff(forecast.quantiles, axis=0) >= 0.0)
        assert forecast.info["model"] == "gpt"


def test_it_gives_the_same_forecasts_for_the_same_seed(panel):
    history = [values[:-HORIZON] for values in panel[:8]]
    settings = {**TINY, "max_epochs": 1, "steps_per_epoch": 5}

    first = GPTForecaster(**settings).fit(history).predict(7, history)
    second = GPTForecaster(**settings).fit(history).predict(7, history)
    other = GPTForecaster(**{**settings, "seed": 1}).fit(history).predict(7, history)

    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.paths, b.paths)
        np.testing.assert_array_equal(a.mean, b.mean)
    assert any(not np.array_equal(a.paths, b.paths) for a, b in zip(first, other, strict=True))


def test_it_forecasts_the_same_after_a_checkpoint_round_trip(fitted, panel, tmp_path):
    history = [values[:-HORIZON] for values in panel[:5]]

    path = fitted.save(tmp_path / "gpt.pt")
    loaded = GPTForecaster.load(path, device="cpu")

    assert loaded.get_params() == fitted.get_params()
    for a, b in zip(fitted.predict(HORIZON, history), loaded.predict(HORIZON, history), strict=True):
        np.testing.assert_array_equal(a.paths, b.paths)
        np.testing.assert_array_equal(a.quantiles, b.quantiles)


def test_it_pretrains_on_the_synthetic_corpus_and_fine_tunes_from_the_checkpoint(panel, tmp_path):
    operator = [values[:100] for values in panel[:4]]
    settings = {**TINY, "max_epochs": 2, "steps_per_epoch": 5}

    pretrained = pretrain(
        tmp_path / "pretrained.pt", n_series=30, length=120, series=operator, with_promotions=True, **settings
    )

    checkpoint = load_checkpoint(tmp_path / "pretrained.pt")
    assert checkpoint["name"] == "gpt"
    assert pretrained.scaler_.width == 1
    tuned = from_pretrained(tmp_path / "pretrained.pt", max_epochs=1)
    assert tuned.learning_rate == pytest.approx(TINY["learning_rate"] / 10)
    assert tuned.init_checkpoint == str(tmp_path / "pretrained.pt")

    promotions = [np.zeros((len(values), 1)) for values in operator]
    frozen = from_pretrained(tmp_path / "pretrained.pt", learning_rate=0.0, max_epochs=1).fit(operator, promotions)
    for key, value in frozen.module_.state_dict().items():
        torch.testing.assert_close(value, checkpoint["state_dict"][key])
    forecasts = tuned.fit(operator, promotions).predict(
        7, operator, X=promotions, X_future=[np.ones((7, 1)) for _ in operator]
    )
    assert all(np.all(forecast.paths >= 0.0) for forecast in forecasts)


def test_it_refuses_operator_covariates_that_do_not_match_the_promotion_flag(tmp_path):
    with pytest.raises(ValueError, match="one covariate column"):
        pretrain(
            tmp_path / "gpt.pt",
            n_series=2,
            length=50,
            series=[np.ones(50)],
            X=[np.ones((50, 2))],
            with_promotions=True,
            **TINY,
        )


def test_sampling_with_the_key_value_cache_gives_the_logits_of_a_full_causal_pass(fitted):
    module = fitted.module_.eval()
    generator = torch.Generator().manual_seed(3)
    tokens = torch.randint(1, fitted.tokenizer.vocab_size, (5, 12), generator=generator)
    conditioning = torch.randn(5, 12, module.conditioning.in_features, generator=generator)
    with torch.no_grad():
        full = module(tokens, conditioning)
        cache = module.cache(12)
        # the context in one pass, then one position at a time, each written into the cache in place
        steps = [module(tokens[:, :8], conditioning[:, :8], cache)]
        for position in range(8, 12):
            steps.append(module(tokens[:, position : position + 1], conditioning[:, position : position + 1], cache))
        last = module(tokens[:, :8], conditioning[:, :8], module.cache(12), last_only=True)
    assert cache.filled == 12
    torch.testing.assert_close(torch.cat(steps, dim=1), full, rtol=1e-4, atol=1e-4)
    # the context pass of sampling projects its last position only
    assert last.shape == (5, 1, fitted.tokenizer.vocab_size)
    torch.testing.assert_close(last, full[:, 7:8], rtol=1e-4, atol=1e-4)
    # several positions after a filled context would need a mask the causal flag does not give
    with pytest.raises(ValueError, match="empty cache"), torch.no_grad():
        module(tokens[:, :2], conditioning[:, :2], cache)


def test_paths_branched_from_a_shared_context_get_the_logits_of_their_own_full_causal_pass(fitted):
    module = fitted.module_.eval()
    generator = torch.Generator().manual_seed(4)
    size, n_paths, context, steps = 3, 4, 8, 4
    vocab = fitted.tokenizer.vocab_size
    width = module.conditioning.in_features
    context_tokens = torch.randint(1, vocab, (size, context), generator=generator)
    path_tokens = torch.randint(1, vocab, (size * n_paths, steps), generator=generator)
    conditioning = torch.randn(size, context + steps, width, generator=generator)
    with torch.no_grad():
        # every path's whole sequence in one causal pass: its context, then its own tokens
        whole = torch.cat([context_tokens.repeat_interleave(n_paths, dim=0), path_tokens], dim=1)
        full = module(whole, conditioning.repeat_interleave(n_paths, dim=0))
        cache = module.cache(context + steps)
        module(context_tokens, conditioning[:, :context], cache)
        branched = cache.branch(n_paths)
        path_conditioning = conditioning.repeat_interleave(n_paths, dim=0)
        stepped = [
            module(path_tokens[:, step : step + 1], path_conditioning[:, context + step : context + step + 1], branched)
            for step in range(steps)
        ]
    assert branched.filled == context + steps
    torch.testing.assert_close(torch.cat(stepped, dim=1), full[:, context:], rtol=1e-4, atol=1e-4)
    # the paths of one sequence differ in their own tokens, so their logits do too
    assert not torch.allclose(stepped[-1][0], stepped[-1][1])


def test_it_samples_tokens_in_proportion_to_their_probabilities():
    probabilities = torch.tensor([[0.0, 0.2, 0.0, 0.5, 0.3]]).repeat(20000, 1)
    torch.manual_seed(0)
    tokens = sample_tokens(probabilities)[:, 0]
    shares = torch.bincount(tokens, minlength=5).float() / len(tokens)
    # tokens of zero probability (PAD) are never drawn; the rest within 0.015 of their share (about 4 sd)
    assert shares[0] == 0
    assert shares[2] == 0
    torch.testing.assert_close(shares[[1, 3, 4]], torch.tensor([0.2, 0.5, 0.3]), rtol=0, atol=0.015)


def test_it_reads_quantiles_off_the_mixed_token_distribution():
    # tokens by value: PAD (never), ZERO, then bins; two rows' distributions
    probabilities = torch.tensor([[0.0, 0.5, 0.25, 0.25, 0.0], [0.0, 0.0, 0.1, 0.1, 0.8]])
    levels = torch.tensor([0.1, 0.5, 0.6, 0.9])

    tokens = GPTForecaster._mixture_tokens(probabilities, levels)

    assert tokens.tolist() == [[1, 1, 2, 3], [2, 4, 4, 4]]


def test_its_daily_quantiles_are_those_of_the_paths_mixed_distributions(fitted, panel, tmp_path):
    levels = (0.1, 0.5, 0.9)
    context = [values[:-HORIZON] for values in panel[:4]]
    saved = fitted.save(tmp_path / "gpt.pt")
    few = GPTForecaster.load(saved, n_paths=8, seed=1).predict(HORIZON, context, quantiles=levels)
    many = GPTForecaster.load(saved, n_paths=1000, seed=2).predict(HORIZON, context, quantiles=levels)

    for forecast, reference in zip(few, many, strict=True):
        assert forecast.paths.shape == (8, HORIZON)
        assert (np.diff(forecast.quantiles, axis=0) >= 0).all()
        # 8 paths' mixed laws against 1,000 paths' sampled tokens: the same daily quantiles within noise
        sampled = np.quantile(reference.paths, levels, axis=0)
        np.testing.assert_allclose(forecast.quantiles, sampled, rtol=0.25, atol=1.0)


def test_it_raises_the_forecast_on_promoted_future_days_when_the_history_says_so():
    series, flags = promotion_panel()
    model = GPTForecaster(max_epochs=8, **TINY).fit(series, flags)
    promoted_days = [2, 5, 9]

    with_promotion, without = forecasts_with_and_without_promotion(model, series, flags, HORIZON, promoted_days)

    lift = mean_ratios(with_promotion, without, promoted_days)
    calm = mean_ratios(with_promotion, without, [day for day in range(HORIZON) if day not in promoted_days])
    assert np.median(lift) > 1.8
    # the flag moves the promoted days, not the rest of the horizon
    assert np.median(calm) == pytest.approx(1.0, abs=0.2)
    with pytest.raises(ValueError, match="covariates"):
        model.predict(HORIZON, series)
