from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from forecasting.engine.neural.transformer import QUANTILE_LEVELS, TransformerForecaster

HORIZON = 14
LENGTH = 200
TINY = {
    "horizon": HORIZON,
    "d_model": 16,
    "n_heads": 2,
    "num_layers": 1,
    "dim_feedforward": 32,
    "head_hidden": 32,
    "batch_size": 64,
    "max_epochs": 6,
    "steps_per_epoch": 20,
    "learning_rate": 3e-3,
    "n_paths": 100,
    "threads": 1,
    "seed": 0,
}


def weekly_poisson_panel(
    n: int, *, seed: int, promotion_lift: float | None = None
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Series of LENGTH days, the HORIZON days after them, and promotion flags for both (lift 1 without)."""
    rng = np.random.default_rng(seed)
    days = np.arange(LENGTH + HORIZON)
    history, future, flags_past, flags_future = [], [], [], []
    for _ in range(n):
        level = math.exp(rng.uniform(math.log(2.0), math.log(30.0)))
        flags = np.zeros(LENGTH + HORIZON)
        if promotion_lift is not None:
            for start in rng.integers(0, LENGTH + HORIZON, size=8):
                flags[start : start + rng.integers(2, 5)] = 1.0
        lift = np.where(flags == 1.0, promotion_lift or 1.0, 1.0)
        intensity = level * (1.0 + 0.6 * np.sin(2 * np.pi * (days + rng.integers(7)) / 7)) * lift
        values = rng.poisson(intensity).astype(np.float64)
        history.append(values[:LENGTH])
        future.append(values[LENGTH:])
        flags_past.append(flags[:LENGTH, None])
        flags_future.append(flags[LENGTH:, None])
    return history, future, flags_past, flags_future


@pytest.fixture(scope="module")
def seasonal():
    history, future, _, _ = weekly_poisson_panel(60, seed=0)
    return TransformerForecaster(**TINY).fit(history), history, future


@pytest.fixture(scope="module")
def promoted():
    history, _, flags, _ = weekly_poisson_panel(60, seed=1, promotion_lift=2.5)
    return TransformerForecaster(**TINY).fit(history, flags), history, flags


def test_it_returns_non_negative_forecasts_of_the_requested_shape(seasonal):
    model, history, _ = seasonal
    awkward = [np.full(30, np.nan), np.zeros(80), np.array([3.0]), np.r_[np.full(50, np.nan), np.ones(5) * 1e4]]

    forecasts = model.predict(10, history[:3] + awkward, quantiles=(0.95, 0.05, 0.5))

    assert len(forecasts) == 7
    for forecast in forecasts:
        assert forecast.quantile_levels == (0.05, 0.5, 0.95)
        assert forecast.mean.shape == (10,)
        assert forecast.quantiles.shape == (3, 10)
        assert forecast.paths.shape == (TINY["n_paths"], 10)
        assert forecast.cumulative_quantiles((0.5, 0.9)).shape == (2, 10)
        for array in (forecast.mean, forecast.quantiles, forecast.paths):
            assert np.all(np.isfinite(array))
            assert np.all(array >= 0.0)
    assert np.all(forecasts[-1].mean > 100.0)


def test_it_predicts_monotone_quantiles_by_construction():
    model = TransformerForecaster(**TINY, patch_len=5)
    module = model._build_module(5)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
        grid = module(
            torch.rand(8, model.context, generator=generator) * 3,
            torch.ones(8, model.context),
            torch.randn(8, model.context, 5, generator=generator),
            torch.randn(8, HORIZON, 5, generator=generator),
            torch.rand(8, generator=generator) + 0.5,
        )

    assert module.n_patches == math.ceil(model.context / 5)
    assert grid.shape == (8, HORIZON, len(QUANTILE_LEVELS))
    # the network's grid increases; forecasts clip it at zero (test below), so low levels can be exactly 0
    assert torch.all(torch.diff(grid, dim=-1) >= 0.0)
    assert {0.1, 0.5, 0.9} <= set(QUANTILE_LEVELS)
    assert np.mean(QUANTILE_LEVELS) == pytest.approx(0.5)


def test_it_keeps_interpolated_quantiles_in_order(seasonal):
    model, history, _ = seasonal
    levels = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)

    for forecast in model.predict(HORIZON, history[:10], quantiles=levels):
        assert np.all(np.diff(forecast.quantiles, axis=0) >= 0.0)


def test_it_is_deterministic_for_a_fixed_seed():
    history, _, _, _ = weekly_poisson_panel(20, seed=2)
    params = {**TINY, "max_epochs": 1, "steps_per_epoch": 5}

    first = TransformerForecaster(**params).fit(history).predict(HORIZON, history[:5])
    second = TransformerForecaster(**params).fit(history).predict(HORIZON, history[:5])

    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.quantiles, b.quantiles)
        np.testing.assert_array_equal(a.paths, b.paths)


def test_it_forecasts_identically_after_a_checkpoint_round_trip(seasonal, tmp_path):
    model, history, _ = seasonal

    loaded = TransformerForecaster.load(model.save(tmp_path / "transformer.pt"))

    assert loaded.get_params() == model.get_params()
    for a, b in zip(model.predict(HORIZON, history[:8]), loaded.predict(HORIZON, history[:8]), strict=True):
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.quantiles, b.quantiles)
        np.testing.assert_array_equal(a.paths, b.paths)


def test_it_beats_naive_forecasts_on_a_weekly_seasonal_poisson_panel(seasonal):
    model, history, future = seasonal

    forecasts = model.predict(HORIZON, history, quantiles=(0.5,))

    model_mae = np.mean([np.abs(f.quantiles[0] - y).mean() for f, y in zip(forecasts, future, strict=True)])
    naive_mae = np.mean([np.abs(h[-1] - y).mean() for h, y in zip(history, future, strict=True)])
    seasonal_mae = np.mean(
        [np.abs(np.resize(h[-7:], HORIZON) - y).mean() for h, y in zip(history, future, strict=True)]
    )
    assert model_mae < 0.6 * naive_mae
    assert model_mae < 0.9 * seasonal_mae


def test_it_raises_the_forecast_on_promoted_future_days_only(promoted):
    model, history, flags = promoted
    quiet = [np.zeros((HORIZON, 1)) for _ in history]
    promotion = np.zeros((HORIZON, 1))
    promotion[3:6] = 1.0

    without = model.predict(HORIZON, history, flags, quiet)
    with_promotion = model.predict(HORIZON, history, flags, [promotion] * len(history))

    ratio = np.array([b.mean / a.mean for a, b in zip(without, with_promotion, strict=True)])
    assert np.median(ratio[:, 3:6]) > 1.8
    assert np.all(ratio[:, 3:6] > 1.3)
    np.testing.assert_array_equal(ratio[:, [0, 1, 2, 6, 7]], 1.0)


def test_it_needs_covariates_at_prediction_when_trained_with_them(promoted):
    model, history, _ = promoted

    with pytest.raises(ValueError, match="covariates"):
        model.predict(HORIZON, history)
    with pytest.raises(ValueError, match="covariates"):
        model.attention(history)


def test_it_widens_lead_time_quantiles_with_the_path_correlation(seasonal, tmp_path):
    model, history, _ = seasonal
    path = model.save(tmp_path / "transformer.pt")
    spreads = []
    for correlation in (0.0, 0.3, 0.9):
        loaded = TransformerForecaster.load(path, path_correlation=correlation, n_paths=2000)
        forecast = loaded.predict(HORIZON, history[:1], quantiles=(0.1, 0.5, 0.9))[0]
        low, high = forecast.cumulative_quantiles((0.1, 0.9))[:, -1]
        spreads.append(high - low)
        np.testing.assert_allclose(np.median(forecast.paths, axis=0), forecast.quantiles[1], rtol=0.1, atol=0.5)

    assert spreads[0] < spreads[1] < spreads[2]


def test_it_explains_forecasts_with_attention_over_the_context_patches(seasonal):
    model, history, _ = seasonal

    weights = model.attention([*history[:6], np.full(40, np.nan)])

    assert weights.shape == (7, math.ceil(model.context / 7))
    assert np.all(weights >= 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-5)


def test_it_refuses_horizons_beyond_the_trained_one(seasonal):
    model, history, _ = seasonal

    with pytest.raises(ValueError, match="trained horizon"):
        model.predict(HORIZON + 1, history[:2])


def test_low_quantiles_of_intermittent_demand_can_be_exactly_zero():
    rng = np.random.default_rng(5)
    panel = [np.where(rng.random(200) < 0.15, rng.integers(1, 4, 200), 0).astype(float) for _ in range(30)]
    model = TransformerForecaster(**{**TINY, "max_epochs": 6}).fit(panel)
    forecasts = model.predict(HORIZON, panel, quantiles=(0.1, 0.5, 0.9))
    lows = np.stack([forecast.quantiles[0] for forecast in forecasts])
    assert (lows == 0.0).mean() > 0.9
    assert all((forecast.quantiles >= 0).all() and (forecast.paths >= 0).all() for forecast in forecasts)


def test_it_weighs_the_loss_by_window_or_by_scale():
    generator = torch.Generator().manual_seed(1)
    batch = {
        "past_values": torch.rand(4, 28, generator=generator),
        "past_observed": torch.ones(4, 28),
        "past_features": torch.randn(4, 28, 4, generator=generator),
        "future_features": torch.randn(4, HORIZON, 4, generator=generator),
        "scale": torch.tensor([0.5, 1.0, 2.0, 20.0]),
        "future_values": torch.rand(4, HORIZON, generator=generator) * 2,
        "future_observed": torch.ones(4, HORIZON),
    }
    batch["future_observed"][0, :3] = 0.0
    by_window = TransformerForecaster(**TINY, context_length=28, loss_weighting="window")
    by_scale = TransformerForecaster(**TINY, context_length=28)
    module = by_window._build_module(4).eval()
    with torch.no_grad():
        grid = module(*(batch[key] for key in ("past_values", "past_observed", "past_features", "future_features")),
                      batch["scale"])  # fmt: skip
        levels = torch.tensor(QUANTILE_LEVELS)
        error = batch["future_values"][..., None] - grid
        per_period = torch.maximum(levels * error, (levels - 1) * error).mean(dim=-1) * batch["future_observed"]
        units = (per_period * batch["scale"][:, None]).sum() / (
            batch["future_observed"] * batch["scale"][:, None]
        ).sum()

        assert float(by_window._loss(module, batch)) == pytest.approx(
            float(per_period.sum() / batch["future_observed"].sum()), rel=1e-5
        )
        # by scale: the pinball loss in units of demand per unit of observed demand scale, as WQL weighs it
        assert float(by_scale._loss(module, batch)) == pytest.approx(float(units), rel=1e-5)
    with pytest.raises(ValueError, match="loss_weighting"):
        TransformerForecaster(loss_weighting="series")
