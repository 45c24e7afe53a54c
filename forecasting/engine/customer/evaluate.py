"""Time-split evaluation of the customer models, side by side.

The calibration period is everything before the cutoff; the holdout is [cutoff, cutoff + holdout_days). Every
model is fitted on the calibration period only and scored on the customers who had purchased before the cutoff
(customers first seen in the holdout are no model's business and are left out of actuals too).

Per model: AUC, Brier score and log loss of P(at least one purchase in the holdout); a binned calibration curve;
MAE of predicted vs actual purchase counts per customer; the aggregate holdout purchase count against the actual
one (relative error); seconds to fit and to score. BTYD rows also carry the holdout spend predicted with
Gamma-Gamma spend per purchase. The GRU sequence model (sequence.py) joins when asked for, calibrated and raw
like the booster; it also scores customers known only from events, who are left out here like everywhere else.
The seasonal time change of the BTYD models (seasonal.py) joins when asked for, as `bg_nbd_seasonal` and
`pareto_nbd_seasonal` after every other row; its fit time includes last year's fit that estimates the intensity.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from forecasting.engine.customer.btyd import BetaGeoModel, ParetoNBDModel
from forecasting.engine.customer.discriminative import PurchaseClassifier
from forecasting.engine.customer.features import holdout_outcomes, repeat_purchase_summary, validate_transactions
from forecasting.engine.customer.seasonal import SeasonalTimeChange
from forecasting.engine.customer.sequence import SequencePurchaseModel
from forecasting.engine.customer.spend import GammaGammaModel

PROBABILITY_CLIP = 1e-6


def binary_metrics(outcomes, probabilities) -> dict[str, float]:
    outcomes = np.asarray(outcomes, dtype=int)
    probabilities = np.clip(np.asarray(probabilities, dtype=float), PROBABILITY_CLIP, 1.0 - PROBABILITY_CLIP)
    both_classes = outcomes.min() != outcomes.max()
    return {
        "auc": float(roc_auc_score(outcomes, probabilities)) if both_classes else float("nan"),
        "brier": float(brier_score_loss(outcomes, probabilities)),
        "log_loss": float(log_loss(outcomes, probabilities, labels=[0, 1])),
    }


def calibration_curve(outcomes, probabilities, *, bins: int = 10) -> list[dict[str, float]]:
    """Equal-width probability bins: customers, mean predicted probability and observed purchase rate per bin."""
    outcomes = np.asarray(outcomes, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    index = np.minimum((probabilities * bins).astype(int), bins - 1)
    curve = []
    for position in range(bins):
        members = index == position
        if members.any():
            curve.append(
                {
                    "lower": position / bins,
                    "upper": (position + 1) / bins,
                    "customers": int(members.sum()),
                    "mean_predicted": float(probabilities[members].mean()),
                    "observed_rate": float(outcomes[members].mean()),
                }
            )
    return curve


def count_metrics(actual_counts, predicted_counts) -> dict[str, float]:
    actual = np.asarray(actual_counts, dtype=float)
    predicted = np.asarray(predicted_counts, dtype=float)
    return {
        "count_mae": float(np.mean(np.abs(predicted - actual))),
        "predicted_total": float(predicted.sum()),
        "actual_total": float(actual.sum()),
        "aggregate_error": float((predicted.sum() - actual.sum()) / max(actual.sum(), 1e-9)),
    }


@dataclass(frozen=True)
class ModelScores:
    """One model's per-customer predictions over the holdout and what producing them cost."""

    name: str
    p_purchase: pd.Series
    expected_purchases: pd.Series
    fit_seconds: float
    score_seconds: float
    predicted_spend: pd.Series | None = None
    parameters: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationReport:
    cutoff: pd.Timestamp
    holdout_days: int
    customers: int
    holdout_purchasers: int
    rows: list[dict]
    calibration_curves: dict[str, list[dict[str, float]]]

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows).set_index("model")

    def as_dict(self) -> dict:
        return {
            "cutoff": self.cutoff.isoformat(),
            "holdout_days": self.holdout_days,
            "customers": self.customers,
            "holdout_purchasers": self.holdout_purchasers,
            "models": self.rows,
            "calibration_curves": self.calibration_curves,
        }


def score_btyd(model_class, summary: pd.DataFrame, *, holdout_days: float) -> ModelScores:
    arrays = (summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy())
    started = time.perf_counter()
    model = model_class().fit(*arrays)
    spend_model = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    fitted = time.perf_counter()
    p_purchase = model.probability_of_purchase(holdout_days, *arrays)
    expected = model.expected_purchases(holdout_days, *arrays)
    spend = expected * spend_model.expected_spend(summary["frequency"], summary["monetary_value"])
    scored = time.perf_counter()
    return ModelScores(
        name=model.name,
        p_purchase=pd.Series(p_purchase, index=summary.index),
        expected_purchases=pd.Series(expected, index=summary.index),
        predicted_spend=pd.Series(spend, index=summary.index),
        fit_seconds=fitted - started,
        score_seconds=scored - fitted,
        parameters={**model.parameters_, **{f"spend_{k}": v for k, v in spend_model.parameters_.items()}},
    )


def score_seasonal(
    base: str,
    transactions: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    cutoff: pd.Timestamp,
    holdout_days: int,
    seasonal_options: Mapping | None,
) -> ModelScores:
    started = time.perf_counter()
    model = SeasonalTimeChange(base, **dict(seasonal_options or {})).fit(transactions, cutoff=cutoff)
    estimate = model.estimate(holdout_days)
    fitted = time.perf_counter()
    p_purchase = model.probability_of_purchase(holdout_days)
    expected = model.expected_purchases(holdout_days)
    spend_model = GammaGammaModel().fit(summary["frequency"], summary["monetary_value"])
    spend = expected * spend_model.expected_spend(summary["frequency"], summary["monetary_value"])
    scored = time.perf_counter()
    return ModelScores(
        name=model.name,
        p_purchase=p_purchase,
        expected_purchases=expected,
        predicted_spend=spend,
        fit_seconds=fitted - started,
        score_seconds=scored - fitted,
        parameters={**model.model_.parameters_, **estimate},
    )


def score_classifier(
    transactions: pd.DataFrame,
    events: pd.DataFrame | None,
    *,
    cutoff: pd.Timestamp,
    holdout_days: int,
    classifier_options: Mapping | None,
) -> list[ModelScores]:
    started = time.perf_counter()
    classifier = PurchaseClassifier(horizon_days=holdout_days, **dict(classifier_options or {})).fit(
        transactions, events, cutoff=cutoff
    )
    fitted = time.perf_counter()
    predictions = classifier.predict(transactions, events, cutoff=cutoff)
    scored = time.perf_counter()
    common = {
        "expected_purchases": predictions["expected_purchases"],
        "fit_seconds": fitted - started,
        "score_seconds": scored - fitted,
    }
    return [
        ModelScores(name=f"{classifier.name}_calibrated", p_purchase=predictions["p_purchase"], **common),
        ModelScores(name=f"{classifier.name}_raw", p_purchase=predictions["p_purchase_raw"], **common),
    ]


def score_sequence(
    transactions: pd.DataFrame,
    events: pd.DataFrame | None,
    *,
    cutoff: pd.Timestamp,
    holdout_days: int,
    sequence_options: Mapping | None,
    progress: Callable[[int, int, float], None] | None = None,
) -> list[ModelScores]:
    started = time.perf_counter()
    model = SequencePurchaseModel(horizon_days=holdout_days, **dict(sequence_options or {})).fit(
        transactions, events, cutoff=cutoff, progress=progress
    )
    fitted = time.perf_counter()
    predictions = model.predict(transactions, events, cutoff=cutoff)
    scored = time.perf_counter()
    common = {
        "expected_purchases": predictions["expected_purchases"],
        "fit_seconds": fitted - started,
        "score_seconds": scored - fitted,
        "parameters": {
            "epochs": model.epochs_,
            "best_epoch": model.best_epoch_,
            "training_rows": model.training_rows_,
            "count_scale": model.count_scale_,
            "device": model.device_,
        },
    }
    return [
        ModelScores(name=model.name, p_purchase=predictions["p_purchase"], **common),
        ModelScores(name=f"{model.name}_raw", p_purchase=predictions["p_purchase_raw"], **common),
    ]


def evaluate_customer_models(
    transactions: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    cutoff,
    holdout_days: int = 90,
    classifier_options: Mapping | None = None,
    include_sequence: bool = False,
    sequence_options: Mapping | None = None,
    sequence_progress: Callable[[int, int, float], None] | None = None,
    include_seasonal: bool = False,
    seasonal_options: Mapping | None = None,
    calibration_bins: int = 10,
) -> EvaluationReport:
    """Fit every model on data before `cutoff`, score the holdout and compare them. The GRU sequence model
    (`include_sequence`) is off by default: it needs torch and takes the longest to train; `sequence_progress`
    hears about each of its training epochs. `include_seasonal` adds the seasonal time change of BG/NBD and
    Pareto/NBD (`seasonal_options` go to `SeasonalTimeChange`)."""
    cutoff = pd.Timestamp(cutoff)
    frame = validate_transactions(transactions)
    summary = repeat_purchase_summary(frame, cutoff=cutoff)
    if summary.empty:
        raise ValueError(f"no customer purchased before {cutoff.date()}")
    outcomes = holdout_outcomes(frame, cutoff=cutoff, horizon_days=holdout_days, customers=summary.index)

    all_scores = [
        score_btyd(BetaGeoModel, summary, holdout_days=holdout_days),
        score_btyd(ParetoNBDModel, summary, holdout_days=holdout_days),
        *score_classifier(
            frame, events, cutoff=cutoff, holdout_days=holdout_days, classifier_options=classifier_options
        ),
    ]
    if include_sequence:
        all_scores.extend(
            score_sequence(
                frame,
                events,
                cutoff=cutoff,
                holdout_days=holdout_days,
                sequence_options=sequence_options,
                progress=sequence_progress,
            )
        )
    if include_seasonal:
        before_cutoff = frame[frame["timestamp"] < cutoff]
        all_scores.extend(
            score_seasonal(
                base,
                before_cutoff,
                summary,
                cutoff=cutoff,
                holdout_days=holdout_days,
                seasonal_options=seasonal_options,
            )
            for base in (BetaGeoModel.name, ParetoNBDModel.name)
        )
    rows, curves = [], {}
    for scores in all_scores:
        p_purchase = scores.p_purchase.reindex(summary.index).to_numpy()
        expected = scores.expected_purchases.reindex(summary.index).to_numpy()
        row = {
            "model": scores.name,
            **binary_metrics(outcomes["purchased"], p_purchase),
            **count_metrics(outcomes["purchases"], expected),
            "fit_seconds": scores.fit_seconds,
            "score_seconds": scores.score_seconds,
        }
        if scores.predicted_spend is not None:
            row["predicted_spend"] = float(scores.predicted_spend.sum())
            row["actual_spend"] = float(outcomes["spend"].sum())
        row["parameters"] = scores.parameters
        rows.append(row)
        curves[scores.name] = calibration_curve(outcomes["purchased"], p_purchase, bins=calibration_bins)
    return EvaluationReport(
        cutoff=cutoff,
        holdout_days=holdout_days,
        customers=len(summary),
        holdout_purchasers=int(outcomes["purchased"].sum()),
        rows=rows,
        calibration_curves=curves,
    )
