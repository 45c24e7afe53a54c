"""Covariate-aware models compared on promotion weeks of Breakfast at the Frat.

    python -m forecasting.bench.campaign_models breakfast var/bench/breakfast_weekly.parquet --series 100 \
        --seed 0 --windows 4 --horizon 13 --step 13 --neural-epochs 8 --neural-seconds 120 \
        --report var/bench/campaign_models_breakfast.json

The series, cutoffs and promoted weeks are those of ``python -m forecasting.bench.campaigns breakfast`` (its
covariates, its seeded sample, the last ``windows x step`` weeks; a promoted week is a test row with feature, display
or a temporary price cut). Every model sees the same promotion covariates, known for the forecast weeks:

- ``auto``: auto without covariates;
- ``auto+covariates``: auto with them through campaign_forecast (its multiplicative effects, learnt across the
  panel), as the campaigns bench runs it;
- ``sarimax``: the engine's AutoSarima, season 52, one regression with seasonal ARIMA errors per series. Its
  regressors are the features auto's effects use (log(price / regular price), and each flag with its
  ``:after`` week), less those its history cannot identify (constant, or a combination of the others). A stepwise
  search with a period of 52 costs seconds per series, so orders and coefficients are estimated at the first cutoff
  only and applied at the later ones (the Kalman filter run over the longer history: ``refit=False``, as a nightly
  run reuses a fit);
- neural (``transformer`` by default, ``--neural``): one global model trained on the first cutoff's history with the
  same features as known-future covariates, on the CPU, then reused at every cutoff (as forecasting.bench.neural
  does). Training runs ``--neural-epochs`` epochs, so that a run repeats under its seed, capped at
  ``--neural-seconds`` (the report says when the cap stopped it: the run then depends on the machine's speed).

Reported per model: WAPE, bias and MAE on promoted weeks, WAPE on all weeks, WQL (the quantile levels of
forecasting.engine.base.DEFAULT_QUANTILES) on promoted and on all weeks, seconds (fit and forecast), and the
coverage of the lift interval as the campaigns bench defines it: per series and window, the realised lift of the
promoted weeks (actual / baseline - 1, summed over those weeks, the baseline being the model's mean forecast with the
promotion switched off: regular price, no flag) against the interval of the model's with-promotion sample paths over
the same baseline. Every model here has paths except auto without covariates, which has no lift.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from forecasting.bench.__main__ import read_panel
from forecasting.bench.campaigns import BREAKFAST_COVARIATES, BREAKFAST_KINDS, sample_series
from forecasting.bench.neural import train_with_progress
from forecasting.bench.peer import set_single_threaded_numerics
from forecasting.engine.auto import AutoForecaster
from forecasting.engine.backtest import DensePanel, cutoff_positions, dense_panel
from forecasting.engine.base import DEFAULT_QUANTILES
from forecasting.engine.campaigns import Estimate, baseline_covariates, campaign_forecast
from forecasting.engine.covariates import covariate_features
from forecasting.engine.metrics import weighted_quantile_loss
from forecasting.engine.models.arima import AutoSarima

SEASON_LENGTH = 52
# a regressor whose design matrix has a relative singular value below this adds nothing identifiable
RANK_TOLERANCE = 1e-8


@dataclass
class ModelScores:
    """What one model forecast over every window: means, quantiles, its lift intervals and its seconds."""

    means: list[np.ndarray] = field(default_factory=list)
    quantiles: list[np.ndarray] = field(default_factory=list)
    lifts: list[tuple[float, float, float]] = field(default_factory=list)
    seconds: float = 0.0

    def add(
        self,
        means: np.ndarray,
        quantiles: np.ndarray,
        *,
        actual: np.ndarray,
        promoted: np.ndarray,
        baseline: np.ndarray | None = None,
        paths: Sequence[np.ndarray] | None = None,
        level: float = 0.8,
    ) -> None:
        """One window: means (n, h), quantiles (n, q, h), and optionally the lift inputs: baseline means (n, h) and
        with-promotion paths (K, h) per series."""
        self.means.append(means)
        self.quantiles.append(quantiles)
        if baseline is None or paths is None:
            return
        for row in range(len(means)):
            weeks = promoted[row] & np.isfinite(actual[row])
            expected = float(baseline[row, weeks].sum())
            if not weeks.any() or expected <= 0:
                continue
            interval = Estimate.from_draws(paths[row][:, weeks].sum(axis=1) / expected - 1.0, level)
            self.lifts.append((float(actual[row, weeks].sum()) / expected - 1.0, interval.lower, interval.upper))


def promotion_features(raw: np.ndarray) -> np.ndarray:
    """(n, T, p) features of the raw Breakfast covariates (n, T, 4): what auto's effects, SARIMAX and the neural
    model all read."""
    features, _ = covariate_features(raw, BREAKFAST_KINDS, names=BREAKFAST_COVARIATES)
    return features


def identifiable_columns(history: np.ndarray) -> np.ndarray:
    """Indices of the feature columns (T, p) kept as regressors, in order: each one that is not constant and not
    a linear combination of an intercept and the columns kept before it (a flag that always comes with a price cut,
    two flags always set together), which would make the regression rank deficient."""
    keep: list[int] = []
    for column in range(history.shape[1]):
        design = np.column_stack([np.ones(len(history)), history[:, [*keep, column]]])
        singular = np.linalg.svd(design, compute_uv=False)
        if singular.min() > RANK_TOLERANCE * singular.sum():
            keep.append(column)
    return np.array(keep, dtype=int)


def evaluate_models(
    panel: pd.DataFrame,
    *,
    horizon: int,
    windows: int,
    step: int,
    level: float,
    n_paths: int,
    seed: int,
    neural: Mapping[str, Mapping[str, object]],
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    season_length: int = SEASON_LENGTH,
) -> dict:
    """Promoted-week and all-week errors, WQL, lift coverage and seconds of every model (see the module docstring).

    neural: model name -> settings for make_neural_model (horizon, season, frequency and seed are filled in)."""
    dense = dense_panel(panel, freq="W", covariates=BREAKFAST_COVARIATES)
    positions = cutoff_positions(len(dense.dates), horizon=horizon, n_windows=windows, step=step)
    raw = np.stack([dense.covariates[name] for name in BREAKFAST_COVARIATES], axis=-1)
    plain = AutoForecaster(n_paths=0, season_length=season_length, seed=seed)
    covariate_auto = AutoForecaster(
        n_paths=n_paths,
        covariate_names=BREAKFAST_COVARIATES,
        covariate_kinds=BREAKFAST_KINDS,
        season_length=season_length,
        seed=seed,
    )
    names = ("auto", "auto+covariates", "sarimax", *neural)
    scores = {name: ModelScores() for name in names}
    sarimax: dict[int, tuple[AutoSarima, np.ndarray]] = {}
    trained: dict[str, object] = {}
    actuals, promotions = [], []
    for cutoff in tqdm(positions, desc="windows", unit="window", file=sys.stderr):
        rows = np.flatnonzero((dense.starts <= cutoff) & (dense.ends > cutoff))
        future = slice(cutoff + 1, cutoff + 1 + horizon)
        series = [dense.history(row, cutoff) for row in rows]
        X_raw = [raw[row, dense.starts[row] : cutoff + 1] for row in rows]
        future_raw = [raw[row, future] for row in rows]
        actual = dense.values[rows, future]
        promoted = np.stack([block[:, 1:].max(axis=1) >= 0.5 for block in future_raw])
        on, off = _window_features(dense, raw, rows, cutoff, horizon)
        window = {"actual": actual, "promoted": promoted, "level": level}
        actuals.append(actual)
        promotions.append(promoted)

        started = time.perf_counter()
        results = plain.forecast(series, horizon, quantiles=quantiles)
        scores["auto"].seconds += time.perf_counter() - started
        scores["auto"].add(
            np.stack([result.forecast.mean for result in results]),
            np.stack([result.forecast.quantiles for result in results]),
            **window,
        )

        started = time.perf_counter()
        campaign = campaign_forecast(
            series, X_raw, future_raw, campaign_periods=horizon, forecaster=covariate_auto, level=level, seed=seed
        )
        scores["auto+covariates"].seconds += time.perf_counter() - started
        draws = [lift.campaign_draws for lift in campaign.products]
        scores["auto+covariates"].add(
            np.stack([lift.with_campaign for lift in campaign.products]),
            np.stack([np.quantile(paths, quantiles, axis=0) for paths in draws]),
            baseline=np.stack([lift.baseline for lift in campaign.products]),
            paths=draws,
            **window,
        )

        started = time.perf_counter()
        with_promotion, without_promotion = [], []
        for position, row in enumerate(rows):
            history = on[position, dense.starts[row] : cutoff + 1]
            if row not in sarimax:
                keep = identifiable_columns(history)
                model = AutoSarima(season_length=season_length, n_paths=n_paths, seed=seed)
                sarimax[row] = (model.fit(series[position], history[:, keep] if keep.size else None), keep)
                applied = sarimax[row][0]
            else:
                model, keep = sarimax[row]
                applied = model.apply(series[position], history[:, keep] if keep.size else None)
            regressors = keep.size > 0
            with_promotion.append(
                applied.predict(horizon, on[position, cutoff + 1 :][:, keep] if regressors else None, quantiles)
            )
            without_promotion.append(
                applied.predict(horizon, off[position, cutoff + 1 :][:, keep] if regressors else None, quantiles)
            )
        scores["sarimax"].seconds += time.perf_counter() - started
        scores["sarimax"].add(
            np.stack([forecast.mean for forecast in with_promotion]),
            np.stack([forecast.quantiles for forecast in with_promotion]),
            baseline=np.stack([forecast.mean for forecast in without_promotion]),
            paths=[forecast.paths for forecast in with_promotion],
            **window,
        )

        end = np.datetime64(dense.dates[cutoff].date(), "D")
        history_features = [on[position, dense.starts[row] : cutoff + 1] for position, row in enumerate(rows)]
        for name, settings in neural.items():
            started = time.perf_counter()
            if name not in trained:
                options = {
                    "horizon": horizon,
                    "season_length": season_length,
                    "freq": "W",
                    "seed": seed,
                    **settings,
                }
                trained[name] = train_with_progress(name, options, series, history_features, end)
            model = trained[name]
            with_promotion = model.predict(
                horizon, series, history_features, list(on[:, cutoff + 1 :]), quantiles=quantiles, end=end
            )
            without_promotion = model.predict(
                horizon, series, history_features, list(off[:, cutoff + 1 :]), quantiles=quantiles, end=end
            )
            scores[name].seconds += time.perf_counter() - started
            scores[name].add(
                np.stack([forecast.mean for forecast in with_promotion]),
                np.stack([forecast.quantiles for forecast in with_promotion]),
                baseline=np.stack([forecast.mean for forecast in without_promotion]),
                paths=[forecast.paths for forecast in with_promotion] if with_promotion[0].paths is not None else None,
                **window,
            )

    actual = np.concatenate(actuals)
    promoted = np.concatenate(promotions)
    report: dict = {
        "series": len(dense.ids),
        "cutoffs": [str(dense.dates[cutoff].date()) for cutoff in positions],
        "rows": {"promoted": int((np.isfinite(actual) & promoted).sum()), "all": int(np.isfinite(actual).sum())},
        "quantiles": list(quantiles),
        "level": level,
        "season_length": season_length,
        "sarimax_orders": _order_counts(model for model, _ in sarimax.values()),
        "models": {name: _summary(scores[name], actual, promoted, quantiles) for name in names},
        "neural": {name: _training(trained[name]) for name in trained},
    }
    return report


def _window_features(
    dense: DensePanel, raw: np.ndarray, rows: np.ndarray, cutoff: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Features (len(rows), cutoff + 1 + horizon, p) of the real covariates and of the forecast weeks switched off
    (baseline_covariates: regular price, no flag); the history part of both is the same."""
    grid = raw[rows, : cutoff + 1 + horizon]
    histories = [raw[row, dense.starts[row] : cutoff + 1] for row in rows]
    switched_off = grid.copy()
    switched_off[:, cutoff + 1 :] = np.stack(
        baseline_covariates(histories, list(grid[:, cutoff + 1 :]), BREAKFAST_KINDS)
    )
    return promotion_features(grid), promotion_features(switched_off)


def _summary(scores: ModelScores, actual: np.ndarray, promoted: np.ndarray, quantiles: tuple[float, ...]) -> dict:
    means = np.concatenate(scores.means)
    grid = np.concatenate(scores.quantiles)
    observed = np.isfinite(actual)
    summary: dict = {"seconds": round(scores.seconds, 1)}
    for part, mask in (("promoted_weeks", observed & promoted), ("all_weeks", observed)):
        y, forecast = actual[mask], means[mask]
        total = float(y.sum())
        summary[part] = {
            "wape": float(np.abs(forecast - y).sum() / total),
            "bias": float((forecast - y).sum() / total),
            "mae": float(np.abs(forecast - y).mean()),
            "wql": weighted_quantile_loss(y, np.moveaxis(grid, 1, 0)[:, mask], quantiles),
        }
    if scores.lifts:
        realised, lower, upper = (np.array(column) for column in zip(*scores.lifts, strict=True))
        summary["lift_interval"] = {
            "promotions": len(realised),
            "coverage": float(np.mean((realised >= lower) & (realised <= upper))),
            "below": float(np.mean(realised < lower)),
            "above": float(np.mean(realised > upper)),
        }
    return summary


def _order_counts(models) -> dict[str, int]:
    """How many series chose each SARIMAX order, "(p,d,q)(P,D,Q)m" (or the fallback that replaced it)."""
    counts: dict[str, int] = {}
    for model in models:
        if model.fallback_ is not None:
            key = f"fallback {model.fallback_.name}"
        else:
            p, q, seasonal_p, seasonal_q, period, d, seasonal_d = (int(value) for value in model.fitted_["arma"])
            key = f"({p},{d},{q})({seasonal_p},{seasonal_d},{seasonal_q}){period}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def _training(model) -> dict:
    log = model.training_
    return {
        "parameters": int(model.n_parameters_),
        "epochs": log.epochs,
        "best_epoch": log.best_epoch,
        "stopped": log.stopped,
        "device": log.device,
        "max_seconds": model.max_seconds,
    }


def print_report(report: dict) -> None:
    print(f"Breakfast: {report['series']} series, cutoffs {', '.join(report['cutoffs'])}")
    print(f"rows: {report['rows']['promoted']} promoted weeks of {report['rows']['all']}")
    header = (
        f"{'model':<16} {'prom WAPE':>9} {'bias':>7} {'prom MAE':>8} {'all WAPE':>8} {'prom WQL':>8}"
        f" {'all WQL':>7} {'lift cov':>8} {'seconds':>8}"
    )
    print(header)
    for name, summary in report["models"].items():
        promoted, every = summary["promoted_weeks"], summary["all_weeks"]
        lift = summary.get("lift_interval")
        coverage = f"{lift['coverage']:.3f}" if lift else "-"
        print(
            f"{name:<16} {promoted['wape']:>9.3f} {promoted['bias']:>+7.3f} {promoted['mae']:>8.2f}"
            f" {every['wape']:>8.3f} {promoted['wql']:>8.3f} {every['wql']:>7.3f} {coverage:>8}"
            f" {summary['seconds']:>8.1f}"
        )
    print(f"lift interval level {report['level']:.0%}; WQL over levels {', '.join(map(str, report['quantiles']))}")
    orders = ", ".join(f"{order} x{count}" for order, count in list(report["sarimax_orders"].items())[:5])
    print(f"sarimax (season {report['season_length']}, fitted at the first cutoff): {orders}")
    for name, log in report["neural"].items():
        print(
            f"{name}: {log['parameters']:,} parameters, {log['epochs']} epochs (best {log['best_epoch']},"
            f" {log['stopped']}), {log['device']}, budget {log['max_seconds']} s"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m forecasting.bench.campaign_models", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="dataset", required=True)
    breakfast = commands.add_parser("breakfast", help="rolling origin on the weekly Breakfast panel")
    breakfast.add_argument("input", type=Path, help="forecasting.bench.prepare breakfast output")
    breakfast.add_argument("--series", type=int, default=100, help="a seeded random sample of this many series")
    breakfast.add_argument("--windows", type=int, default=4)
    breakfast.add_argument("--horizon", type=int, default=13)
    breakfast.add_argument("--step", type=int, default=13)
    breakfast.add_argument("--seed", type=int, default=0)
    breakfast.add_argument("--level", type=float, default=0.8)
    breakfast.add_argument("--paths", type=int, default=200)
    breakfast.add_argument("--neural", default="transformer", help="comma-separated neural models ('' for none)")
    breakfast.add_argument(
        "--neural-epochs", type=int, default=8, help="training epochs per neural model (what makes a run repeatable)"
    )
    breakfast.add_argument(
        "--neural-seconds", type=float, default=120.0, help="training time cap per neural model (stops it earlier)"
    )
    breakfast.add_argument("--threads", type=int, default=2, help="torch threads of the neural models")
    breakfast.add_argument("--report", type=Path, default=None, help="write the report as JSON here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    set_single_threaded_numerics()
    panel = sample_series(read_panel(args.input, BREAKFAST_COVARIATES), size=args.series, seed=args.seed)
    settings = {
        "max_epochs": args.neural_epochs,
        "max_seconds": args.neural_seconds,
        "threads": args.threads,
        "device": "cpu",
        "n_paths": args.paths,
    }
    report = evaluate_models(
        panel,
        horizon=args.horizon,
        windows=args.windows,
        step=args.step,
        level=args.level,
        n_paths=args.paths,
        seed=args.seed,
        neural={name: settings for name in args.neural.split(",") if name},
    )
    report["arguments"] = {key: str(value) for key, value in vars(args).items()}
    print_report(report)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
