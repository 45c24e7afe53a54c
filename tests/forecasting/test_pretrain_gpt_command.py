from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forecasting.artifact_services import model_artifact_load, model_artifact_train
from tests.forecasting.shop import make_daily_sales

TINY = {
    "d_model": 16,
    "n_heads": 2,
    "n_layers": 1,
    "n_bins": 32,
    "horizon": 7,
    "context_length": 14,
    "batch_size": 16,
    "max_epochs": 1,
    "steps_per_epoch": 2,
    "n_paths": 5,
}


def test_it_writes_a_versioned_base_under_the_artifact_root_with_the_neural_settings(settings, tmp_path, capsys):
    settings.MODEL_ARTIFACT_ROOT = tmp_path
    settings.NEURAL_DEVICE = "cpu"
    settings.NEURAL_THREADS = 1

    call_command(
        "pretrain_gpt", "--series", "6", "--length", "40", "--max-seconds", "0", "--model-params", json.dumps(TINY)
    )
    call_command("pretrain_gpt", series=6, length=40, max_seconds=0, model_params=TINY)

    base = tmp_path / "base"
    assert sorted(path.name for path in base.iterdir()) == [
        "gpt-base-v1.json",
        "gpt-base-v1.pt",
        "gpt-base-v2.json",
        "gpt-base-v2.pt",
    ]
    recipe = json.loads((base / "gpt-base-v2.json").read_text())["recipe"]
    assert recipe["device"] == "cpu"
    assert recipe["threads"] == 1
    assert recipe["out"] == str(base)
    assert "gpt-base-v2:" in capsys.readouterr().out


def test_it_writes_into_an_explicit_directory_and_reports_bad_parameters(tmp_path):
    call_command(
        "pretrain_gpt", "--out", str(tmp_path), "--series", "4", "--length", "40", "--device", "cpu",
        "--threads", "1", "--max-seconds", "0", "--model-params", json.dumps(TINY),
    )  # fmt: skip

    assert (tmp_path / "gpt-base-v1.pt").is_file()
    with pytest.raises(CommandError, match="device"):
        call_command("pretrain_gpt", out=tmp_path, series=4, length=40, model_params={**TINY, "device": "cpu"})


def test_merchant_gpt_models_fine_tune_from_the_base_the_settings_name(settings, tmp_path, merchant):
    settings.MODEL_ARTIFACT_ROOT = tmp_path
    settings.NEURAL_DEVICE = "cpu"
    settings.NEURAL_THREADS = 1
    settings.NEURAL_MAX_TRAIN_SECONDS = 5
    call_command("pretrain_gpt", series=6, length=60, max_seconds=0, model_params=TINY)
    settings.NEURAL_GPT_BASE = str(tmp_path / "base" / "gpt-base-v1.pt")
    make_daily_sales(merchant=merchant, skus=4, days=60, start=dt.date(2024, 1, 1))

    artifact = model_artifact_train(merchant=merchant, name="gpt", data_cutoff=dt.date(2024, 2, 29))

    # the base's architecture and a tenth of its learning rate, starting from its weights
    assert artifact.config["d_model"] == 16
    assert artifact.config["n_bins"] == 32
    assert artifact.config["init_checkpoint"] == settings.NEURAL_GPT_BASE
    assert artifact.config["learning_rate"] == pytest.approx(1e-4)
    model = model_artifact_load(artifact=artifact)
    assert model.n_parameters_ == artifact.n_parameters
