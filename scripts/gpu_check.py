"""Train every neural model briefly on cuda and on cpu with the same settings and compare their speed.

Why: the neural tier is meant to train on a GPU when the machine has one, and the choice of machine (and of
batch size) depends on how much faster cuda really is for these small recurrent and attention models. For each
name in forecasting.engine.neural.NEURAL_MODEL_NAMES this trains on a seeded synthetic panel for a fixed time
budget on each device and prints one row per (model, device): parameters, training windows per second
(validation included, after a warm-up fit so that cuda start-up is not counted), inference series per second,
the holdout MAE and best validation loss (so that a broken device path, e.g. bfloat16 autocast, shows as a
number far from the cpu one) and the cuda/cpu speed ratios. Without cuda it prints the cpu rows, says that no
GPU was found, and exits 0. The exit code is 1 when a model failed on a device.

    scripts/gpu_check.sh --quick            # smoke size, well under two minutes on a laptop cpu
    scripts/gpu_check.sh --series 4000 --length 730 --seconds 60 --batch-size 512
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from forecasting.engine.neural import NEURAL_MODEL_NAMES, make_neural_model  # noqa: E402

# Panel size and time budget: (series, length, seconds per model and device, horizon, batch size)
PROFILES: dict[str, tuple[int, int, float, int, int]] = {
    "quick": (48, 160, 4.0, 14, 64),
    "full": (2000, 400, 30.0, 28, 256),
}


@dataclass(frozen=True)
class Row:
    model: str
    device: str
    parameters: int = 0
    train_windows_per_s: float = 0.0
    infer_series_per_s: float = 0.0
    mae: float = float("nan")
    validation_loss: float = float("nan")
    epochs: int = 0
    error: str = ""


def synthetic_panel(n_series: int, length: int, seed: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Series and promotion flags from the project's synthetic corpus, or a small seeded stand-in without it."""
    try:
        from forecasting.engine.neural.synthetic import generate_corpus
    except ImportError:
        rng = np.random.default_rng(seed)
        steps = np.arange(length)
        series, covariates = [], []
        for _ in range(n_series):
            flags = (rng.random(length) < 0.05).astype(float)
            weekly = 1.0 + 0.5 * np.sin(2 * np.pi * (steps + rng.integers(7)) / 7)
            series.append(rng.poisson(rng.lognormal(1.5, 1.0) * weekly * (1.0 + flags)).astype(float))
            covariates.append(flags[:, None])
        return series, covariates
    corpus = generate_corpus(n_series, length, freq="D", seed=seed)
    return corpus.series, corpus.covariates


def run_one(name: str, device: str, args: argparse.Namespace, panel) -> Row:
    """Warm up, train for the time budget, then time one prediction over the whole panel."""
    series, covariates = panel
    h = args.horizon
    history = [values[:-h] for values in series]
    X = [flags[:-h] for flags in covariates]
    X_future = [flags[-h:] for flags in covariates]
    common = {
        "horizon": h,
        "batch_size": args.batch_size,
        "n_paths": args.paths,
        "device": device,
        "threads": args.threads,
        "seed": args.seed,
        "amp": not args.no_amp,
    }
    try:
        warm = make_neural_model(name, **common, max_epochs=1, steps_per_epoch=2)
        warm.fit(history[: args.batch_size], X[: args.batch_size])
        warm.predict(h, history[:8], X[:8], X_future[:8])
        model = make_neural_model(
            name, **common, max_epochs=1_000_000, steps_per_epoch=50, patience=1_000_000, max_seconds=args.seconds
        )
        model.fit(history, X)
        started = time.perf_counter()
        forecasts = model.predict(h, history, X, X_future)
        elapsed = time.perf_counter() - started
    except Exception as error:  # one broken model or device must not hide the others' numbers
        return Row(name, device, error=f"{type(error).__name__}: {error}")
    truth = np.array([values[-h:] for values in series])
    mean = np.array([forecast.mean for forecast in forecasts])
    finite = np.isfinite(mean).all() and all((forecast.quantiles >= 0).all() for forecast in forecasts)
    log = model.training_
    return Row(
        name,
        device,
        parameters=int(model.n_parameters_),
        train_windows_per_s=log.windows_per_second,
        infer_series_per_s=len(series) / elapsed if elapsed > 0 else float("inf"),
        mae=float(np.nanmean(np.abs(mean - truth))),
        validation_loss=float("nan") if log.best_validation_loss is None else float(log.best_validation_loss),
        epochs=log.epochs,
        error="" if finite else "non-finite or negative forecast",
    )


def format_table(rows: list[Row]) -> str:
    cpu = {row.model: row for row in rows if row.device == "cpu" and not row.error}
    header = (
        "model",
        "device",
        "params",
        "train win/s",
        "infer ser/s",
        "MAE",
        "val loss",
        "epochs",
        "x train",
        "x infer",
    )
    lines = [header]
    for row in rows:
        if row.error:
            lines.append((row.model, row.device, "-", "-", "-", "-", "-", "-", "-", f"FAILED {row.error}"))
            continue
        base = cpu.get(row.model)
        ratios = ("-", "-")
        if row.device != "cpu" and base is not None:
            ratios = (
                f"{row.train_windows_per_s / base.train_windows_per_s:.1f}" if base.train_windows_per_s else "-",
                f"{row.infer_series_per_s / base.infer_series_per_s:.1f}" if base.infer_series_per_s else "-",
            )
        lines.append(
            (
                row.model,
                row.device,
                f"{row.parameters:,}",
                f"{row.train_windows_per_s:,.0f}",
                f"{row.infer_series_per_s:,.1f}",
                f"{row.mae:.3f}",
                f"{row.validation_loss:.4f}",
                str(row.epochs),
                *ratios,
            )
        )
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke size (the default sizes below become small)")
    parser.add_argument("--series", type=int, help="series in the synthetic panel")
    parser.add_argument("--length", type=int, help="periods per series")
    parser.add_argument("--seconds", type=float, help="training time budget per model and device")
    parser.add_argument("--horizon", type=int, help="forecast horizon")
    parser.add_argument("--batch-size", type=int, help="training windows per step (same on both devices)")
    parser.add_argument("--paths", type=int, default=100, help="sample paths per forecast")
    parser.add_argument("--threads", type=int, default=None, help="torch cpu threads (default: torch's)")
    parser.add_argument("--models", nargs="*", default=list(NEURAL_MODEL_NAMES), choices=NEURAL_MODEL_NAMES)
    parser.add_argument("--no-amp", action="store_true", help="train in float32 on cuda too")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    series, length, seconds, horizon, batch_size = PROFILES["quick" if args.quick else "full"]
    args.series = args.series or series
    args.length = args.length or length
    args.seconds = args.seconds if args.seconds is not None else seconds
    args.horizon = args.horizon or horizon
    args.batch_size = args.batch_size or batch_size
    if args.length <= 2 * args.horizon:
        parser.error("--length must exceed twice the horizon")
    return args


def main(argv: list[str] | None = None) -> int:
    import torch

    args = parse_args(argv)
    has_cuda = torch.cuda.is_available()
    devices = ["cuda", "cpu"] if has_cuda else ["cpu"]
    gpu = torch.cuda.get_device_name(0) if has_cuda else "none"
    print(
        f"torch {torch.__version__}; gpu: {gpu}; cpu threads: {args.threads or torch.get_num_threads()}; "
        f"{args.series} series x {args.length} days, horizon {args.horizon}, batch {args.batch_size}, "
        f"{args.seconds:g} s per model and device, amp {'off' if args.no_amp else 'on'}",
        flush=True,
    )
    panel = synthetic_panel(args.series, args.length, args.seed)
    rows = []
    for name in args.models:
        for device in devices:
            row = run_one(name, device, args, panel)
            rows.append(row)
            print(f"  {name} on {device}: {'failed: ' + row.error if row.error else 'done'}", flush=True)
    print(format_table(rows))
    if not has_cuda:
        print("No GPU found (torch.cuda.is_available() is False): cpu rows only.")
    return 1 if any(row.error for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
