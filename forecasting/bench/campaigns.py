"""Evaluation of the campaign engine (forecasting.engine.campaigns) on Breakfast at the Frat and on the demo shop.

    python -m forecasting.bench.campaigns breakfast --input breakfast_weekly.parquet --windows 4 --horizon 13 \
        --step 13 --sample 200 --seed 0 --report breakfast_campaigns.json
    python -m forecasting.bench.campaigns demo --seed 0 --skus 40 --days 730 --report demo_campaigns.json

Breakfast (weekly store x UPC, forecasting.bench.prepare breakfast): rolling origin over the last ``windows x step``
weeks. At every cutoff auto forecasts the next ``horizon`` weeks without covariates, and campaign_forecast runs it
with the weeks' real promotion covariates (price, feature, display, tpr_only: known in advance for a planned
promotion) and with them switched off (regular price, no flag). Reported: WAPE and bias on promoted weeks (a row
with feature, display or tpr_only) and on the other weeks, with and without covariates; and the coverage of the lift
interval. A series' promotion in a window is its promoted test weeks; its realised lift proxy is
actual / baseline forecast - 1 summed over those weeks (the baseline being auto's point forecast with the covariates
off), and the predicted interval is that of campaign demand / baseline forecast - 1 over the same weeks, from the
paired paths with their effect draws (CampaignLift.measured_percent, on those weeks): both sides share the
denominator, so the check is whether the realised promoted demand falls where the forecast said, relative to the
baseline. Coverage is the share of (series, window) promotions whose proxy falls inside the interval.

Demo (ecomforecast.demo.shop, pure numpy: no database): for every planted campaign with a year of history before it,
(1) the planned forecast from the data before its start, with covariates price (list price x (1 - discount) in the
window), campaign (1 in the window) and post (1 in the ``post_days`` after it), and (2) the readouts after it, from
pre-campaign data only, without and with controls (the same category's unpromoted SKUs, or every unpromoted SKU
when the category has fewer than three). The planted lift (a multiplier of expected demand in the window, the same
for every promoted SKU) is inside the 80 % interval of the campaign's total percent lift, or not. The planned
forecast's effects use a baseline half-window of 28 days (``--covariate-window``; auto's daily default is 7), longer
than any demo campaign. Demand is the generator's demand before stock-outs, so the check is about the effect, not
about censoring. The planned forecast's percent lift is the paired one (CampaignLift.percent: the expected lift, as
planted), whose interval holds the error of the fitted effects and the spread of the effects between past campaigns
(each record's ``episode_sd``); the readout's is actual / counterfactual - 1, whose interval also holds the demand
noise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ecomforecast.demo.shop import generate_demo_shop
from forecasting.bench.__main__ import read_panel
from forecasting.bench.peer import set_single_threaded_numerics
from forecasting.engine.auto import AutoForecaster
from forecasting.engine.backtest import cutoff_positions, dense_panel
from forecasting.engine.campaigns import Estimate, campaign_forecast, campaign_readout

BREAKFAST_COVARIATES = ("price", "feature", "display", "tpr_only")
BREAKFAST_KINDS = ("price", "flag", "flag", "flag")
PROMOTION_FLAGS = ("feature", "display", "tpr_only")
DEMO_COVARIATES = ("price", "campaign", "post")
DEMO_KINDS = ("price", "flag", "flag")
# the effects' baseline half-window on the demo: four whole weeks, twice its longest campaign (14 days), so that the
# baseline of a promoted day rests on unpromoted neighbours; auto's daily default (7) sits inside a long campaign
DEMO_COVARIATE_WINDOW = 28
# the demo's controls: the promoted category's own unpromoted SKUs when it has this many, else every unpromoted SKU
MIN_CATEGORY_CONTROLS = 3


def evaluate_breakfast(
    panel: pd.DataFrame, *, horizon: int, windows: int, step: int, level: float, n_paths: int, seed: int
) -> dict:
    """WAPE on promoted / other weeks with and without covariates, and the lift interval's coverage."""
    dense = dense_panel(panel, freq="W", covariates=BREAKFAST_COVARIATES)
    positions = cutoff_positions(len(dense.dates), horizon=horizon, n_windows=windows, step=step)
    settings = {"season_length": 52, "seed": seed}
    plain = AutoForecaster(n_paths=0, **settings)
    covariate_auto = AutoForecaster(
        n_paths=n_paths, covariate_names=BREAKFAST_COVARIATES, covariate_kinds=BREAKFAST_KINDS, **settings
    )
    errors: dict[str, list[np.ndarray]] = {"actual": [], "without": [], "with": [], "promoted": []}
    proxies, lowers, uppers, predicted = [], [], [], []
    seconds = 0.0
    for cutoff in tqdm(positions, desc="windows", unit="window", file=sys.stderr):
        rows = np.flatnonzero((dense.starts <= cutoff) & (dense.ends > cutoff))
        series = [dense.history(row, cutoff) for row in rows]
        X = [dense.covariate_block(BREAKFAST_COVARIATES, row, dense.starts[row], cutoff + 1) for row in rows]
        X_future = [dense.covariate_block(BREAKFAST_COVARIATES, row, cutoff + 1, cutoff + 1 + horizon) for row in rows]
        actual = dense.values[rows, cutoff + 1 : cutoff + 1 + horizon]
        promoted = np.stack([block[:, 1:].max(axis=1) >= 0.5 for block in X_future])
        started = time.perf_counter()
        without = np.stack([result.forecast.mean for result in plain.forecast(series, horizon)])
        result = campaign_forecast(
            series, X, X_future, campaign_periods=horizon, forecaster=covariate_auto, level=level, seed=seed
        )
        seconds += time.perf_counter() - started
        with_covariates = np.stack([lift.with_campaign for lift in result.products])
        errors["actual"].append(actual)
        errors["without"].append(without)
        errors["with"].append(with_covariates)
        errors["promoted"].append(promoted)
        for product, lift in enumerate(result.products):
            weeks = promoted[product] & np.isfinite(actual[product])
            expected = float(lift.baseline[weeks].sum())
            if not weeks.any() or expected <= 0:
                continue
            interval = Estimate.from_draws(lift.campaign_draws[:, weeks].sum(axis=1) / expected - 1.0, level)
            proxies.append(float(actual[product, weeks].sum()) / expected - 1.0)
            lowers.append(interval.lower)
            uppers.append(interval.upper)
            predicted.append(interval.mean)
    actual = np.concatenate(errors["actual"])
    promoted = np.concatenate(errors["promoted"])
    observed = np.isfinite(actual)
    report: dict = {"cutoffs": [str(dense.dates[cutoff].date()) for cutoff in positions], "seconds": seconds}
    for name in ("without", "with"):
        forecast = np.concatenate(errors[name])
        report[f"{name}_covariates"] = {
            part: _wape(actual[observed & mask], forecast[observed & mask])
            for part, mask in (("promoted_weeks", promoted), ("other_weeks", ~promoted), ("all_weeks", observed))
        }
    promoted_without = report["without_covariates"]["promoted_weeks"]["wape"]
    promoted_with = report["with_covariates"]["promoted_weeks"]["wape"]
    report["promoted_wape_reduction"] = 1.0 - promoted_with / promoted_without
    proxies_array, lower, upper = np.array(proxies), np.array(lowers), np.array(uppers)
    inside = (proxies_array >= lower) & (proxies_array <= upper)
    report["lift_interval"] = {
        "level": level,
        "promotions": len(proxies),
        "coverage": float(inside.mean()) if proxies else float("nan"),
        "below": float(np.mean(proxies_array < lower)) if proxies else float("nan"),
        "above": float(np.mean(proxies_array > upper)) if proxies else float("nan"),
        "median_realised_lift": float(np.median(proxies_array)) if proxies else float("nan"),
        "median_predicted_lift": float(np.median(predicted)) if predicted else float("nan"),
        "median_width": float(np.median(upper - lower)) if proxies else float("nan"),
    }
    report["series"] = int(panel["unique_id"].nunique())
    report["rows"] = {"promoted": int((observed & promoted).sum()), "other": int((observed & ~promoted).sum())}
    return report


def _wape(actual: np.ndarray, forecast: np.ndarray) -> dict[str, float]:
    total = float(np.sum(actual))
    return {
        "wape": float(np.sum(np.abs(forecast - actual)) / total),
        "bias": float(np.sum(forecast - actual) / total),
    }


def evaluate_demo(
    *,
    seed: int,
    skus: int,
    days: int,
    min_history: int,
    post_days: int,
    covariate_window: int | None,
    level: float,
    n_paths: int,
) -> dict:
    """Per planted campaign: the planned forecast and the readouts (without and with controls) against the truth."""
    shop = generate_demo_shop(seed, skus, days, start=dt.date(2023, 1, 2))
    daily = shop.truth.daily
    codes = np.sort(daily["sku"].unique())
    demand = daily.pivot(index="sku", columns="date", values="demand_units").loc[codes].to_numpy(dtype=float)
    list_price = daily.pivot(index="sku", columns="date", values="list_price").loc[codes].to_numpy(dtype=float)
    dates = pd.Index(sorted(daily["date"].unique()))
    products = shop.products.set_index("sku").loc[codes]
    category = products["category"].to_numpy()
    unit_cost = products["unit_cost"].to_numpy(dtype=float)
    costs = shop.campaigns.set_index("campaign_id")["cost"]
    row_of = {code: row for row, code in enumerate(codes)}

    price = list_price.copy()
    flag = np.zeros_like(demand)
    post = np.zeros_like(demand)
    planted = shop.truth.campaigns
    for campaign in planted.itertuples():
        start, end = dates.get_loc(campaign.starts_on), dates.get_loc(campaign.ends_on) + 1
        rows = [row_of[code] for code in campaign.skus]
        price[rows, start:end] *= 1.0 - campaign.discount_pct / 100.0
        flag[rows, start:end] = 1.0
        post[rows, end : end + post_days] = 1.0
    covariates = np.stack([price, flag, post], axis=-1)
    settings = {"season_length": 7, "seed": seed, "n_paths": n_paths}
    plain = AutoForecaster(**settings)
    with_covariates = AutoForecaster(
        covariate_names=DEMO_COVARIATES,
        covariate_kinds=DEMO_KINDS,
        covariate_window=covariate_window,
        **settings,
    )

    results = []
    for campaign in tqdm(list(planted.itertuples()), desc="campaigns", unit="campaign", file=sys.stderr):
        start, end = dates.get_loc(campaign.starts_on), dates.get_loc(campaign.ends_on) + 1
        stop = end + post_days
        if start < min_history or stop > len(dates):
            continue
        rows = [row_of[code] for code in campaign.skus]
        others = [row for row in range(len(codes)) if row not in rows and demand[row, :start].sum() > 0]
        same = [row for row in others if category[row] == category[rows[0]]]
        controls = same if len(same) >= MIN_CATEGORY_CONTROLS else others
        discount = campaign.discount_pct / 100.0
        economics = {
            "price": list_price[rows, start],
            "unit_cost": unit_cost[rows],
            "discount": discount,
            "campaign_cost": float(costs[campaign.campaign_id]),
        }
        truth = campaign.lift - 1.0
        planned = campaign_forecast(
            list(demand[:, :start]),
            list(covariates[:, :start]),
            list(covariates[:, start:stop]),
            campaign_periods=end - start,
            products=rows,
            forecaster=with_covariates,
            level=level,
            seed=seed,
            **economics,
        )
        record = {
            "campaign_id": campaign.campaign_id,
            "skus": len(rows),
            "days": end - start,
            "discount": discount,
            "planted_lift": truth,
            "planned": _summary(planned.total.percent, truth),
            # the spread of the effects between past campaigns that the planned interval carries
            "episode_sd": {
                name: entry["episode_sd"]
                for name, entry in (planned.effects[0].get("effects", {}) if planned.effects else {}).items()
                if entry["episode_sd"] is not None
            },
            # the held-out check of the planned interval on the campaigns before this one
            "calibration": planned.calibration,
            "predicted_roi": planned.roi.mean if planned.roi is not None else None,
            "p_roi_positive": planned.p_roi_positive,
        }
        for name, control_rows in (("readout", []), ("readout_controls", controls)):
            readout = campaign_readout(
                list(demand[rows, :start]),
                list(demand[rows, start:stop]),
                campaign_periods=end - start,
                controls=list(demand[control_rows, :start]),
                control_actual=list(demand[control_rows, start:stop]),
                predicted_roi=record["predicted_roi"],
                forecaster=plain,
                level=level,
                **economics,
            )
            record[name] = _summary(readout.total.percent, truth)
            record[name]["realised_roi"] = readout.roi.mean if readout.roi is not None else None
            record[name]["control_ratio"] = readout.control_ratio
        results.append(record)
    report: dict = {
        "campaigns": results,
        "level": level,
        "seed": seed,
        "skus": skus,
        "days": days,
        "covariate_window": covariate_window,
    }
    for name in ("planned", "readout", "readout_controls"):
        covered = [record[name]["covered"] for record in results]
        report[f"{name}_coverage"] = float(np.mean(covered)) if covered else float("nan")
    return report


def _summary(estimate: Estimate, truth: float) -> dict:
    return {
        "mean": estimate.mean,
        "lower": estimate.lower,
        "upper": estimate.upper,
        "covered": estimate.contains(truth),
    }


def print_breakfast(report: dict) -> None:
    print(f"Breakfast: {report['series']} series, cutoffs {', '.join(report['cutoffs'])}")
    print(f"rows: {report['rows']['promoted']} promoted weeks, {report['rows']['other']} other weeks")
    print(f"{'covariates':<12} {'promoted WAPE':>14} {'bias':>7} {'other WAPE':>11} {'bias':>7} {'all WAPE':>9}")
    for name in ("without", "with"):
        part = report[f"{name}_covariates"]
        print(
            f"{name:<12} {part['promoted_weeks']['wape']:>14.3f} {part['promoted_weeks']['bias']:>+7.3f}"
            f" {part['other_weeks']['wape']:>11.3f} {part['other_weeks']['bias']:>+7.3f}"
            f" {part['all_weeks']['wape']:>9.3f}"
        )
    print(f"promoted-week WAPE reduction: {report['promoted_wape_reduction']:.1%} (target >= 20 %)")
    lift = report["lift_interval"]
    print(
        f"lift interval ({lift['level']:.0%}): coverage {lift['coverage']:.3f} over {lift['promotions']} promotions"
        f" (below {lift['below']:.3f}, above {lift['above']:.3f}); median realised lift"
        f" {lift['median_realised_lift']:+.3f}, predicted {lift['median_predicted_lift']:+.3f},"
        f" median width {lift['median_width']:.3f}"
    )


def print_demo(report: dict) -> None:
    print(f"Demo shop seed {report['seed']}: {report['skus']} SKUs, {report['days']} days")
    print(
        f"{'campaign':<9} {'skus':>4} {'days':>4} {'disc':>5} {'planted':>8}  {'planned':>22}  {'readout':>22}"
        f"  {'readout+controls':>22}"
    )
    for record in report["campaigns"]:
        cells = [
            f"{record[name]['mean']:+.2f} [{record[name]['lower']:+.2f},{record[name]['upper']:+.2f}]"
            + ("*" if record[name]["covered"] else " ")
            for name in ("planned", "readout", "readout_controls")
        ]
        print(
            f"{record['campaign_id']:<9} {record['skus']:>4} {record['days']:>4} {record['discount']:>5.2f}"
            f" {record['planted_lift']:>+8.2f}  {cells[0]:>22}  {cells[1]:>22}  {cells[2]:>22}"
        )
    print(
        f"planted lift inside the {report['level']:.0%} interval (* above): planned {report['planned_coverage']:.2f},"
        f" readout {report['readout_coverage']:.2f}, readout with controls {report['readout_controls_coverage']:.2f}"
        " (target >= 0.80)"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m forecasting.bench.campaigns", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="dataset", required=True)
    breakfast = commands.add_parser("breakfast", help="rolling origin on the weekly Breakfast panel")
    breakfast.add_argument("--input", required=True, type=Path, help="forecasting.bench.prepare breakfast output")
    breakfast.add_argument("--windows", type=int, default=4)
    breakfast.add_argument("--horizon", type=int, default=13)
    breakfast.add_argument("--step", type=int, default=13)
    breakfast.add_argument("--sample", type=int, default=200, help="a seeded random sample of this many series")
    demo = commands.add_parser("demo", help="the planted campaigns of the demo shop generator")
    demo.add_argument("--skus", type=int, default=40)
    demo.add_argument("--days", type=int, default=730)
    demo.add_argument("--min-history", type=int, default=365, help="days of history a campaign needs to be scored")
    demo.add_argument("--post-days", type=int, default=7, help="the post window, days after a campaign")
    demo.add_argument(
        "--covariate-window",
        type=int,
        default=DEMO_COVARIATE_WINDOW,
        help="auto's covariate_window (the effects' baseline half-window, days) for the planned forecast",
    )
    for command in (breakfast, demo):
        command.add_argument("--seed", type=int, default=0)
        command.add_argument("--level", type=float, default=0.8)
        command.add_argument("--paths", type=int, default=200)
        command.add_argument("--report", type=Path, default=None, help="write the report as JSON here")
    return parser.parse_args(argv)


def sample_series(panel: pd.DataFrame, *, size: int, seed: int) -> pd.DataFrame:
    """``size`` ids drawn with a seeded generator from the sorted ids (all of them if fewer, or size 0)."""
    if not size or panel["unique_id"].nunique() <= size:
        return panel
    ids = np.sort(panel["unique_id"].unique())
    chosen = np.random.default_rng(seed).choice(ids, size=size, replace=False)
    return panel[panel["unique_id"].isin(chosen)].reset_index(drop=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    set_single_threaded_numerics()
    if args.dataset == "breakfast":
        panel = sample_series(read_panel(args.input, BREAKFAST_COVARIATES), size=args.sample, seed=args.seed)
        report = evaluate_breakfast(
            panel,
            horizon=args.horizon,
            windows=args.windows,
            step=args.step,
            level=args.level,
            n_paths=args.paths,
            seed=args.seed,
        )
        print_breakfast(report)
    else:
        report = evaluate_demo(
            seed=args.seed,
            skus=args.skus,
            days=args.days,
            min_history=args.min_history,
            post_days=args.post_days,
            covariate_window=args.covariate_window,
            level=args.level,
            n_paths=args.paths,
        )
        print_demo(report)
    report["arguments"] = {key: str(value) for key, value in vars(args).items()}
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
