"""Benchmark CLI: rolling-origin backtest of our models (and optionally statsforecast) on a long-format panel.

    python -m forecasting.bench --input panel.parquet --freq D --horizon 28 --windows 4 --step 28 \
        --models auto,seasonal_naive --quantiles 0.1,0.5,0.9 --peer statsforecast --threads 2 \
        --output forecasts.csv --report report.json

Writes one CSV row per (unique_id, cutoff, ds, model) with y, mean and q<level> columns, a JSON report with per
model MASE, WAPE, WQL, COV80, bias, seconds, series/second and failures (overall and per demand class), and
prints a side-by-side table with the ratios auto / every other model. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from forecasting.bench.neural import NeuralAutoForecaster, NeuralBenchForecaster, TrainedModels, TrainingPool
from forecasting.bench.peer import (
    ARIMA_SUBSAMPLE,
    ENSEMBLE_MEMBERS,
    ENSEMBLE_NAME,
    INTERVAL_NOTES,
    StatsForecastPeer,
    arima_subsample,
    median_ensemble,
    peer_models,
    set_single_threaded_numerics,
)
from forecasting.bench.report import build_report, side_by_side
from forecasting.engine.auto import AutoForecaster, demand_classes
from forecasting.engine.backtest import (
    PanelForecaster,
    RegistryForecaster,
    cutoff_positions,
    dense_panel,
    rolling_origin,
)
from forecasting.engine.neural import NEURAL_MODEL_NAMES

SEASON_LENGTHS = {"D": 7, "W": 52, "M": 12, "Q": 4, "H": 24}


def read_panel(path: Path, covariates: Sequence[str]) -> pd.DataFrame:
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    missing = {"unique_id", "ds", "y", *covariates} - set(frame.columns)
    if missing:
        raise SystemExit(f"{path}: missing columns {', '.join(sorted(missing))}")
    frame = frame[["unique_id", "ds", "y", *covariates]].copy()
    frame["unique_id"] = frame["unique_id"].astype(str)
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame["y"] = pd.to_numeric(frame["y"], errors="coerce")
    return frame.sort_values(["unique_id", "ds"], ignore_index=True)


def series_classes(panel: pd.DataFrame, *, freq: str, horizon: int, windows: int, step: int) -> dict[str, str]:
    """Demand class of each series from its history up to the first cutoff (what a forecaster could know)."""
    dense = dense_panel(panel, freq=freq)
    first_cutoff = cutoff_positions(len(dense.dates), horizon=horizon, n_windows=windows, step=step)[0]
    history = [dense.values[row, dense.starts[row] : first_cutoff + 1] for row in range(len(dense.ids))]
    return dict(zip(dense.ids.tolist(), demand_classes(history), strict=True))


def refit_setting(text: str) -> bool | int:
    """true, false or a positive number of windows (statsforecast's refit)."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered.isdigit() and int(lowered) > 0:
        return int(lowered)
    raise argparse.ArgumentTypeError(f"expected true, false or a positive number of windows, not {text!r}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m forecasting.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, type=Path, help="CSV or parquet: unique_id, ds, y[, covariates]")
    parser.add_argument("--freq", default="D")
    parser.add_argument("--horizon", type=int, default=28)
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--step", type=int, default=None, help="periods between cutoffs (default: the horizon)")
    parser.add_argument(
        "--models", default="auto,seasonal_naive", help="comma-separated: auto, registry names and neural models"
    )
    parser.add_argument("--quantiles", default="0.1,0.5,0.9")
    parser.add_argument("--covariates", default="", help="comma-separated covariate columns, known in the future")
    parser.add_argument("--peer", choices=["statsforecast"], default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--season-length", type=int, default=None, help="default: 7 for D, 52 for W, 12 for M")
    parser.add_argument("--sample", type=int, default=None, help="benchmark a seeded random sample of this many series")
    parser.add_argument(
        "--arima-sample",
        type=int,
        default=ARIMA_SUBSAMPLE,
        help="statsforecast AutoARIMA runs on a seeded random subsample of at most this many series",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--until",
        default=None,
        help="drop the rows after this date (YYYY-MM-DD) first: with the benchmark's first cutoff it gives "
        "development windows, all before the benchmark's, on which to choose settings",
    )
    parser.add_argument(
        "--auto-params",
        default="{}",
        help='JSON keyword arguments of auto, e.g. {"top_k": 1, "candidates": {"smooth": ["ets", "theta+season"]}}',
    )
    parser.add_argument("--device", default="auto", help="neural models: auto (cuda when present), cpu or cuda")
    parser.add_argument(
        "--neural-params",
        default="{}",
        help='JSON hyper-parameters per neural model, e.g. {"lstm": {"hidden_size": 64, "max_seconds": 600}}',
    )
    parser.add_argument(
        "--neural-train",
        choices=["sample", "all"],
        default="sample",
        help="neural models train on the scored series only (sample) or on every series of --input up to each "
        "training cutoff (all; the scores still cover the sample only)",
    )
    parser.add_argument(
        "--neural-auto-final",
        choices=["fresh", "candidate"],
        default="fresh",
        help="auto+<neural>: forecasts from the cutoff (blend and chosen means) by the model trained up to the "
        "cutoff (fresh) or by the candidate's weights trained before auto's internal backtest (candidate)",
    )
    parser.add_argument(
        "--neural-checkpoints",
        default=None,
        help="a folder: each neural training is saved there, and a later run that trains the same model (settings "
        "other than n_paths, draws_per_path, predict_batch, device and threads) on the same data loads it instead",
    )
    parser.add_argument(
        "--neural-refit",
        action="store_true",
        help="train neural models at every cutoff (default: once, at the first cutoff, then reuse the weights)",
    )
    parser.add_argument(
        "--refit",
        type=refit_setting,
        default=True,
        help="registry models: true re-estimates at every cutoff, false only at the first (later cutoffs keep the "
        "parameters and run the filter over the new days), N every N windows; auto re-selects and refits at every "
        "cutoff whatever this says",
    )
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--report", required=True, type=Path)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    set_single_threaded_numerics()
    step = args.step or args.horizon
    quantiles = tuple(sorted(float(level) for level in args.quantiles.split(",") if level))
    covariates = tuple(name for name in args.covariates.split(",") if name)
    models = [name for name in args.models.split(",") if name]
    season_length = args.season_length or SEASON_LENGTHS.get(args.freq.upper()[:1], 1)

    panel = read_panel(args.input, covariates)
    if args.until:
        panel = panel[panel["ds"] <= pd.Timestamp(args.until)].reset_index(drop=True)
    whole = panel
    if args.sample and panel["unique_id"].nunique() > args.sample:
        ids = np.sort(panel["unique_id"].unique())
        chosen = np.random.default_rng(args.seed).choice(ids, size=args.sample, replace=False)
        panel = panel[panel["unique_id"].isin(chosen)].reset_index(drop=True)
    classes = series_classes(panel, freq=args.freq, horizon=args.horizon, windows=args.windows, step=step)

    neural_params = json.loads(args.neural_params)
    auto_params = {
        "season_length": season_length,
        "n_paths": 0,
        "seed": args.seed,
        "covariate_names": covariates or None,
        **json.loads(args.auto_params),
    }

    def neural_settings(name: str) -> dict:
        return {
            "horizon": args.horizon,
            "season_length": season_length,
            "freq": args.freq,
            "seed": args.seed,
            "threads": args.threads,
            "device": args.device,
            **neural_params.get(name, {}),
        }

    pool = None
    if args.neural_train == "all" and any(name.split("+")[-1] in NEURAL_MODEL_NAMES for name in models):
        pool = TrainingPool(whole, freq=args.freq, covariates=covariates)
    trained = TrainedModels(args.neural_checkpoints)
    forecasters: dict[str, PanelForecaster] = {}
    for name in models:
        base, *extra = name.split("+")
        if name == "auto":
            forecasters[name] = AutoForecaster(**auto_params)
        elif base == "auto" and extra and set(extra) <= set(NEURAL_MODEL_NAMES):
            forecasters[name] = NeuralAutoForecaster(
                tuple(extra),
                auto_params=auto_params,
                settings={member: neural_settings(member) for member in extra},
                pool=pool,
                final=args.neural_auto_final,
                trained=trained,
            )
        elif name in NEURAL_MODEL_NAMES:
            forecasters[name] = NeuralBenchForecaster(
                name, settings=neural_settings(name), refit=args.neural_refit, pool=pool, trained=trained
            )
        else:
            forecasters[name] = RegistryForecaster(
                name, season_length=season_length, n_paths=0, seed=args.seed, threads=args.threads
            )

    common = {
        "horizon": args.horizon,
        "n_windows": args.windows,
        "step": step,
        "freq": args.freq,
        "quantiles": quantiles,
    }
    with tqdm(total=len(forecasters) * args.windows, desc="ours", unit="window", file=sys.stderr) as bar:
        ours = rolling_origin(
            panel,
            forecasters,
            covariates=covariates,
            refit=args.refit,
            progress=lambda _name, _count: bar.update(1),
            **common,
        )
    tables = [ours.table]
    seconds = dict(ours.seconds)
    forecasts = dict.fromkeys(forecasters, ours.forecasts)
    failures = dict(ours.failures)
    notes: dict[str, str] = {}
    if covariates:
        for name in forecasters:
            users = "auto (multiplicative effects), arima/sarima (regressors), neural models (inputs)"
            notes[name] = f"covariates {', '.join(covariates)} passed (used by {users})"
    neural = {
        name: forecaster.summary()
        for name, forecaster in forecasters.items()
        if isinstance(forecaster, NeuralBenchForecaster | NeuralAutoForecaster)
    }
    for name, forecaster in forecasters.items():
        if isinstance(forecaster, NeuralAutoForecaster):
            notes[name] = (
                f"auto with neural candidates {', '.join(forecaster.names)}, trained once in "
                f"{forecaster.train_seconds:.0f} s on data up to the first cutoff minus auto's backtest span"
                + (
                    ", forecasting from each cutoff with the same models trained up to the first cutoff"
                    if forecaster.final == "fresh"
                    else ""
                )
            )
    for name, summary in neural.items():
        if name not in NEURAL_MODEL_NAMES:
            continue
        notes[name] = (
            f"{summary['parameters']:,} parameters, trained {summary['fits']}x in {summary['train_seconds']:.0f} s "
            f"({summary['epochs']} epochs, best {summary['best_epoch']}, {summary['train_windows_per_second']:.0f} "
            f"windows/s on {summary['device']}); inference {summary['predict_series_per_second']} series/s "
            f"({summary['predict_series_per_second_after_first']} after the first window)"
            + ("" if pool is None else f"; trained on all {len(pool):,} series of the input")
        )

    if args.peer == "statsforecast":
        peers = peer_models(season_length=season_length, horizon=args.horizon)
        all_ids = np.sort(panel["unique_id"].unique())
        arima_ids = arima_subsample(all_ids, size=args.arima_sample, seed=args.seed)
        arima_sampled = len(arima_ids) < len(all_ids)
        with tqdm(total=len(peers) * args.windows, desc="statsforecast", unit="window", file=sys.stderr) as bar:
            for name, model in peers.items():
                part = panel
                if name == "sf_AutoARIMA" and arima_sampled:
                    part = panel[panel["unique_id"].isin(arima_ids)]
                    notes[name] = (
                        f"random subsample of {len(arima_ids)} series (seed {args.seed}); compare auto[arima sample]"
                    )
                run = rolling_origin(
                    part,
                    {name: StatsForecastPeer(model, season_length=season_length, threads=args.threads)},
                    progress=lambda _name, _count: bar.update(1),
                    **common,
                )
                tables.append(run.table)
                # a checkpoint: the rows so far, so that an interrupted long run still leaves its forecasts
                args.output.parent.mkdir(parents=True, exist_ok=True)
                pd.concat(tables, ignore_index=True).to_csv(args.output, index=False, date_format="%Y-%m-%d")
                seconds[name] = run.seconds[name]
                forecasts[name] = run.forecasts
                failures[name] = run.failures[name]
                notes.setdefault(name, INTERVAL_NOTES.get(name, "80% interval from statsforecast level=[80]"))
        members = [f"sf_{member}" for member in ENSEMBLE_MEMBERS] + ([] if arima_sampled else ["sf_AutoARIMA"])
        peer_table = pd.concat(tables[1:], ignore_index=True)
        tables.append(median_ensemble(peer_table, members, name=ENSEMBLE_NAME))
        seconds[ENSEMBLE_NAME] = sum(seconds[member] for member in members)
        forecasts[ENSEMBLE_NAME] = ours.forecasts
        failures[ENSEMBLE_NAME] = 0
        notes[ENSEMBLE_NAME] = "median of " + ", ".join(members) + " (seconds: sum of the members)"
        if "auto" in forecasters and arima_sampled:
            sampled = ours.table[(ours.table["model"] == "auto") & ours.table["unique_id"].isin(arima_ids)]
            tables.append(sampled.assign(model="auto[arima sample]"))
            notes["auto[arima sample]"] = "auto scored on the series sf_AutoARIMA ran on"

    table = pd.concat(tables, ignore_index=True)
    report = build_report(
        table,
        panel,
        season_length=season_length,
        quantiles=quantiles,
        seconds=seconds,
        forecasts=forecasts,
        failures=failures,
        notes=notes,
        classes=classes,
        neural=neural,
        config={
            "input": str(args.input),
            "freq": args.freq,
            "horizon": args.horizon,
            "windows": args.windows,
            "step": step,
            "season_length": season_length,
            "quantiles": list(quantiles),
            "covariates": list(covariates),
            "threads": args.threads,
            "seed": args.seed,
            "refit": args.refit,
            "neural_refit": args.neural_refit,
            "neural_train": args.neural_train,
            "neural_auto_final": args.neural_auto_final,
            "neural_checkpoints": args.neural_checkpoints,
            "neural_params": neural_params,
            "auto_params": json.loads(args.auto_params),
            "series": int(panel["unique_id"].nunique()),
            "sample": args.sample,
            "until": args.until,
            "cutoffs": sorted(str(cutoff.date()) for cutoff in pd.to_datetime(table["cutoff"].unique())),
        },
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.output, index=False, date_format="%Y-%m-%d")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    print(side_by_side(report))
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    status = main()
    print(f"done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    raise SystemExit(status)
