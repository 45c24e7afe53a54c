from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from forecasting.bench import neural as bench_neural
from forecasting.bench.__main__ import main
from forecasting.bench.neural import TrainedModels, TrainingPool
from forecasting.bench.prepare import main as prepare_main
from forecasting.bench.prepare import online_retail_panel, read_online_retail, select_by_selling_days
from forecasting.engine.neural.deepar import GruForecaster


@pytest.fixture
def tiny_panel(tmp_path):
    rng = np.random.default_rng(0)
    dates = pd.date_range("2024-01-01", periods=120, freq="D")
    weekly = np.tile([3.0, 4.0, 4.0, 5.0, 3.0, 0.0, 1.0], 18)[:120]
    frames = [
        pd.DataFrame({"unique_id": "smooth", "ds": dates, "y": weekly + rng.integers(0, 2, 120)}),
        pd.DataFrame({"unique_id": "sparse", "ds": dates, "y": np.where(rng.random(120) < 0.2, 2.0, 0.0)}),
        pd.DataFrame({"unique_id": "late", "ds": dates[60:], "y": weekly[60:] * 2}),
    ]
    path = tmp_path / "panel.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def test_it_writes_the_forecast_table_and_the_report(tiny_panel, tmp_path, capsys):
    output, report_path = tmp_path / "forecasts.csv", tmp_path / "report.json"
    argv = [
        "--input", str(tiny_panel), "--freq", "D", "--horizon", "7", "--windows", "3", "--step", "7",
        "--models", "auto,seasonal_naive,tsb", "--quantiles", "0.1,0.5,0.9", "--threads", "1",
        "--output", str(output), "--report", str(report_path),
    ]  # fmt: skip
    assert main(argv) == 0

    table = pd.read_csv(output)
    assert list(table.columns) == ["unique_id", "cutoff", "ds", "y", "model", "mean", "q0.1", "q0.5", "q0.9"]
    # 3 series x 3 windows x 7 days x 3 models
    assert len(table) == 3 * 3 * 7 * 3
    assert sorted(table["cutoff"].unique()) == ["2024-04-08", "2024-04-15", "2024-04-22"]
    assert table["ds"].max() == "2024-04-29"
    assert not table.duplicated(["unique_id", "cutoff", "ds", "model"]).any()

    report = json.loads(report_path.read_text())
    assert report["config"]["cutoffs"] == ["2024-04-08", "2024-04-15", "2024-04-22"]
    assert set(report["models"]) == {"auto", "seasonal_naive", "tsb"}
    for scores in report["models"].values():
        for key in ("MASE", "WAPE", "WQL", "COV80", "bias", "seconds", "series_per_second", "failures"):
            assert key in scores
        assert scores["forecasts"] == 9
    assert set(report["by_class"]["auto"]) == set(report["classes"])
    printed = capsys.readouterr().out
    assert "auto/it WQL" in printed
    assert "seasonal_naive" in printed

    rerun = tmp_path / "again.csv"
    main([*argv[:-4], "--output", str(rerun), "--report", str(tmp_path / "again.json")])
    pd.testing.assert_frame_equal(pd.read_csv(rerun), table)


def test_it_runs_the_statsforecast_peer_on_the_same_windows(tiny_panel, tmp_path, capsys):
    pytest.importorskip("statsforecast")
    output, report_path = tmp_path / "forecasts.csv", tmp_path / "report.json"
    argv = [
        "--input", str(tiny_panel), "--horizon", "7", "--windows", "2", "--models", "auto",
        "--peer", "statsforecast", "--threads", "1", "--output", str(output), "--report", str(report_path),
    ]  # fmt: skip
    assert main(argv) == 0
    table = pd.read_csv(output)
    assert {"sf_AutoETS", "sf_SeasonalNaive", "sf_CrostonSBA", "sf_ensemble"} <= set(table["model"])
    windows = table.groupby("model")["cutoff"].apply(lambda cutoffs: tuple(sorted(set(cutoffs))))
    assert windows.nunique() == 1
    assert (table[["mean", "q0.1", "q0.9"]].fillna(0) >= 0).all().all()
    report = json.loads(report_path.read_text())
    assert report["models"]["sf_ensemble"]["WQL"] is not None
    assert "sf_AutoETS" in capsys.readouterr().out


def online_retail_rows(rows):
    return pd.DataFrame(rows, columns=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate"])


def test_it_prepares_net_daily_units_from_online_retail_files(tmp_path):
    first = online_retail_rows(
        [
            ("1", "85123A", 5, "2010-11-29 09:00:00"),
            ("2", "85123A", 3, "2010-12-01 10:00:00"),
            ("C3", "85123A", -2, "2010-12-01 11:00:00"),
            ("4", "POST", 1, "2010-11-29 09:00:00"),
            ("A5", "B", 1, "2010-11-30 09:00:00"),
            ("6", "22423", 10, "2010-11-30 09:00:00"),
            ("C7", "22423", -12, "2010-11-30 12:00:00"),
        ]
    )
    second = online_retail_rows(
        [
            ("2", "85123A", 3, "2010-12-01 10:00:00"),
            ("C3", "85123A", -2, "2010-12-01 11:00:00"),
            ("8", "85123a", 4, "2010-12-03 10:00:00"),
        ]
    )
    first_path, second_path = tmp_path / "a.csv", tmp_path / "b.csv"
    first.to_csv(first_path, index=False)
    second.to_csv(second_path, index=False)
    panel = online_retail_panel(read_online_retail([second_path, first_path]))
    skus = panel.groupby("unique_id")["y"].apply(list).to_dict()
    # overlap (2010-12-01) counted once; the cancellation is netted on its day; POST and bad debt dropped;
    # 22423 never had a positive day (10 sold, 12 cancelled) so it has no series
    assert skus == {"85123A": [5.0, 0.0, 1.0, 0.0, 4.0]}
    assert panel["ds"].min() == pd.Timestamp("2010-11-29")
    assert panel["ds"].max() == pd.Timestamp("2010-12-03")

    out = tmp_path / "panel.csv"
    assert prepare_main(["online-retail", str(first_path), str(second_path), "--out", str(out)]) == 0
    assert pd.read_csv(out)["y"].tolist() == [5.0, 0.0, 1.0, 0.0, 4.0]


def test_it_keeps_skus_with_enough_selling_days_in_the_first_year():
    dates = pd.date_range("2010-01-01", periods=500, freq="D")
    early = np.zeros(500)
    early[:30] = 1.0
    late = np.zeros(500)
    late[400:] = 1.0
    panel = pd.concat(
        [
            pd.DataFrame({"unique_id": "early", "ds": dates, "y": early}),
            pd.DataFrame({"unique_id": "late", "ds": dates, "y": late}),
        ]
    )
    kept = select_by_selling_days(panel, min_selling_days=20, selection_year="first")
    assert kept["unique_id"].unique().tolist() == ["early"]
    assert len(kept) == 500
    everything = select_by_selling_days(panel, min_selling_days=20, selection_year="all")
    assert sorted(everything["unique_id"].unique()) == ["early", "late"]


def test_it_runs_the_benchmark_without_django_or_celery():
    import subprocess
    import sys

    code = (
        "import sys, forecasting.bench.__main__, forecasting.engine.auto, forecasting.engine.backtest;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework', 'celery'}))"
    )
    root = Path(__file__).resolve().parents[2]
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert completed.stdout.strip() == "[]"


@pytest.mark.shared_data
def test_it_prepares_the_issue_panel_from_the_shared_online_retail_files(shared_data):
    files = [
        shared_data / "online_retail_2009_2010" / "online_retail_II_2009_2010.parquet",
        shared_data / "online_retail_2010_2011" / "online_retail.parquet",
    ]
    panel = select_by_selling_days(
        online_retail_panel(read_online_retail(files)), min_selling_days=20, selection_year="first"
    )
    assert panel["unique_id"].nunique() == 2718
    assert panel["ds"].min() == pd.Timestamp("2009-12-01")
    assert panel["ds"].max() == pd.Timestamp("2011-12-09")
    assert (panel["y"] >= 0).all()
    assert not panel.duplicated(["unique_id", "ds"]).any()
    assert not panel["unique_id"].isin(["POST", "DOT", "M", "BANK CHARGES", "AMAZONFEE"]).any()
    # every series runs without gaps to the panel's last day
    spans = panel.groupby("unique_id")["ds"].agg(["min", "max", "size"])
    assert (spans["max"] == pd.Timestamp("2011-12-09")).all()
    assert ((spans["max"] - spans["min"]).dt.days + 1 == spans["size"]).all()


TINY_NEURAL = {
    "hidden_size": 8,
    "num_layers": 1,
    "max_epochs": 2,
    "steps_per_epoch": 3,
    "batch_size": 16,
    "n_paths": 20,
}


def test_it_benchmarks_a_neural_model_trained_once_and_auto_with_it_as_a_candidate(tiny_panel, tmp_path, capsys):
    output, report_path = tmp_path / "forecasts.csv", tmp_path / "report.json"
    argv = [
        "--input", str(tiny_panel), "--freq", "D", "--horizon", "7", "--windows", "3", "--step", "7",
        "--models", "gru,auto+gru", "--threads", "1", "--device", "cpu",
        "--neural-params", json.dumps({"gru": TINY_NEURAL}),
        "--output", str(output), "--report", str(report_path),
    ]  # fmt: skip
    assert main(argv) == 0

    table = pd.read_csv(output)
    assert set(table["model"]) == {"gru", "auto+gru"}
    assert len(table) == 3 * 3 * 7 * 2
    assert (table[["mean", "q0.1", "q0.5", "q0.9"]] >= 0).all().all()
    assert (table["q0.1"] <= table["q0.9"]).all()
    report = json.loads(report_path.read_text())
    neural = report["models"]["gru"]["neural"]
    # trained once at the first cutoff, then reused for the two later windows
    assert neural["fits"] == 1
    assert neural["parameters"] > 0
    assert neural["device"] == "cpu"
    assert neural["predict_series_per_second"] > 0
    assert neural["predict_series_per_second_after_first"] > 0
    assert report["models"]["auto+gru"]["neural"]["parameters"]["gru"] == neural["parameters"]
    # auto+gru forecasts from each cutoff with the gru trained up to the first cutoff: the standalone one
    assert report["models"]["auto+gru"]["neural"]["final"] == "fresh"
    assert report["config"]["neural_auto_final"] == "fresh"
    printed = capsys.readouterr().out
    assert "trained 1x" in printed
    assert "auto with neural candidates gru" in printed
    assert "forecasting from each cutoff with the same models trained up to the first cutoff" in printed


def test_trained_models_train_each_model_once_per_date_and_settings(monkeypatch):
    calls = []

    def train(name, settings, series, X, end):
        calls.append((name, end))
        return object()

    monkeypatch.setattr(bench_neural, "train_with_progress", train)
    trained = TrainedModels()
    day = np.datetime64("2024-03-01")
    first, _ = trained.get("gru", {"seed": 0}, [np.ones(5)], None, day)
    again, _ = trained.get("gru", {"seed": 0}, [np.ones(5)], None, day)
    later, _ = trained.get("gru", {"seed": 0}, [np.ones(6)], None, day + 1)
    other, _ = trained.get("gru", {"seed": 1}, [np.ones(5)], None, day)
    assert again is first
    assert len({id(first), id(later), id(other)}) == 3
    assert calls == [("gru", day), ("gru", day + 1), ("gru", day)]


def test_saved_trainings_are_loaded_by_a_later_run_with_its_own_inference_settings(monkeypatch, tmp_path):
    rng = np.random.default_rng(1)
    series = [rng.poisson(3.0, 60).astype(float) for _ in range(4)]
    day = np.datetime64("2024-03-01")
    settings = {**TINY_NEURAL, "horizon": 7, "seed": 0, "threads": 1, "device": "cpu"}
    first, _ = TrainedModels(tmp_path).get("gru", {**settings, "draws_per_path": 2}, series, None, day)
    [saved] = tmp_path.glob("gru-2024-03-01-*.pt")

    def train(*args):
        raise AssertionError("the saved training should have been loaded")

    monkeypatch.setattr(bench_neural, "train_with_progress", train)
    loaded, loaded_seconds = TrainedModels(tmp_path).get("gru", {**settings, "n_paths": 3}, series, None, day)

    assert loaded_seconds == pytest.approx(first.training_.seconds)
    assert loaded.n_paths == 3
    # an inference setting the run leaves out takes the model's default, not the value saved with the weights
    assert first.draws_per_path == 2
    assert loaded.draws_per_path == GruForecaster().draws_per_path
    for name, tensor in first.module_.state_dict().items():
        torch.testing.assert_close(loaded.module_.state_dict()[name], tensor)
    # other data, another date or other training settings make another checkpoint
    directory = TrainedModels(tmp_path)
    assert directory.checkpoint_path("gru", settings, series, None, day) == saved
    assert directory.checkpoint_path("gru", settings, series[:3], None, day) != saved
    assert directory.checkpoint_path("gru", settings, series, None, day + 1) != saved
    assert directory.checkpoint_path("gru", {**settings, "hidden_size": 4}, series, None, day) != saved
    assert directory.checkpoint_path("gru", {**settings, "threads": 2, "draws_per_path": 2}, series, None, day) == saved
    # the name covers the model's defaults too: a setting at its default value names the same training
    assert directory.checkpoint_path("gru", {**settings, "weight_decay": 0.0}, series, None, day) == saved
    assert directory.checkpoint_path("gru", {**settings, "weight_decay": 0.1}, series, None, day) != saved


def test_a_training_pool_hands_out_every_series_cut_at_the_date_and_nothing_later(tiny_panel):
    frame = pd.read_csv(tiny_panel, parse_dates=["ds"]).astype({"unique_id": str})
    pool = TrainingPool(frame, freq="D")

    series, X = pool(np.datetime64("2024-02-29"), True)

    assert len(pool) == 3
    # ids in order (late, smooth, sparse); "late" starts on day 60 (2024-03-01): not launched yet, not handed out
    assert [len(values) for values in series] == [60, 60]
    assert X is None
    np.testing.assert_array_equal(series[0], frame[frame["unique_id"] == "smooth"]["y"].to_numpy()[:60])
    assert [len(values) for values in pool(np.datetime64("2024-03-10"))[0]] == [10, 70, 70]
    with pytest.raises(ValueError, match="cutoff date"):
        pool(None)


def test_it_trains_neural_models_on_every_series_when_asked_and_scores_the_sample(tiny_panel, tmp_path, capsys):
    report_path = tmp_path / "report.json"
    argv = [
        "--input", str(tiny_panel), "--freq", "D", "--horizon", "7", "--windows", "2", "--step", "7",
        "--models", "gru", "--sample", "2", "--neural-train", "all", "--threads", "1", "--device", "cpu",
        "--neural-params", json.dumps({"gru": TINY_NEURAL}),
        "--output", str(tmp_path / "forecasts.csv"), "--report", str(report_path),
    ]  # fmt: skip
    assert main(argv) == 0

    table = pd.read_csv(tmp_path / "forecasts.csv")
    assert table["unique_id"].nunique() == 2
    assert "trained on all 3 series of the input" in capsys.readouterr().out
    assert json.loads(report_path.read_text())["config"]["neural_train"] == "all"


def test_it_backtests_before_a_date_for_development_windows(tiny_panel, tmp_path):
    report_path = tmp_path / "report.json"
    argv = [
        "--input", str(tiny_panel), "--freq", "D", "--horizon", "7", "--windows", "2", "--step", "7",
        "--models", "naive", "--until", "2024-03-31", "--threads", "1",
        "--output", str(tmp_path / "forecasts.csv"), "--report", str(report_path),
    ]  # fmt: skip
    assert main(argv) == 0

    table = pd.read_csv(tmp_path / "forecasts.csv", parse_dates=["ds", "cutoff"])
    # the panel ends on 2024-03-31 (day 91): cutoffs 14 and 7 days before it, nothing scored after it
    assert sorted(table["cutoff"].dt.strftime("%Y-%m-%d").unique()) == ["2024-03-17", "2024-03-24"]
    assert table["ds"].max() == pd.Timestamp("2024-03-31")
    assert json.loads(report_path.read_text())["config"]["until"] == "2024-03-31"


def test_it_passes_auto_its_candidates_and_settings(tiny_panel, tmp_path):
    report_path = tmp_path / "report.json"
    auto_params = {
        "top_k": 1,
        "candidates": {label: ["naive"] for label in ("smooth", "erratic", "intermittent", "lumpy", "new", "dead")},
    }
    argv = [
        "--input", str(tiny_panel), "--freq", "D", "--horizon", "7", "--windows", "2", "--step", "7",
        "--models", "auto,naive", "--threads", "1", "--auto-params", json.dumps(auto_params),
        "--output", str(tmp_path / "forecasts.csv"), "--report", str(report_path),
    ]  # fmt: skip
    assert main(argv) == 0
    table = pd.read_csv(tmp_path / "forecasts.csv")
    # with naive as its only candidate, auto's point forecast is naive's
    auto = table[table["model"] == "auto"].set_index(["unique_id", "cutoff", "ds"])["mean"].sort_index()
    naive = table[table["model"] == "naive"].set_index(["unique_id", "cutoff", "ds"])["mean"].sort_index()
    np.testing.assert_allclose(auto.to_numpy(), naive.to_numpy())
    assert json.loads(report_path.read_text())["config"]["auto_params"] == auto_params
