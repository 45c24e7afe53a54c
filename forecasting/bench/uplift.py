"""Evaluation of customer targeting (forecasting.engine.uplift) on synthetic randomised campaigns.

    python -m forecasting.bench.uplift [--seeds 0 1 2 3 4] [--customers 6000] [--test-share 0.3] [--report out.json]

For every seed, synthetic_campaign draws a campaign with a known individual uplift (sure things, persuadables,
sleeping dogs, lost causes, driven by recency, frequency and spend). A random share (--test-share) of the
customers is held out; on the rest a T-learner is fitted. The held-out customers are then ranked four ways:
- t_learner: by predicted uplift;
- response: by the T-learner's own P(purchase | treated), i.e. what a response model would target;
- random: by a random number;
- oracle: by the true uplift (the best any model can do on these draws).
Reported per ranking, as mean and standard deviation over the seeds: the normalised Qini coefficient
(qini_coefficient; 1 = the ideal ranking of the observed outcomes) and the uplift (treated minus control response
rate) among the top 20 % and 30 % targeted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from forecasting.engine.uplift import TLearnerUplift, qini_coefficient, synthetic_campaign, uplift_at

RANKINGS = ("t_learner", "response", "random", "oracle")
METRICS = ("qini", "uplift_top20", "uplift_top30")


def evaluate_seed(*, seed: int, customers: int, test_share: float) -> dict[str, dict[str, float]]:
    campaign = synthetic_campaign(customers=customers, seed=seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(customers)
    test_size = round(test_share * customers)
    test, train = order[:test_size], order[test_size:]
    model = TLearnerUplift(seed=seed).fit(campaign.features[train], campaign.treatment[train], campaign.outcome[train])
    _p_control, p_treated = model.predict_response(campaign.features[test])
    scores = {
        "t_learner": model.predict_uplift(campaign.features[test]),
        "response": p_treated,
        "random": rng.random(test_size),
        "oracle": campaign.true_uplift[test],
    }
    treatment, outcome = campaign.treatment[test], campaign.outcome[test]
    return {
        name: {
            "qini": qini_coefficient(score, treatment, outcome),
            "uplift_top20": uplift_at(score, treatment, outcome, k=0.2),
            "uplift_top30": uplift_at(score, treatment, outcome, k=0.3),
        }
        for name, score in scores.items()
    }


def run(*, seeds: Sequence[int], customers: int, test_share: float) -> dict:
    per_seed = {seed: evaluate_seed(seed=seed, customers=customers, test_share=test_share) for seed in seeds}
    summary = {
        name: {
            metric: {
                "mean": float(np.mean([per_seed[seed][name][metric] for seed in seeds])),
                "std": float(np.std([per_seed[seed][name][metric] for seed in seeds])),
            }
            for metric in METRICS
        }
        for name in RANKINGS
    }
    return {
        "customers": customers,
        "test_share": test_share,
        "seeds": list(seeds),
        "summary": summary,
        "per_seed": {str(seed): values for seed, values in per_seed.items()},
    }


def print_report(report: dict) -> None:
    print(
        f"Synthetic randomised campaigns: {report['customers']} customers, {report['test_share']:.0%} held out, "
        f"seeds {', '.join(map(str, report['seeds']))} (mean ± sd over seeds)"
    )
    print(f"{'ranking':<10} {'Qini coefficient':>18} {'uplift top 20 %':>18} {'uplift top 30 %':>18}")
    for name in RANKINGS:
        cells = [
            f"{report['summary'][name][metric]['mean']:.3f} ± {report['summary'][name][metric]['std']:.3f}"
            for metric in METRICS
        ]
        print(f"{name:<10} " + " ".join(f"{cell:>18}" for cell in cells))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m forecasting.bench.uplift", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--customers", type=int, default=6000)
    parser.add_argument("--test-share", type=float, default=0.3)
    parser.add_argument("--report", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    if not 0 < args.test_share < 1:
        parser.error("--test-share must be between 0 and 1")
    report = run(seeds=args.seeds, customers=args.customers, test_share=args.test_share)
    print_report(report)
    if args.report:
        args.report.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
