"""Campaign targeting: which of the merchant's customers to send a campaign to, best first.

With uplift evidence — past campaigns whose recipients were randomly split into treatment and hold-out, each
group with at least MIN_GROUP_CUSTOMERS customers and MIN_GROUP_RESPONDERS responders — a T-learner
(forecasting/engine/uplift.py) learns P(purchase | sent) - P(purchase | not sent) from each recipient's
recency, frequency and spend before the send date; the response is a purchase from the send day to
RESPONSE_GRACE_DAYS after the campaign ended. A random HOLDOUT_SHARE of the past recipients (stratified by group)
is kept out of the fit to measure the model's Qini coefficient, and the model fitted on the rest scores the
candidates. Without that evidence the candidates are ranked by their expected response (p_purchase_30d of the
latest customer scores), which says who will buy, not who will buy because of the campaign.

Candidates are the customers of the merchant's latest succeeded customer-score run, in the campaign's
target_segment when it names a score segment (by value or label, any case); their features are the run's
days since the last order, orders and total spend.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from customers.models import Campaign
from ecomforecast.models import Merchant
from forecasting import customer_io, targeting_io
from forecasting.customer_selectors import customer_run_latest
from forecasting.engine.uplift import TLearnerUplift, qini_coefficient, recipient_history, uplift_features
from forecasting.models import CustomerScore

UPLIFT_METHOD = "uplift_t_learner"
RESPONSE_METHOD = "response_ranking"
MIN_GROUP_CUSTOMERS = 30
MIN_GROUP_RESPONDERS = 5
HOLDOUT_SHARE = 0.3
SEED = 0


@dataclass(frozen=True)
class CustomerTarget:
    rank: int
    customer_id: int
    external_id: str
    uplift: float | None
    p_purchase_30d: float
    segment: str


@dataclass(frozen=True)
class TargetingResult:
    campaign_id: int
    method: str
    method_note: str
    data_cutoff: dt.date | None
    candidates: int
    past_recipients: int
    past_campaigns: int
    qini_coefficient: float | None
    learner: str | None
    targets: list[CustomerTarget] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _score_segment(target_segment: str) -> str | None:
    wanted = target_segment.strip().lower()
    for value, label in CustomerScore.Segment.choices:
        if wanted in (value, label.lower()):
            return value
    return None


def _split(treated: np.ndarray) -> np.ndarray:
    """True for the rows kept out of the fit: HOLDOUT_SHARE of each group, at random."""
    rng = np.random.default_rng(SEED)
    evaluation = np.zeros(len(treated), dtype=bool)
    for group in (True, False):
        rows = np.flatnonzero(treated == group)
        evaluation[rng.choice(rows, size=round(HOLDOUT_SHARE * len(rows)), replace=False)] = True
    return evaluation


def _evidence_gap(history: pd.DataFrame) -> str | None:
    """Why these past recipients are not enough to learn an uplift from, or None when they are."""
    for treated, name in ((True, "treated"), (False, "hold-out")):
        group = history[history["treated"] == treated]
        if len(group) < MIN_GROUP_CUSTOMERS:
            return f"{len(group)} {name} past recipients, fewer than the {MIN_GROUP_CUSTOMERS} needed"
        if "responded" in group and group["responded"].sum() < MIN_GROUP_RESPONDERS:
            return (
                f"{int(group['responded'].sum())} {name} past recipients bought, fewer than the "
                f"{MIN_GROUP_RESPONDERS} needed"
            )
    return None


def campaign_targets(*, merchant: Merchant, campaign: Campaign, limit: int | None = None) -> TargetingResult:
    """The campaign's candidates ranked by expected incremental response (or by expected response without
    uplift evidence), the first `limit` of them."""
    run = customer_run_latest(merchant=merchant)
    notes: list[str] = []
    segment = None
    if campaign.target_segment:
        segment = _score_segment(campaign.target_segment)
        if segment is None:
            notes.append(
                f"target segment {campaign.target_segment!r} is not a customer-score segment "
                f"({', '.join(CustomerScore.Segment.values)}): every scored customer is a candidate"
            )
    if run is None:
        return TargetingResult(
            campaign_id=campaign.pk,
            method=RESPONSE_METHOD,
            method_note="no customer scores yet: run the customer scores first",
            data_cutoff=None,
            candidates=0,
            past_recipients=0,
            past_campaigns=0,
            qini_coefficient=None,
            learner=None,
            notes=notes,
        )
    candidates = targeting_io.candidate_scores(merchant=merchant, run=run, segment=segment)
    history = targeting_io.past_recipients(merchant=merchant, as_of=run.data_cutoff, exclude=campaign)
    gap = _evidence_gap(history)
    if gap is None:
        transactions = customer_io.transactions_table(merchant=merchant, data_cutoff=run.data_cutoff)
        history = recipient_history(transactions, history)
        gap = _evidence_gap(history)
    past = {"past_recipients": len(history), "past_campaigns": int(history["campaign_id"].nunique())}
    if gap is not None:
        order = np.lexsort((candidates["customer_id"].to_numpy(), -candidates["p_purchase_30d"].to_numpy(float)))
        return TargetingResult(
            campaign_id=campaign.pk,
            method=RESPONSE_METHOD,
            method_note=(
                "ranked by P(purchase in 30 days), a response ranking with no uplift evidence: it finds who "
                f"will buy, not who buys because of the campaign ({gap})"
            ),
            data_cutoff=run.data_cutoff,
            candidates=len(candidates),
            qini_coefficient=None,
            learner=None,
            targets=_targets(candidates, order, uplift=None, limit=limit),
            notes=notes,
            **past,
        )

    matrix = uplift_features(history["recency_days"], history["frequency"], history["spend"])
    treated = history["treated"].to_numpy()
    responded = history["responded"].to_numpy().astype(int)
    evaluation = _split(treated)
    model = TLearnerUplift(seed=SEED).fit(matrix[~evaluation], treated[~evaluation].astype(int), responded[~evaluation])
    qini = None
    try:
        qini = qini_coefficient(
            model.predict_uplift(matrix[evaluation]), treated[evaluation].astype(int), responded[evaluation]
        )
    except ValueError as error:
        notes.append(f"Qini coefficient not measured: {error}")
    if model.fallback_:
        notes.append(model.fallback_)
    uplift = (
        model.predict_uplift(
            uplift_features(candidates["days_since_last_order"], candidates["orders"], candidates["total_spend"])
        )
        if len(candidates)
        else np.empty(0)
    )
    order = np.lexsort(
        (
            candidates["customer_id"].to_numpy(),
            -candidates["p_purchase_30d"].to_numpy(float),
            -uplift,
        )
    )
    return TargetingResult(
        campaign_id=campaign.pk,
        method=UPLIFT_METHOD,
        method_note=(
            "ranked by predicted uplift, P(purchase | sent) - P(purchase | not sent), learned from past "
            f"randomised campaigns; Qini coefficient measured on {int(evaluation.sum())} held-out past recipients"
        ),
        data_cutoff=run.data_cutoff,
        candidates=len(candidates),
        qini_coefficient=qini,
        learner=model.learner_,
        targets=_targets(candidates, order, uplift=uplift, limit=limit),
        notes=notes,
        **past,
    )


def _targets(
    candidates: pd.DataFrame, order: np.ndarray, *, uplift: np.ndarray | None, limit: int | None
) -> list[CustomerTarget]:
    chosen = order if limit is None else order[:limit]
    return [
        CustomerTarget(
            rank=rank,
            customer_id=int(candidates["customer_id"].iat[index]),
            external_id=str(candidates["external_id"].iat[index]),
            uplift=None if uplift is None else float(uplift[index]),
            p_purchase_30d=float(candidates["p_purchase_30d"].iat[index]),
            segment=str(candidates["segment"].iat[index]),
        )
        for rank, index in enumerate(chosen, start=1)
    ]
