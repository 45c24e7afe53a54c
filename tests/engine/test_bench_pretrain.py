from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import torch

from forecasting.bench.pretrain import main, next_version, pretrain_base
from forecasting.engine.neural.gpt import GPTForecaster, from_pretrained
from forecasting.engine.neural.training import load_checkpoint

HORIZON = 7
TINY = {
    "d_model": 16,
    "n_heads": 2,
    "n_layers": 1,
    "dropout": 0.0,
    "n_bins": 32,
    "max_scaled": 8.0,
    "horizon": HORIZON,
    "context_length": 14,
    "batch_size": 32,
    "max_epochs": 2,
    "steps_per_epoch": 4,
    "n_paths": 10,
}
ARGV = [
    "--series", "12", "--length", "60", "--max-seconds", "0", "--seed", "3", "--device", "cpu", "--threads", "1",
    "--model-params", json.dumps(TINY),
]  # fmt: skip


def history(n_series: int = 4, length: int = 50) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.poisson(rng.uniform(1.0, 8.0), size=length).astype(float) for _ in range(n_series)]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Two runs of the CLI with the same arguments into one directory: v1 then v2."""
    out = tmp_path_factory.mktemp("base")
    assert main(["--out", str(out), *ARGV]) == 0
    assert main(["--out", str(out), *ARGV]) == 0
    return out


def test_it_writes_the_next_version_with_a_sidecar_that_matches_the_file(written, capsys):
    assert sorted(path.name for path in written.iterdir()) == [
        "gpt-base-v1.json",
        "gpt-base-v1.pt",
        "gpt-base-v2.json",
        "gpt-base-v2.pt",
    ]
    assert next_version(written) == 3
    for version in (1, 2):
        sidecar = json.loads((written / f"gpt-base-v{version}.json").read_text())
        checkpoint = written / f"gpt-base-v{version}.pt"
        assert sidecar["version"] == version
        assert sidecar["sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
        assert sidecar["size_bytes"] == checkpoint.stat().st_size
        assert sidecar["recipe"]["series"] == 12
        assert sidecar["recipe"]["model_params"] == TINY
        assert sidecar["corpus"] == {
            "synthetic_series": 12,
            "synthetic_length": 60,
            "operator_series": 0,
            "operator_sha256": None,
            "observed_values": sidecar["corpus"]["observed_values"],
            "covariates": [],
        }
        assert sidecar["model"]["params"]["d_model"] == 16
        assert sidecar["model"]["params"]["seed"] == 3
        assert sidecar["model"]["n_parameters"] > 0
        assert sidecar["training"]["epochs"] == 2
        assert sidecar["versions"]["torch"] == torch.__version__
        assert sidecar["replay"]["exact"] is True


def test_it_repeats_the_weights_and_forecasts_from_the_sidecar_recipe(written, tmp_path):
    sidecar = json.loads((written / "gpt-base-v1.json").read_text())

    path, again = pretrain_base(**{**sidecar["recipe"], "out": tmp_path})

    assert path == tmp_path / "gpt-base-v1.pt"
    first = load_checkpoint(written / "gpt-base-v1.pt")["state_dict"]
    for source in (load_checkpoint(written / "gpt-base-v2.pt"), load_checkpoint(path)):
        assert source["state_dict"].keys() == first.keys()
        for key, value in source["state_dict"].items():
            torch.testing.assert_close(value, first[key], rtol=0, atol=0)
    contexts = history()
    expected = GPTForecaster.load(written / "gpt-base-v1.pt").predict(HORIZON, contexts)
    for a, b in zip(expected, GPTForecaster.load(path).predict(HORIZON, contexts), strict=True):
        np.testing.assert_array_equal(a.paths, b.paths)
        np.testing.assert_array_equal(a.mean, b.mean)
    assert again["training"]["validation_losses"] == sidecar["training"]["validation_losses"]


def test_it_loads_on_cpu_and_forecasts_a_panel_without_covariates(written):
    model = GPTForecaster.load(written / "gpt-base-v2.pt", device="cpu", threads=1)

    forecasts = model.predict(HORIZON, history(), quantiles=(0.1, 0.5, 0.9))

    assert model.scaler_.width == 0
    for forecast in forecasts:
        assert forecast.mean.shape == (HORIZON,)
        assert forecast.quantiles.shape == (3, HORIZON)
        assert np.all(forecast.paths >= 0.0)


def test_it_fine_tunes_a_small_panel_from_the_base(written):
    base = written / "gpt-base-v1.pt"
    panel = history()

    tuned = from_pretrained(base, max_epochs=1, steps_per_epoch=3).fit(panel)

    assert tuned.init_checkpoint == str(base)
    assert tuned.learning_rate == pytest.approx(GPTForecaster().learning_rate / 10)
    before = load_checkpoint(base)["state_dict"]
    assert any(not torch.equal(value, before[key]) for key, value in tuned.module_.state_dict().items())
    assert all(np.all(forecast.mean >= 0.0) for forecast in tuned.predict(HORIZON, panel))


def test_it_adds_operator_series_and_the_promotion_flag_and_scores_zero_shot(tmp_path):
    dates = pd.date_range("2025-01-01", periods=40, freq="D")
    operator = tmp_path / "operator.csv"
    pd.DataFrame({"unique_id": np.repeat(["a", "b"], 40), "ds": np.tile(dates, 2), "y": np.arange(80) % 5}).iloc[
        5:
    ].to_csv(operator, index=False)

    path, sidecar = pretrain_base(
        tmp_path / "base",
        series=6,
        length=60,
        operator_series=operator,
        max_seconds=None,
        device="cpu",
        threads=1,
        model_params={**TINY, "max_epochs": 1},
        with_promotions=True,
        evaluate_series=5,
    )

    assert sidecar["corpus"]["operator_series"] == 2
    assert sidecar["corpus"]["operator_sha256"] == hashlib.sha256(operator.read_bytes()).hexdigest()
    assert sidecar["corpus"]["covariates"] == ["promotion"]
    assert GPTForecaster.load(path).scaler_.width == 1
    evaluation = sidecar["zero_shot"]
    assert evaluation["series"] == 5
    assert evaluation["seed"] == 1
    assert evaluation["mae"] >= 0.0
    assert evaluation["mae_ratio"] == pytest.approx(evaluation["mae"] / evaluation["seasonal_naive_mae"])
    assert evaluation["mase"] > 0.0
    assert evaluation["seasonal_naive_mase"] > 0.0


def test_it_refuses_model_params_that_duplicate_an_option(tmp_path):
    with pytest.raises(ValueError, match="seed"):
        pretrain_base(tmp_path, series=2, length=30, model_params={"seed": 1})
    assert list(tmp_path.iterdir()) == []
