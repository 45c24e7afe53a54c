"""Uplift modelling for customer targeting: who buys *because* of a campaign, not who buys anyway.

- TLearnerUplift: two calibrated classifiers, one fitted on the treated customers of a past randomised (or
  hold-out) campaign and one on its control customers; the predicted uplift of a customer is
  P(response | treated, x) - P(response | control, x).
- qini_curve, qini_coefficient, uplift_at: evaluation on held-out customers with a known group and outcome.
- synthetic_campaign: a randomised campaign whose individual uplift is known, for tests and the benchmark.

Inputs are numpy arrays: X (n, p) features, treatment (n,) 0/1, outcome (n,) 0/1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

LEARNERS = ("gradient_boosting", "logistic")
CALIBRATION_FOLDS = 3


def _validated(X, treatment, outcome) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    matrix = np.asarray(X, dtype=float)
    if matrix.ndim == 1:
        matrix = matrix.reshape(-1, 1)
    groups = np.asarray(treatment)
    responses = np.asarray(outcome)
    if matrix.ndim != 2 or groups.shape != (len(matrix),) or responses.shape != (len(matrix),):
        raise ValueError("X must be (n, p) and treatment and outcome (n,)")
    for name, values in (("treatment", groups), ("outcome", responses)):
        if not np.isin(values, (0, 1)).all():
            raise ValueError(f"{name} must hold only 0 and 1")
    return matrix, groups.astype(bool), responses.astype(int)


class _ConstantProbability:
    """The group's response rate with one pseudo-response each way: a group without a single responder (or
    without a single non-responder) carries no ranking information."""

    def __init__(self, outcome: np.ndarray) -> None:
        self.probability = (outcome.sum() + 1.0) / (len(outcome) + 2.0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        p = np.full(len(X), self.probability)
        return np.column_stack([1.0 - p, p])


class TLearnerUplift:
    """Two-model (T-learner) uplift estimator.

    With at least `min_positives` responders and non-responders in each group, each group's model is a
    histogram gradient-boosting classifier calibrated by Platt scaling over stratified folds (the uplift is a
    difference of two probabilities, so both must be on the probability scale). With fewer, boosting would
    memorise a handful of responders: both groups get an L2-regularised logistic regression on standardised
    features instead, and `fallback_` says why. A group without any responder (or non-responder) gets its
    smoothed response rate.

    Fitted attributes: learner_ ("gradient_boosting" or "logistic"), fallback_ (None or the reason),
    n_treated_, n_control_, responders_treated_, responders_control_.
    """

    name = "t_learner"

    def __init__(
        self,
        *,
        learner: str = "gradient_boosting",
        min_positives: int = 50,
        learning_rate: float = 0.05,
        max_iter: int = 150,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 40,
        l2_regularization: float = 1.0,
        logistic_c: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.learner = learner
        self.min_positives = min_positives
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.logistic_c = logistic_c
        self.seed = seed

    def _boosted(self):
        booster = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.seed,
        )
        folds = StratifiedKFold(n_splits=CALIBRATION_FOLDS, shuffle=True, random_state=self.seed)
        return CalibratedClassifierCV(booster, method="sigmoid", cv=folds)

    def _logistic(self):
        return make_pipeline(StandardScaler(), LogisticRegression(C=self.logistic_c, max_iter=1000))

    def _fit_group(self, X: np.ndarray, outcome: np.ndarray):
        if outcome.min() == outcome.max():
            return _ConstantProbability(outcome)
        model = self._boosted() if self.learner_ == "gradient_boosting" else self._logistic()
        return model.fit(X, outcome)

    def fit(self, X, treatment, outcome) -> TLearnerUplift:
        if self.learner not in LEARNERS:
            raise ValueError(f"learner must be one of {LEARNERS}")
        matrix, treated, responses = _validated(X, treatment, outcome)
        if treated.all() or not treated.any():
            raise ValueError("uplift needs both treated and control customers")
        self.n_treated_ = int(treated.sum())
        self.n_control_ = int((~treated).sum())
        self.responders_treated_ = int(responses[treated].sum())
        self.responders_control_ = int(responses[~treated].sum())
        smallest_class = min(
            self.responders_treated_,
            self.responders_control_,
            self.n_treated_ - self.responders_treated_,
            self.n_control_ - self.responders_control_,
        )
        self.learner_ = self.learner
        self.fallback_ = None
        if self.learner == "gradient_boosting" and smallest_class < self.min_positives:
            self.learner_ = "logistic"
            self.fallback_ = (
                f"regularised logistic regression: a group has only {smallest_class} customers of its rarer "
                f"outcome, fewer than the {self.min_positives} gradient boosting needs"
            )
        self.treated_model_ = self._fit_group(matrix[treated], responses[treated])
        self.control_model_ = self._fit_group(matrix[~treated], responses[~treated])
        return self

    def predict_response(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(P(response | control, x), P(response | treated, x)), each (n,)."""
        matrix = np.asarray(X, dtype=float)
        if matrix.ndim == 1:
            matrix = matrix.reshape(-1, 1)
        return self.control_model_.predict_proba(matrix)[:, 1], self.treated_model_.predict_proba(matrix)[:, 1]

    def predict_uplift(self, X) -> np.ndarray:
        control, treated = self.predict_response(X)
        return treated - control


@dataclass(frozen=True)
class QiniCurve:
    """fraction (m,) of customers targeted, from 0 to 1; incremental (m,) responders at each fraction."""

    fraction: np.ndarray
    incremental: np.ndarray


def qini_curve(uplift_scores, treatment, outcome) -> QiniCurve:
    """Radcliffe's Qini curve: customers are targeted in decreasing order of score; after the top t of them,

        incremental(t) = R_T(t) - R_C(t) * N_T(t) / N_C(t)

    where R_T(t), R_C(t) count responders and N_T(t), N_C(t) customers among the treated and control customers
    in the top t (the control term is 0 while N_C(t) = 0). Rescaling the control responders to the size of the
    treated group makes unequal groups comparable. Customers with tied scores are targeted together, so the
    curve has one point per distinct score (plus the origin) and ties cannot flatter a model.
    """
    scores = np.asarray(uplift_scores, dtype=float)
    _matrix, treated, responses = _validated(scores.reshape(-1, 1), treatment, outcome)
    if len(scores) == 0:
        raise ValueError("a Qini curve needs customers")
    order = np.argsort(-scores, kind="stable")
    scores, treated, responses = scores[order], treated[order], responses[order]
    n_treated = np.cumsum(treated)
    n_control = np.cumsum(~treated)
    r_treated = np.cumsum(responses * treated)
    r_control = np.cumsum(responses * ~treated)
    # The last position of each block of tied scores.
    ends = np.r_[np.flatnonzero(np.diff(scores) != 0), len(scores) - 1]
    rescaled_control = np.divide(
        r_control[ends] * n_treated[ends],
        n_control[ends],
        out=np.zeros(len(ends)),
        where=n_control[ends] > 0,
    )
    incremental = r_treated[ends] - rescaled_control
    fraction = (ends + 1) / len(scores)
    return QiniCurve(fraction=np.r_[0.0, fraction], incremental=np.r_[0.0, incremental])


def _area_above_random(curve: QiniCurve) -> float:
    random_line = curve.fraction * curve.incremental[-1]
    return float(np.trapezoid(curve.incremental - random_line, curve.fraction))


def qini_coefficient(uplift_scores, treatment, outcome, *, normalize: bool = True) -> float:
    """The area between the model's Qini curve and the random-targeting line (the straight line from the origin
    to the curve's end point), by the trapezoid rule, in incremental responders x fraction targeted.

    Normalised (the default), it is divided by the same area for the best possible ranking of these customers —
    treated responders first, control responders last, everyone else in between — as in Radcliffe's
    "Using control groups to target on predicted lift" (2007): 1 = that ideal ranking, 0 = no better than
    random, below 0 = worse than random.
    """
    curve = qini_curve(uplift_scores, treatment, outcome)
    area = _area_above_random(curve)
    if not normalize:
        return area
    treated = np.asarray(treatment).astype(bool)
    responses = np.asarray(outcome).astype(int)
    ideal_scores = responses * np.where(treated, 1.0, -1.0)
    ideal = _area_above_random(qini_curve(ideal_scores, treatment, outcome))
    if ideal <= 0:
        raise ValueError("these customers admit no ranking better than random: no treated responder")
    return area / ideal


def uplift_at(uplift_scores, treatment, outcome, *, k: float = 0.3) -> float:
    """Response rate of the treated minus that of the control customers among the top fraction k by score."""
    if not 0 < k <= 1:
        raise ValueError("k is a fraction in (0, 1]")
    scores = np.asarray(uplift_scores, dtype=float)
    _matrix, treated, responses = _validated(scores.reshape(-1, 1), treatment, outcome)
    top = np.argsort(-scores, kind="stable")[: max(1, round(k * len(scores)))]
    top_treated, top_responses = treated[top], responses[top]
    if top_treated.all() or not top_treated.any():
        raise ValueError(f"the top {k:.0%} holds customers of only one group")
    return float(top_responses[top_treated].mean() - top_responses[~top_treated].mean())


SEGMENT_RESPONSE = {
    # segment: (P(purchase) without the campaign, P(purchase) with it)
    "sure_thing": (0.55, 0.58),
    "persuadable": (0.08, 0.32),
    "sleeping_dog": (0.20, 0.06),
    "lost_cause": (0.03, 0.03),
}
FEATURE_NAMES = ("recency_days", "frequency", "spend")


@dataclass(frozen=True)
class SyntheticCampaign:
    """A randomised campaign: features (n, 3) in FEATURE_NAMES order, treatment and outcome (n,) 0/1, each
    customer's true probabilities p_control / p_treated, true_uplift = p_treated - p_control, and segment."""

    features: np.ndarray
    treatment: np.ndarray
    outcome: np.ndarray
    p_control: np.ndarray
    p_treated: np.ndarray
    true_uplift: np.ndarray
    segment: np.ndarray
    feature_names: tuple[str, ...] = FEATURE_NAMES


def synthetic_campaign(*, customers: int = 6000, treated_share: float = 0.5, seed: int = 0) -> SyntheticCampaign:
    """Customers drawn with recency (days since last order), frequency (orders) and spend, sorted into four
    segments by those features:

    - sure things: bought in the last 30 days; buy whether mailed or not;
    - persuadables: repeat customers lapsing for 30-120 days; the campaign brings them back;
    - sleeping dogs: lapsed (> 120 days) big spenders (>= 250); a discount mail reminds them to unsubscribe;
    - lost causes: everyone else; rarely buy either way.

    Each customer's probabilities are the segment's (SEGMENT_RESPONSE) with a small individual jitter, the
    treatment is a coin flip with P(treated_share), and the outcome a Bernoulli draw from the probability of the
    customer's group. Ranking by P(purchase | treated) puts the sure things first; the uplift puts the
    persuadables first and the sleeping dogs last.
    """
    rng = np.random.default_rng(seed)
    recency = np.minimum(rng.exponential(110.0, customers), 730.0)
    frequency = 1.0 + rng.poisson(1.5, customers)
    spend = frequency * rng.lognormal(np.log(60.0), 0.6, customers)
    segment = np.full(customers, "lost_cause", dtype=object)
    segment[(recency > 120) & (spend >= 250)] = "sleeping_dog"
    segment[(recency > 30) & (recency <= 120) & (frequency >= 2)] = "persuadable"
    segment[recency <= 30] = "sure_thing"
    base = np.array([SEGMENT_RESPONSE[name] for name in segment])
    jitter = rng.normal(0.0, 0.01, (customers, 2))
    probabilities = np.clip(base + jitter, 0.001, 0.999)
    treatment = (rng.random(customers) < treated_share).astype(int)
    p_outcome = np.where(treatment == 1, probabilities[:, 1], probabilities[:, 0])
    outcome = (rng.random(customers) < p_outcome).astype(int)
    return SyntheticCampaign(
        features=np.column_stack([recency, frequency, spend]),
        treatment=treatment,
        outcome=outcome,
        p_control=probabilities[:, 0],
        p_treated=probabilities[:, 1],
        true_uplift=probabilities[:, 1] - probabilities[:, 0],
        segment=segment.astype(str),
    )


# A customer without a purchase before the send date: older than any real recency, so trees and the logistic
# model both read them as the least recent.
NEVER_PURCHASED_RECENCY_DAYS = 3650.0


def uplift_features(recency_days, frequency, spend) -> np.ndarray:
    """(n, 3) model matrix from recency (days), frequency (purchases) and spend: log1p of each, which changes
    nothing for the trees and keeps a few big spenders from dominating the logistic fallback."""
    columns = [np.asarray(values, dtype=float) for values in (recency_days, frequency, spend)]
    return np.log1p(np.column_stack([np.maximum(column, 0.0) for column in columns]))


def recipient_history(transactions: pd.DataFrame, recipients: pd.DataFrame) -> pd.DataFrame:
    """Features as of each recipient's send date and the campaign's outcome, from the customer tables.

    transactions: customer_id, timestamp, amount, is_return (forecasting/engine/customer/features.py);
    recipients: customer_id, sent_on (timestamp: the start of the send day), window_end (timestamp, exclusive),
    treated (bool), one row per (campaign, customer).
    Returns a copy of recipients with recency_days, frequency and spend (purchases strictly before sent_on;
    returns never count) and responded (a purchase in [sent_on, window_end)).
    """
    purchases = transactions.loc[~transactions["is_return"].astype(bool), ["customer_id", "timestamp", "amount"]]
    frame = recipients.reset_index(drop=True).copy()
    frame["row"] = np.arange(len(frame))
    joined = frame[["row", "customer_id", "sent_on", "window_end"]].merge(purchases, on="customer_id", how="inner")
    before = joined[joined["timestamp"] < joined["sent_on"]]
    during = joined[(joined["timestamp"] >= joined["sent_on"]) & (joined["timestamp"] < joined["window_end"])]
    history = before.groupby("row").agg(
        last=("timestamp", "max"), frequency=("timestamp", "size"), spend=("amount", "sum")
    )
    history = history.reindex(frame["row"])
    frame["recency_days"] = ((frame["sent_on"] - history["last"].to_numpy()) / pd.Timedelta(days=1)).fillna(
        NEVER_PURCHASED_RECENCY_DAYS
    )
    frame["frequency"] = history["frequency"].fillna(0).to_numpy()
    frame["spend"] = history["spend"].fillna(0.0).to_numpy()
    frame["responded"] = frame["row"].isin(during["row"].unique())
    return frame.drop(columns="row")
