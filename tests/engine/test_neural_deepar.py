from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from forecasting.engine.base import Forecast
from forecasting.engine.neural import NEURAL_MODEL_NAMES, make_neural_model, neural_model_class
from forecasting.engine.neural.deepar import (
    GruForecaster,
    LstmForecaster,
    negative_binomial_nll,
    sample_negative_binomial_block,
)
from forecasting.engine.neural.training import load_checkpoint, save_checkpoint
from tests.engine.promotion_panels import forecasts_with_and_without_promotion, mean_ratios, promotion_panel

CELLS = ("lstm", "gru")
HORIZON = 7
TINY = {
    "horizon": HORIZON,
    "hidden_size": 16,
    "num_layers": 1,
    "dropout": 0.0,
    "batch_size": 64,
    "max_epochs": 10,
    "steps_per_epoch": 10,
    "learning_rate": 1e-2,
    "patience": 20,
    "n_paths": 100,
    # daily quantiles from the paths themselves, so that day 1 of the cumulative ones is the daily one exactly
    "draws_per_path": 1,
    "device": "cpu",
    "threads": 1,
    "seed": 0,
}


def weekly_poisson_panel(n_series: int = 24, length: int = 147, seed: int = 0) -> list[np.ndarray]:
    """Poisson counts around a level (2 to 30 a day) times a strong weekly profile with a per-series phase."""
    rng = np.random.default_rng(seed)
    time_index = np.arange(length)
    series = []
    for _ in range(n_series):
        level = rng.uniform(2.0, 30.0)
        phase = rng.integers(0, 7)
        series.append(rng.poisson(level * (1.0 + 0.8 * np.sin(2 * np.pi * (time_index + phase) / 7))).astype(float))
    return series


@pytest.fixture(scope="module")
def seasonal_panel() -> list[np.ndarray]:
    return weekly_poisson_panel()


@pytest.fixture(scope="module", params=CELLS)
def fitted(request, seasonal_panel):
    """A tiny model of each cell trained on the seasonal panel without its last week (kept to score forecasts)."""
    model = make_neural_model(request.param, **TINY)
    return model.fit([values[:-HORIZON] for values in seasonal_panel])


def assert_valid(forecast: Forecast, h: int, levels: tuple[float, ...], n_paths: int | None) -> None:
    assert forecast.mean.shape == (h,)
    assert forecast.quantiles.shape == (len(levels), h)
    assert forecast.quantile_levels == levels
    arrays = [forecast.mean, forecast.quantiles]
    if n_paths is not None:
        assert forecast.paths.shape == (n_paths, h)
        arrays.append(forecast.paths)
    for array in arrays:
        assert np.isfinite(array).all()
        assert (array >= 0.0).all()
    assert (np.diff(forecast.quantiles, axis=0) >= 0.0).all()


def test_it_registers_lstm_and_gru_and_rejects_unknown_names():
    assert set(CELLS) <= set(NEURAL_MODEL_NAMES)
    assert neural_model_class("lstm") is LstmForecaster
    assert neural_model_class("gru") is GruForecaster
    with pytest.raises(KeyError, match="unknown neural model 'lstmm'"):
        make_neural_model("lstmm")


def test_it_stores_hyper_parameters_only_at_init():
    model = make_neural_model("gru", hidden_size=12, seed=3)

    assert model.get_params()["hidden_size"] == 12
    assert model.get_params()["seed"] == 3
    assert not [key for key in vars(model) if key.endswith("_")]
    with pytest.raises(RuntimeError, match="not fitted"):
        model.predict(3, [np.ones(10)])


def test_it_forecasts_non_negative_shapes_with_sorted_monotone_quantiles(fitted, seasonal_panel):
    levels = (0.9, 0.05, 0.5)
    contexts = [values[:-HORIZON] for values in seasonal_panel[:5]]

    forecasts = fitted.predict(10, contexts, quantiles=levels)

    assert len(forecasts) == 5
    for forecast in forecasts:
        assert_valid(forecast, 10, (0.05, 0.5, 0.9), TINY["n_paths"])
        assert forecast.info["model"] == fitted.name
        np.testing.assert_array_equal(forecast.paths, np.round(forecast.paths))
    assert fitted.n_parameters_ == sum(p.numel() for p in fitted.module_.parameters())
    assert fitted.training_.steps > 0
    assert fitted.training_.best_validation_loss is not None


def test_it_learns_a_weekly_seasonal_poisson_panel_clearly_better_than_naive(fitted, seasonal_panel):
    forecasts = fitted.predict(HORIZON, [values[:-HORIZON] for values in seasonal_panel])

    truth = np.array([values[-HORIZON:] for values in seasonal_panel])
    mean = np.array([forecast.mean for forecast in forecasts])
    naive = np.array([np.full(HORIZON, values[-HORIZON - 1]) for values in seasonal_panel])
    model_mae = np.abs(mean - truth).mean()
    naive_mae = np.abs(naive - truth).mean()
    assert model_mae < 0.6 * naive_mae
    # the median sits inside the central 80% band of the truth most of the time
    lower = np.array([forecast.quantiles[0] for forecast in forecasts])
    upper = np.array([forecast.quantiles[-1] for forecast in forecasts])
    assert 0.6 < np.mean((truth >= lower) & (truth <= upper)) <= 1.0


def test_it_does_not_change_the_global_torch_random_state(fitted, seasonal_panel):
    torch.manual_seed(1234)
    before = torch.get_rng_state()

    fitted.predict(HORIZON, seasonal_panel[:3])

    assert torch.equal(torch.get_rng_state(), before)
    make_neural_model("gru", **{**TINY, "max_epochs": 1, "steps_per_epoch": 2}).fit(seasonal_panel[:3])
    assert torch.equal(torch.get_rng_state(), before)


def test_it_forecasts_the_same_numbers_twice_from_one_model(fitted, seasonal_panel):
    first = fitted.predict(HORIZON, seasonal_panel[:4])
    second = fitted.predict(HORIZON, seasonal_panel[:4])

    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.paths, b.paths)
        np.testing.assert_array_equal(a.mean, b.mean)


@pytest.mark.parametrize("name", CELLS)
def test_it_trains_deterministically_for_a_given_seed(name, seasonal_panel):
    params = {**TINY, "max_epochs": 3, "steps_per_epoch": 4, "dropout": 0.2, "num_layers": 2}
    contexts = seasonal_panel[:8]

    first = make_neural_model(name, **params).fit(contexts)
    second = make_neural_model(name, **params).fit(contexts)
    other = make_neural_model(name, **{**params, "seed": 1}).fit(contexts)

    assert first.training_.train_losses == second.training_.train_losses
    for a, b in zip(first.predict(HORIZON, contexts), second.predict(HORIZON, contexts), strict=True):
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.quantiles, b.quantiles)
        np.testing.assert_array_equal(a.paths, b.paths)
    assert first.training_.train_losses != other.training_.train_losses


def test_it_round_trips_a_checkpoint_to_identical_forecasts_on_cpu(fitted, seasonal_panel, tmp_path):
    path = fitted.save(tmp_path / "nested" / f"{fitted.name}.pt")

    loaded = type(fitted).load(path, device="cpu")

    assert loaded.get_params() == {**fitted.get_params(), "device": "cpu"}
    assert loaded.n_parameters_ == fitted.n_parameters_
    assert loaded.training_.steps == fitted.training_.steps
    for a, b in zip(fitted.predict(HORIZON, seasonal_panel), loaded.predict(HORIZON, seasonal_panel), strict=True):
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.quantiles, b.quantiles)
        np.testing.assert_array_equal(a.paths, b.paths)
    other = GruForecaster if isinstance(fitted, LstmForecaster) else LstmForecaster
    with pytest.raises(ValueError, match="not"):
        other.load(path)


def test_it_refuses_a_checkpoint_of_an_unknown_format(tmp_path):
    path = save_checkpoint(tmp_path / "x.pt", name="lstm", params={}, meta={}, module=torch.nn.Linear(2, 1))
    payload = load_checkpoint(path)
    torch.save({**payload, "format": 99}, path)

    with pytest.raises(ValueError, match="unsupported checkpoint format 99"):
        load_checkpoint(path)


def test_it_fine_tunes_from_an_initial_checkpoint(fitted, seasonal_panel, tmp_path):
    path = fitted.save(tmp_path / "init.pt")
    params = {**TINY, "max_epochs": 1, "steps_per_epoch": 1, "learning_rate": 1e-9}

    tuned = make_neural_model(fitted.name, **params, init_checkpoint=str(path)).fit(seasonal_panel)

    for name, tensor in fitted.module_.state_dict().items():
        np.testing.assert_allclose(tuned.module_.state_dict()[name].numpy(), tensor.numpy(), atol=1e-6)


def test_it_computes_cumulative_quantiles_matching_a_monte_carlo_of_its_own_paths(fitted, seasonal_panel, tmp_path):
    levels = (0.1, 0.5, 0.9)
    context = [seasonal_panel[0][:-HORIZON]]
    forecast = fitted.predict(HORIZON, context, quantiles=levels)[0]
    reference = type(fitted).load(fitted.save(tmp_path / "model.pt"), n_paths=4000, seed=7)

    cumulative = forecast.cumulative_quantiles()
    monte_carlo = np.quantile(np.cumsum(reference.predict(HORIZON, context)[0].paths, axis=1), levels, axis=0)

    assert cumulative.shape == (3, HORIZON)
    np.testing.assert_allclose(cumulative[:, 0], forecast.quantiles[:, 0])
    assert (np.diff(cumulative, axis=0) >= 0.0).all()
    assert (np.diff(cumulative, axis=1) >= 0.0).all()
    np.testing.assert_allclose(cumulative, monte_carlo, rtol=0.12, atol=2.0)
    # a week's 90% quantile is below the sum of the daily 90% quantiles, and above it for the 10% quantile
    assert cumulative[2, -1] < forecast.quantiles[2].sum()
    assert cumulative[0, -1] > forecast.quantiles[0].sum()
    np.testing.assert_allclose(forecast.mean.sum(), forecast.paths.sum(axis=1).mean(), rtol=0.1)


@pytest.mark.parametrize("name", CELLS)
def test_it_raises_the_forecast_on_promoted_future_days(name):
    series, covariates = promotion_panel()
    model = make_neural_model(name, **TINY)
    model.fit(series, covariates)
    promoted_days = np.array([1, 4])

    promoted, plain = forecasts_with_and_without_promotion(model, series, covariates, HORIZON, promoted_days)

    lift = mean_ratios(promoted, plain, promoted_days)
    assert np.median(lift) > 1.8
    with pytest.raises(ValueError, match="covariates"):
        model.predict(HORIZON, series)


@pytest.mark.parametrize("name", CELLS)
def test_it_forecasts_finite_non_negative_numbers_for_awkward_series(name):
    rng = np.random.default_rng(3)
    gaps = rng.poisson(4.0, 80).astype(float)
    gaps[[5, 6, 7, 30, 60, 79]] = np.nan
    outlier = rng.poisson(3.0, 80).astype(float)
    outlier[70] = 30000.0
    awkward = [
        np.zeros(80),
        np.array([5.0]),
        gaps,
        outlier,
        np.array([2.0, 0.0, 1.0]),
        np.array([]),
        np.full(20, np.nan),
        np.concatenate([np.full(60, np.nan), rng.poisson(2.0, 20).astype(float)]),
    ]
    model = make_neural_model(name, **{**TINY, "max_epochs": 3, "steps_per_epoch": 4, "n_paths": 30})

    forecasts = model.fit(awkward).predict(HORIZON, awkward)

    assert np.isfinite(model.training_.train_losses).all()
    assert len(forecasts) == len(awkward)
    for forecast in forecasts:
        assert_valid(forecast, HORIZON, (0.1, 0.5, 0.9), 30)


def test_it_trains_without_error_on_a_panel_too_short_for_any_window():
    model = make_neural_model("lstm", **{**TINY, "max_epochs": 3})

    forecasts = model.fit([np.array([3.0]), np.array([1.0, 2.0])]).predict(2, [np.array([3.0])])

    assert model.training_.stopped == "no training windows"
    assert model.training_.steps == 0
    assert_valid(forecasts[0], 2, (0.1, 0.5, 0.9), TINY["n_paths"])


def test_it_stops_training_when_the_time_budget_is_spent(seasonal_panel):
    model = make_neural_model("gru", **{**TINY, "max_epochs": 10_000, "steps_per_epoch": 100_000, "max_seconds": 0.0})

    model.fit(seasonal_panel[:4])

    assert model.training_.stopped.startswith("time budget")
    assert model.training_.epochs == 1
    assert model.training_.steps == 1


@pytest.mark.parametrize(
    ("y", "mean", "dispersion"),
    [(0.0, 2.0, 0.5), (3.0, 2.0, 0.5), (0.0, 0.01, 1e-4), (7.0, 7.5, 1e-4), (120.0, 40.0, 2.0), (1.0, 1e-3, 5.0)],
)
def test_it_matches_scipy_negative_binomial_log_pmf(y, mean, dispersion):
    r = 1.0 / dispersion

    nll = negative_binomial_nll(
        torch.tensor([y], dtype=torch.float64),
        torch.tensor([mean], dtype=torch.float64),
        torch.tensor([dispersion], dtype=torch.float64),
    )

    assert float(nll[0]) == pytest.approx(-stats.nbinom.logpmf(y, r, r / (r + mean)), rel=1e-6, abs=1e-6)


def test_it_reads_daily_quantiles_off_extra_draws_per_path_and_keeps_the_sampled_paths(
    fitted, seasonal_panel, tmp_path
):
    levels = (0.1, 0.5, 0.9)
    context = [values[:-HORIZON] for values in seasonal_panel[:6]]
    saved = fitted.save(tmp_path / "model.pt")
    few = type(fitted).load(saved, n_paths=20, draws_per_path=50, seed=3)
    reference = type(fitted).load(saved, n_paths=2000, seed=4)

    forecasts = few.predict(HORIZON, context, quantiles=levels)
    references = reference.predict(HORIZON, context, quantiles=levels)

    for forecast, expected in zip(forecasts, references, strict=True):
        assert_valid(forecast, HORIZON, levels, 20)
        # 20 network passes, 1,000 draws a day: the quantiles of 2,000 full paths, within sampling noise
        np.testing.assert_allclose(forecast.quantiles, expected.quantiles, rtol=0.15, atol=1.0)
    with pytest.raises(ValueError, match="draws_per_path"):
        make_neural_model(fitted.name, draws_per_path=0)


@pytest.mark.parametrize(("mean", "dispersion"), [(0.3, 2.0), (4.0, 0.5), (60.0, 0.05)])
def test_block_draws_follow_the_negative_binomial_law_and_repeat_under_a_seed(mean, dispersion):
    shape = (400, 50, 3)
    means = torch.full((400, 1, 3), mean)
    dispersions = torch.full((400, 1, 3), dispersion)

    torch.manual_seed(5)
    draws = sample_negative_binomial_block(means, dispersions, shape)
    torch.manual_seed(5)
    again = sample_negative_binomial_block(means, dispersions, shape)

    assert draws.shape == shape
    assert torch.equal(draws, again)
    values = draws.double().numpy().ravel()
    assert (values >= 0).all()
    assert (values == np.round(values)).all()
    r = 1.0 / dispersion
    law = stats.nbinom(r, r / (r + mean))
    # 60,000 draws: the mean within 4 standard errors, the variance within 10 %, quantiles on the law's
    assert values.mean() == pytest.approx(law.mean(), abs=4 * law.std() / np.sqrt(values.size))
    assert values.var() == pytest.approx(law.var(), rel=0.1)
    for level in (0.5, 0.9):
        assert abs(np.quantile(values, level) - law.ppf(level)) <= max(1.0, 0.05 * law.ppf(level))
