"""Pretrain a versioned GPT base checkpoint on the synthetic demand corpus (plus any operator series).

    python -m forecasting.bench.pretrain --out var/models/base --series 2000 --length 730 --freq D \
        --max-seconds 600 --seed 0 --device auto --threads 2 [--operator-series panel.parquet] \
        [--model-params '{"d_model": 64, "n_layers": 2}'] [--with-promotions] [--evaluate-series 500]

Writes ``OUT/gpt-base-v<N>.pt`` (N: one more than the highest version already in OUT, never overwriting one) and
the sidecar ``gpt-base-v<N>.json``: the recipe (every argument, so ``pretrain_base(**recipe)`` repeats the run),
the command line, the corpus size, the model's hyper-parameters and parameter count, the training log, the
versions of torch, numpy and Python, and the checkpoint's sha256 so a copied file can be checked. A base is a
shared asset that every merchant's fine-tuned model starts from: the sidecar is what lets someone tell, months
later, what a base was trained on and rebuild it.

Training on cpu is deterministic for a seed and thread count, but a time budget (``--max-seconds``) stops at a
step that depends on the machine's speed. The sidecar's ``replay`` therefore gives a clock-free command
(``max_epochs`` = the best epoch, no time budget) that yields the same weights on cpu whenever the best epoch
ran to its end, which is every case except a budget that cut the best epoch short.

``--evaluate-series N`` forecasts the last horizon of N fresh synthetic series (seed + 1, never trained on)
zero-shot and compares its MAE and MASE with the seasonal naive forecast's, before the checkpoint takes a version;
the figures go to the sidecar and the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from forecasting.engine.backtest import dense_panel
from forecasting.engine.digest import file_digest
from forecasting.engine.metrics import seasonal_naive_scale
from forecasting.engine.neural.gpt import GPTForecaster, pretrain
from forecasting.engine.neural.synthetic import FREQUENCIES, generate_corpus
from forecasting.engine.neural.training import TrainingLog

CHECKPOINT_STEM = "gpt-base-v"
_VERSIONED = re.compile(rf"^{re.escape(CHECKPOINT_STEM)}(\d+)\.(?:pt|json)$")
# Default season per corpus frequency: the weekly corpus has a yearly cycle only.
SEASON_LENGTHS = {"D": 7, "W": 52}
# Model hyper-parameters with an option of their own; --model-params may not set them a second time.
DEDICATED_PARAMS = ("freq", "max_seconds", "seed", "device", "threads")
EVALUATION_PATHS = 20
# The options add_arguments defines, by destination: pretrain_base's keyword arguments but progress.
PRETRAIN_OPTIONS = (
    "out", "series", "length", "freq", "operator_series", "max_seconds", "seed", "device", "threads",
    "model_params", "with_promotions", "evaluate_series",
)  # fmt: skip


def next_version(directory: Path) -> int:
    """One more than the highest gpt-base-v<N> (.pt or .json) in ``directory``; 1 when there is none."""
    if not directory.is_dir():
        return 1
    versions = [int(match.group(1)) for entry in directory.iterdir() if (match := _VERSIONED.match(entry.name))]
    return max(versions, default=0) + 1


def model_settings(
    *,
    freq: str,
    max_seconds: float | None,
    seed: int,
    device: str,
    threads: int | None,
    model_params: Mapping[str, object] | None,
) -> dict:
    """GPTForecaster keyword arguments of a base run: the season of the frequency, model_params, then the options.

    A key of model_params that has its own option (seed, device...) is refused rather than silently overridden,
    so the recipe never holds two values for one setting.
    """
    params = dict(model_params or {})
    clashes = sorted(set(params) & set(DEDICATED_PARAMS))
    if clashes:
        raise ValueError(f"set {', '.join(clashes)} with their own options, not in model_params")
    return {
        "season_length": SEASON_LENGTHS.get(freq, 1),
        **params,
        "freq": freq,
        "max_seconds": max_seconds or None,
        "seed": seed,
        "device": device,
        "threads": threads or None,
    }


def planned_epochs(model_params: Mapping[str, object] | None) -> int:
    """The epoch limit a run will use (the size of a progress bar; a time budget may stop it earlier)."""
    return int((model_params or {}).get("max_epochs", GPTForecaster().max_epochs))


def read_operator_series(path: Path, freq: str) -> list[np.ndarray]:
    """Series of a long-format file (unique_id, ds, y) on one regular grid, each from its first observation.

    Periods absent from the file are missing (NaN), not zero: zero-fill the file first where no row means no sale.
    """
    frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    missing = {"unique_id", "ds", "y"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(sorted(missing))}")
    frame = frame[["unique_id", "ds", "y"]].copy()
    frame["unique_id"] = frame["unique_id"].astype(str)
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame["y"] = pd.to_numeric(frame["y"], errors="coerce")
    frame = frame.sort_values(["unique_id", "ds"], ignore_index=True)
    panel = dense_panel(frame, freq=freq)
    return [panel.values[row, panel.starts[row] :] for row in range(len(panel.ids)) if panel.ends[row] >= 0]


def command_line(recipe: Mapping[str, object]) -> list[str]:
    """The CLI arguments that run ``recipe`` (a pretrain_base keyword dictionary)."""
    argv = [
        "python", "-m", "forecasting.bench.pretrain", "--out", str(recipe["out"]),
        "--series", str(recipe["series"]), "--length", str(recipe["length"]), "--freq", str(recipe["freq"]),
        "--max-seconds", str(recipe["max_seconds"] or 0), "--seed", str(recipe["seed"]),
        "--device", str(recipe["device"]), "--threads", str(recipe["threads"] or 0),
    ]  # fmt: skip
    if recipe["operator_series"]:
        argv += ["--operator-series", str(recipe["operator_series"])]
    if recipe["model_params"]:
        argv += ["--model-params", json.dumps(recipe["model_params"], sort_keys=True)]
    if recipe["with_promotions"]:
        argv.append("--with-promotions")
    if recipe["evaluate_series"]:
        argv += ["--evaluate-series", str(recipe["evaluate_series"])]
    return argv


def replay(recipe: Mapping[str, object], log: TrainingLog, steps_per_epoch: int) -> dict:
    """A clock-free recipe that repeats the saved weights, or why there is none.

    The saved weights are the best epoch's. Every epoch but the last runs all its steps, so stopping after the
    best epoch without a time budget repeats them exactly, unless the budget cut that epoch short.
    """
    complete = log.best_epoch < log.epochs or log.steps >= log.epochs * steps_per_epoch
    if log.best_epoch < 1 or not complete:
        return {"exact": False, "reason": "the time budget cut the best epoch short", "recipe": None, "command": None}
    clock_free = {
        **recipe,
        "max_seconds": None,
        "model_params": {**dict(recipe["model_params"] or {}), "max_epochs": log.best_epoch},
    }
    return {
        "exact": True,
        "reason": f"stops after the best epoch ({log.best_epoch}); same weights on cpu with the same threads",
        "recipe": clock_free,
        "command": shlex.join(command_line(clock_free)),
    }


def zero_shot(model: GPTForecaster, *, n_series: int, length: int, freq: str, seed: int, with_promotions: bool) -> dict:
    """MAE and MASE of the model's mean and of the seasonal naive forecast on the last horizon of a fresh corpus.

    MASE leaves out the series whose history has no seasonal variation to scale by.
    """
    corpus = generate_corpus(n_series, length, freq=freq, seed=seed)
    h = model.horizon
    history = [values[:-h] for values in corpus.series]
    actual = np.array([values[-h:] for values in corpus.series])
    X = X_future = None
    if with_promotions:
        X = [flags[:-h] for flags in corpus.covariates]
        X_future = [flags[-h:] for flags in corpus.covariates]
    forecasts = model.predict(h, history, X=X, X_future=X_future)
    predicted = np.array([forecast.mean for forecast in forecasts])
    season = model.season_length
    naive = np.array([np.resize(np.nan_to_num(values[-season:]), h) for values in history])
    model_errors = np.abs(predicted - actual)  # NaN where the actual is missing (a launch inside the horizon)
    naive_errors = np.abs(naive - actual)
    model_mae, naive_mae = float(np.nanmean(model_errors)), float(np.nanmean(naive_errors))
    # MASE weighs every series alike, where the MAE is dominated by the best sellers
    scales = np.array([seasonal_naive_scale(values, season) for values in history])
    rows = np.isfinite(scales) & np.isfinite(actual).any(axis=1)
    model_mase = np.nanmean(model_errors[rows], axis=1) / scales[rows]
    naive_mase = np.nanmean(naive_errors[rows], axis=1) / scales[rows]
    return {
        "series": n_series,
        "length": length,
        "seed": seed,
        "horizon": h,
        "season_length": season,
        "mae": model_mae,
        "seasonal_naive_mae": naive_mae,
        "mae_ratio": model_mae / naive_mae if naive_mae > 0 else None,
        "mase": float(np.mean(model_mase)) if rows.any() else None,
        "seasonal_naive_mase": float(np.mean(naive_mase)) if rows.any() else None,
    }


def pretrain_base(
    out: str | Path,
    *,
    series: int = 2000,
    length: int = 730,
    freq: str = "D",
    operator_series: str | Path | None = None,
    max_seconds: float | None = 600.0,
    seed: int = 0,
    device: str = "auto",
    threads: int | None = 2,
    model_params: Mapping[str, object] | None = None,
    with_promotions: bool = False,
    evaluate_series: int = 0,
    progress: Callable[[TrainingLog], None] | None = None,
) -> tuple[Path, dict]:
    """Pretrain a GPT base into ``out`` as the next gpt-base-v<N>.pt; returns its path and its sidecar.

    with_promotions: train with the corpus' promotion flag as a covariate (operator series get a zero flag). Such
    a checkpoint fine-tunes only on panels with exactly that one covariate; the default base, without it, only on
    panels without covariates.
    """
    if freq not in FREQUENCIES:
        raise ValueError(f"freq must be one of {sorted(FREQUENCIES)}, not {freq!r}")
    out = Path(out)
    recipe = {
        "out": str(out),
        "series": int(series),
        "length": int(length),
        "freq": freq,
        "operator_series": str(operator_series) if operator_series else None,
        "max_seconds": float(max_seconds) if max_seconds else None,
        "seed": int(seed),
        "device": device,
        "threads": int(threads) if threads else None,
        "model_params": dict(model_params or {}),
        "with_promotions": bool(with_promotions),
        "evaluate_series": int(evaluate_series),
    }
    params = model_settings(
        freq=freq,
        max_seconds=recipe["max_seconds"],
        seed=seed,
        device=device,
        threads=recipe["threads"],
        model_params=model_params,
    )
    operator = read_operator_series(Path(operator_series), freq) if operator_series else []
    corpus = generate_corpus(series, length, freq=freq, seed=seed)

    out.mkdir(parents=True, exist_ok=True)
    # a hidden name that next_version ignores, so a crash never leaves a version behind
    partial = out / f".{CHECKPOINT_STEM}{uuid.uuid4().hex}.partial"
    try:
        started = time.perf_counter()
        model = pretrain(
            partial, corpus=corpus, series=operator, with_promotions=with_promotions, progress=progress, **params
        )
        wall_seconds = time.perf_counter() - started
        evaluation = None
        if evaluate_series:
            evaluated = GPTForecaster.load(partial, device=device, threads=recipe["threads"], n_paths=EVALUATION_PATHS)
            evaluation = zero_shot(
                evaluated,
                n_series=evaluate_series,
                length=length,
                freq=freq,
                seed=seed + 1,
                with_promotions=with_promotions,
            )
        path = _claim_next(out, partial)
    finally:
        partial.unlink(missing_ok=True)
    version = int(_VERSIONED.match(path.name).group(1))

    log = model.training_
    observed = sum(int(np.isfinite(values).sum()) for values in [*corpus.series, *operator])
    sha256, size_bytes = file_digest(path)
    sidecar = {
        "name": path.stem,
        "version": version,
        "checkpoint": path.name,
        "sha256": sha256,
        "size_bytes": size_bytes,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "recipe": recipe,
        "command": shlex.join(command_line(recipe)),
        "corpus": {
            "synthetic_series": len(corpus),
            "synthetic_length": length,
            "operator_series": len(operator),
            "operator_sha256": file_digest(operator_series)[0] if operator_series else None,
            "observed_values": observed,
            "covariates": ["promotion"] if with_promotions else [],
        },
        "model": {"name": model.name, "params": model.get_params(), "n_parameters": int(model.n_parameters_)},
        "training": {**log.as_dict(), "wall_seconds": wall_seconds},
        "replay": replay(recipe, log, model.steps_per_epoch),
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version()},
        "zero_shot": evaluation,
    }
    path.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    return path, sidecar


def _claim_next(directory: Path, partial: Path) -> Path:
    """Move the finished checkpoint to the next free version; an exclusive create makes concurrent runs safe."""
    while True:
        path = directory / f"{CHECKPOINT_STEM}{next_version(directory)}.pt"
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        os.replace(partial, path)
        return path


def summary(path: Path, sidecar: Mapping[str, object]) -> str:
    """A few lines for the terminal: what was written, from what, and how training went."""
    training, corpus, model = sidecar["training"], sidecar["corpus"], sidecar["model"]
    loss = training["best_validation_loss"]
    lines = [
        f"{sidecar['name']}: {path} ({sidecar['size_bytes']:,} bytes, sha256 {sidecar['sha256']})",
        f"  corpus {corpus['synthetic_series']:,} synthetic x {corpus['synthetic_length']} + "
        f"{corpus['operator_series']:,} operator series, {corpus['observed_values']:,} observed values, "
        f"covariates: {', '.join(corpus['covariates']) or 'none'}",
        f"  {model['n_parameters']:,} parameters; {training['epochs']} epochs / {training['steps']:,} steps in "
        f"{training['seconds']:.1f} s on {training['device']} ({training['windows_per_second']:.0f} windows/s), "
        f"best epoch {training['best_epoch']}, validation loss {'–' if loss is None else f'{loss:.4f}'}, "
        f"stopped: {training['stopped']}",
        f"  sidecar {path.with_suffix('.json')}",
    ]
    evaluation = sidecar["zero_shot"]
    if evaluation:
        lines.append(
            f"  zero-shot on {evaluation['series']:,} fresh series (seed {evaluation['seed']}, "
            f"h={evaluation['horizon']}): MAE {_fixed(evaluation['mae'])} vs seasonal naive "
            f"{_fixed(evaluation['seasonal_naive_mae'])} (ratio {_fixed(evaluation['mae_ratio'])}), "
            f"MASE {_fixed(evaluation['mase'])} vs {_fixed(evaluation['seasonal_naive_mase'])}"
        )
    return "\n".join(lines)


def _fixed(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def epoch_bar(total: int) -> tuple[tqdm, Callable[[TrainingLog], None]]:
    """A tqdm bar of epochs and the progress callback that advances it with the latest losses."""
    bar = tqdm(total=total, unit="epoch", desc="pretraining gpt", file=sys.stderr)

    def advance(log: TrainingLog) -> None:
        bar.n = log.epochs
        bar.set_postfix_str(
            f"train {log.train_losses[-1]:.4f} validation {log.validation_losses[-1]:.4f}", refresh=False
        )
        bar.refresh()

    return bar, advance


def add_arguments(
    parser: argparse.ArgumentParser, *, out_default: Path | None, device_default: str, threads_default: int
) -> None:
    """The options of the CLI and of ``manage.py pretrain_gpt``; only the defaults differ between them."""
    parser.add_argument(
        "--out", type=Path, required=out_default is None, default=out_default, help="directory of the checkpoints"
    )
    parser.add_argument("--series", type=int, default=2000, help="synthetic series in the corpus")
    parser.add_argument("--length", type=int, default=730, help="periods per synthetic series")
    parser.add_argument("--freq", default="D", choices=sorted(FREQUENCIES))
    parser.add_argument(
        "--operator-series",
        type=Path,
        default=None,
        help="long-format CSV or parquet (unique_id, ds, y) added to the corpus; absent periods count as missing",
    )
    parser.add_argument("--max-seconds", type=float, default=600.0, help="training time budget (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default=device_default, help="auto (cuda when present), cpu or cuda")
    parser.add_argument("--threads", type=int, default=threads_default, help="torch threads (0: torch's default)")
    parser.add_argument(
        "--model-params",
        type=json.loads,
        default={},
        help='JSON GPTForecaster hyper-parameters, e.g. {"d_model": 128, "n_layers": 4, "max_epochs": 100}',
    )
    parser.add_argument(
        "--with-promotions",
        action="store_true",
        help="train with the corpus' promotion flag as a covariate; such a checkpoint can only be fine-tuned on "
        "panels with that same single covariate (the default base fine-tunes on panels without covariates)",
    )
    parser.add_argument(
        "--evaluate-series",
        type=int,
        default=0,
        help="after training, forecast N fresh synthetic series zero-shot and compare with seasonal naive",
    )


def options_to_kwargs(options: Mapping[str, object]) -> dict:
    """pretrain_base keyword arguments from parsed options (an argparse namespace's or a command's dict)."""
    return {name: options[name] for name in PRETRAIN_OPTIONS}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forecasting.bench.pretrain", description=__doc__.splitlines()[0])
    add_arguments(parser, out_default=None, device_default="auto", threads_default=2)
    kwargs = options_to_kwargs(vars(parser.parse_args(argv)))
    bar, advance = epoch_bar(planned_epochs(kwargs["model_params"]))
    try:
        path, sidecar = pretrain_base(**kwargs, progress=advance)
    finally:
        bar.close()
    print(summary(path, sidecar))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
