"""Writes of customer-score runs: request (idempotent), execute in one process with progress, persist the scores.

Which model produces each score (recorded on the run in `score_models`, and per customer in `model`):

- p_alive and expected_orders_90d: BG/NBD fitted on every customer known at the cutoff (Pareto/NBD, then each
  customer's own purchase rate, when a fit gives non-finite numbers on degenerate data); expected orders (and the
  BTYD purchase and churn probabilities) on the seasonal clock of forecasting/engine/customer/seasonal.py, which
  measures how far a stationary fit missed the same window one year earlier (no change without a year of history);
- clv_12m: Gamma-Gamma spend per order x BG/NBD expected orders over 365 days, discounted at the configured annual
  rate and net of the share of their purchase value the customer returned; the customer's own mean order value
  when Gamma-Gamma cannot be fitted (fewer than three repeat buyers);
- p_purchase_30d and churn_risk (no order in the next 90 days): gradient boosting calibrated on a later time
  split when the history and the customer base are large enough for it (see PurchaseClassifier), else BG/NBD;
- segment: the RFM rules of forecasting/engine/customer/rfm.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from ecomforecast.models import Merchant
from forecasting import customer_io
from forecasting.engine.customer import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    PurchaseClassifier,
    customer_lifetime_value,
    repeat_purchase_summary,
    rfm_segments,
)
from forecasting.engine.customer.seasonal import BASE_MODELS, SeasonalTimeChange
from forecasting.models import CustomerForecastRun, CustomerScore
from forecasting.services import idempotency_key

logger = logging.getLogger(__name__)

RUN_KIND = "customers"
PURCHASE_DAYS = 30
CHURN_DAYS = 90
ORDERS_DAYS = 90
CLV_DAYS = 365
MAX_ATTEMPTS = 3
WRITE_BATCH = 5000
# Below this many customers the booster's leaves (200 customers each) and the isotonic calibrator have too little
# to learn from; BG/NBD's four parameters do not.
MIN_CLASSIFIER_CUSTOMERS = 1000
SCORE_FIELDS = (
    "p_alive",
    "p_purchase_30d",
    "expected_orders_90d",
    "churn_risk",
    "clv_12m",
    "segment",
    "rfm",
    "model",
    "orders",
    "days_since_last_order",
    "total_spend",
)

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class CustomerScoreConfig:
    classifier: bool = True
    annual_discount_rate: float = 0.10
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "classifier": self.classifier,
            "annual_discount_rate": self.annual_discount_rate,
            "seed": self.seed,
            **self.extra,
        }


@dataclass(frozen=True)
class ScoreTable:
    """Per customer (index = Customer pk) the persisted columns, and the run-level account of the models."""

    scores: pd.DataFrame
    score_models: dict


def _btyd_arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return summary["frequency"].to_numpy(), summary["recency"].to_numpy(), summary["T"].to_numpy()


class EmpiricalRateModel:
    """Last resort when neither BTYD model gives finite numbers: every customer alive, buying at their own
    observed rate (purchases over tenure, at least one day) as a Poisson process."""

    name = "empirical_rate"

    def fit(self, frequency, recency, T) -> EmpiricalRateModel:
        self.rate_ = (np.asarray(frequency, dtype=float) + 1.0) / np.maximum(np.asarray(T, dtype=float), 1.0)
        return self

    @property
    def parameters_(self) -> dict[str, float]:
        return {"mean_daily_rate": float(self.rate_.mean())}

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        return np.ones_like(self.rate_)

    def expected_purchases(self, horizon: float, frequency, recency, T) -> np.ndarray:
        return self.rate_ * horizon

    def probability_of_purchase(self, horizon: float, frequency, recency, T) -> np.ndarray:
        return -np.expm1(-self.rate_ * horizon)


def _repeat_purchase_scores(
    arrays: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> tuple[BetaGeoModel | ParetoNBDModel | EmpiricalRateModel, np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:
    """P(alive), expected orders, P(purchase in 30 days) and churn risk from BG/NBD, or from the next model when
    a fit gives non-finite numbers (BG/NBD's expected purchases diverge when its fitted a <= 1)."""
    notes = []
    for model_class in (BetaGeoModel, ParetoNBDModel, EmpiricalRateModel):
        with np.errstate(all="ignore"):
            model = model_class().fit(*arrays)
            values = (
                model.p_alive(*arrays),
                model.expected_purchases(ORDERS_DAYS, *arrays),
                model.probability_of_purchase(PURCHASE_DAYS, *arrays),
                1.0 - model.probability_of_purchase(CHURN_DAYS, *arrays),
                model.expected_purchases(CLV_DAYS, *arrays),
            )
        if model_class is EmpiricalRateModel or all(np.isfinite(value).all() for value in values):
            return model, *values[:4], notes
        notes.append(f"{model.name} gave non-finite scores ({model.parameters_}); used the next model")


def _returned_share(transactions: pd.DataFrame, summary: pd.DataFrame, *, cutoff: pd.Timestamp) -> np.ndarray:
    """Share of each customer's purchase value they returned before the cutoff (0..1): CLV is kept net of it, so a
    customer who sends everything back is worth nothing however much they order."""
    returns = transactions[transactions["is_return"].astype(bool) & (transactions["timestamp"] < cutoff)]
    returned = returns.groupby("customer_id")["amount"].sum().abs().reindex(summary.index).fillna(0.0)
    spend = summary["total_spend"].clip(lower=0.0)
    share = np.where(spend > 0, returned / np.maximum(spend, 1e-9), 0.0)
    return np.clip(share, 0.0, 1.0)


def score_customers(
    transactions: pd.DataFrame,
    events: pd.DataFrame | None,
    *,
    cutoff: pd.Timestamp,
    config: CustomerScoreConfig,
    progress: Progress | None = None,
) -> ScoreTable:
    """Every customer with a purchase before `cutoff`, scored by the models named in the module docstring."""

    def report(stage: str, fraction: float) -> None:
        if progress:
            progress(stage, fraction)

    summary = repeat_purchase_summary(transactions, cutoff=cutoff)
    notes: list[str] = []
    if summary.empty:
        return ScoreTable(scores=pd.DataFrame(columns=list(SCORE_FIELDS)), score_models={"notes": ["no customers"]})
    arrays = _btyd_arrays(summary)

    report("fitting BG/NBD", 0.2)
    btyd, p_alive, expected_orders, p_purchase, churn_risk, btyd_notes = _repeat_purchase_scores(arrays)
    notes.extend(btyd_notes)
    probability_model = btyd.name
    parameters = {btyd.name: btyd.parameters_}
    orders_model = btyd.name
    if btyd.name in BASE_MODELS:
        report("estimating the season", 0.25)
        try:
            seasonal = SeasonalTimeChange(btyd.name).fit(transactions, cutoff=cutoff)
            with np.errstate(all="ignore"):
                seasonal_orders = btyd.expected_purchases(seasonal.operational_days(ORDERS_DAYS), *arrays)
                seasonal_purchase = btyd.probability_of_purchase(seasonal.operational_days(PURCHASE_DAYS), *arrays)
                seasonal_churn = 1.0 - btyd.probability_of_purchase(seasonal.operational_days(CHURN_DAYS), *arrays)
        except (ValueError, FloatingPointError) as exc:
            notes.append(f"no seasonal time change: {exc}")
        else:
            horizons = (ORDERS_DAYS, PURCHASE_DAYS, CHURN_DAYS)
            if all(seasonal.operational_days(days) == days for days in horizons):
                notes.append("no seasonal time change: less than a year of history, or no measurable season")
            elif all(np.isfinite(values).all() for values in (seasonal_orders, seasonal_purchase, seasonal_churn)):
                expected_orders, p_purchase, churn_risk = seasonal_orders, seasonal_purchase, seasonal_churn
                orders_model = probability_model = f"{btyd.name}_seasonal"
                parameters[orders_model] = {f"{days}d": seasonal.estimate(days) for days in sorted(set(horizons))}
            else:
                notes.append("no seasonal time change: non-finite predictions")

    report("fitting Gamma-Gamma", 0.3)
    purchases = summary["frequency"] + 1.0
    own_mean_spend = (summary["total_spend"] / purchases).clip(lower=0.0).to_numpy()
    monetary = summary["monetary_value"].clip(lower=0.0)
    try:
        spend_model = GammaGammaModel().fit(summary["frequency"], monetary)
        spend = spend_model.expected_spend(summary["frequency"], monetary)
        spend_name = spend_model.name
        parameters[spend_model.name] = spend_model.parameters_
    except ValueError as exc:
        spend = own_mean_spend
        spend_name = "mean_order_value"
        notes.append(f"clv_12m from each customer's mean order value: {exc}")
    clv = customer_lifetime_value(
        lambda days: btyd.expected_purchases(days, *arrays),
        np.asarray(spend, dtype=float),
        horizon_days=CLV_DAYS,
        annual_discount_rate=config.annual_discount_rate,
    ) * (1.0 - _returned_share(transactions, summary, cutoff=cutoff))

    if config.classifier and len(summary) < MIN_CLASSIFIER_CUSTOMERS:
        notes.append(
            f"p_purchase_30d and churn_risk from {btyd.name}: {len(summary)} customers, "
            f"gradient boosting needs {MIN_CLASSIFIER_CUSTOMERS}"
        )
    elif config.classifier:
        try:
            report("training 30-day purchase model", 0.4)
            purchase_model = PurchaseClassifier(horizon_days=PURCHASE_DAYS, seed=config.seed).fit(
                transactions, events, cutoff=cutoff
            )
            purchase = purchase_model.predict(transactions, events, cutoff=cutoff).reindex(summary.index)
            report("training 90-day churn model", 0.6)
            churn_model = PurchaseClassifier(horizon_days=CHURN_DAYS, seed=config.seed).fit(
                transactions, events, cutoff=cutoff
            )
            churn = churn_model.predict(transactions, events, cutoff=cutoff).reindex(summary.index)
        except Exception as exc:
            # Any failure of the booster falls back to the BTYD probabilities, recorded, rather than failing the run.
            logger.warning("gradient boosting failed, scores fall back to %s", btyd.name, exc_info=True)
            notes.append(f"p_purchase_30d and churn_risk from {btyd.name}: {type(exc).__name__}: {exc}")
        else:
            p_purchase = purchase["p_purchase"].fillna(pd.Series(p_purchase, index=summary.index)).to_numpy()
            churn_risk = churn["churn_risk"].fillna(pd.Series(churn_risk, index=summary.index)).to_numpy()
            probability_model = f"{purchase_model.name}_calibrated"

    report("segmenting", 0.8)
    segments = rfm_segments(summary["days_since_last"], purchases, summary["total_spend"] / purchases)
    scores = pd.DataFrame(
        {
            "p_alive": np.clip(p_alive, 0.0, 1.0),
            "p_purchase_30d": np.clip(p_purchase, 0.0, 1.0),
            "expected_orders_90d": np.maximum(expected_orders, 0.0),
            "churn_risk": np.clip(churn_risk, 0.0, 1.0),
            "clv_12m": np.maximum(clv, 0.0),
            "segment": segments["segment"].to_numpy(),
            "rfm": (segments["r"].astype(str) + segments["f"].astype(str) + segments["m"].astype(str)).to_numpy(),
            "model": probability_model,
            "orders": purchases.astype(int).to_numpy(),
            "days_since_last_order": summary["days_since_last"].to_numpy(),
            "total_spend": summary["total_spend"].to_numpy(),
        },
        index=summary.index,
    )
    score_models = {
        "p_alive": btyd.name,
        "expected_orders_90d": orders_model,
        "p_purchase_30d": probability_model,
        "churn_risk": probability_model,
        "clv_12m": f"{spend_name} x {btyd.name}, net of returns",
        "segment": "rfm",
        "parameters": parameters,
        "notes": notes,
    }
    return ScoreTable(scores=scores, score_models=score_models)


@transaction.atomic
def customer_scores_run_request(
    *,
    merchant: Merchant,
    config: CustomerScoreConfig | None = None,
    data_cutoff: dt.date | None = None,
    dispatch: bool = True,
) -> tuple[CustomerForecastRun, bool]:
    """The run for (merchant, cutoff, config): created and dispatched once; a failed one is started again."""
    config = config or CustomerScoreConfig()
    if data_cutoff is None:
        data_cutoff = customer_io.last_order_day(merchant=merchant) or timezone.localdate()
    config_dict = config.as_dict()
    key = idempotency_key(merchant=merchant, kind=RUN_KIND, data_cutoff=data_cutoff, config=config_dict)
    run, created = CustomerForecastRun.objects.select_for_update().get_or_create(
        merchant=merchant, idempotency_key=key, defaults={"data_cutoff": data_cutoff, "config": config_dict}
    )
    retry = not created and run.status == CustomerForecastRun.Status.FAILED
    if retry:
        _run_restart(run)
    if (created or retry) and dispatch:
        _dispatch(run)
    return run, created or retry


def _run_restart(run: CustomerForecastRun) -> None:
    run.status = CustomerForecastRun.Status.PENDING
    run.progress = 0.0
    run.stage = ""
    run.attempts = 0
    run.error = ""
    run.finished_at = None
    run.save(update_fields=["status", "progress", "stage", "attempts", "error", "finished_at"])


def _dispatch(run: CustomerForecastRun) -> None:
    from forecasting.tasks import customer_scores_run

    transaction.on_commit(lambda: customer_scores_run.delay(run.pk))


def _run_update(run_id: int, **fields) -> None:
    CustomerForecastRun.objects.filter(pk=run_id).update(**fields)


def _run_fail(run: CustomerForecastRun, message: str) -> CustomerForecastRun:
    run.status = CustomerForecastRun.Status.FAILED
    run.error = message[:4000]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    return run


def customer_scores_run_execute(*, run_id: int, progress: Progress | None = None) -> CustomerForecastRun:
    """Read the merchant's orders and activity, score every customer known at the cutoff, write the scores.

    Callable without Celery. A retried run overwrites its own rows (upsert on run and customer); a run that keeps
    killing its worker is given up after MAX_ATTEMPTS; database outages propagate so the task can retry.
    """
    with transaction.atomic():
        run = CustomerForecastRun.objects.select_for_update().select_related("merchant").get(pk=run_id)
        if run.status == CustomerForecastRun.Status.SUCCEEDED:
            return run
        run.attempts += 1
        run.status = CustomerForecastRun.Status.RUNNING
        run.started_at = run.started_at or timezone.now()
        run.save(update_fields=["attempts", "status", "started_at"])
    if run.attempts > MAX_ATTEMPTS:
        return _run_fail(run, f"gave up after {MAX_ATTEMPTS} attempts")

    def report(stage: str, fraction: float) -> None:
        _run_update(run.pk, stage=stage, progress=fraction)
        if progress:
            progress(stage, fraction)

    started = time.perf_counter()
    try:
        report("reading orders and activity", 0.05)
        transactions = customer_io.transactions_table(merchant=run.merchant, data_cutoff=run.data_cutoff)
        events = customer_io.events_table(merchant=run.merchant, data_cutoff=run.data_cutoff)
        read_seconds = time.perf_counter() - started

        engine_started = time.perf_counter()
        table = score_customers(
            transactions,
            events,
            cutoff=customer_io.engine_cutoff(run.data_cutoff),
            config=CustomerScoreConfig(
                classifier=run.config.get("classifier", True),
                annual_discount_rate=run.config.get("annual_discount_rate", 0.10),
                seed=run.config.get("seed", 0),
            ),
            progress=report,
        )
        engine_seconds = time.perf_counter() - engine_started

        report("writing scores", 0.9)
        write_started = time.perf_counter()
        with transaction.atomic():
            written = _scores_write(run, table.scores)
            run.status = CustomerForecastRun.Status.SUCCEEDED
            run.progress = 1.0
            run.stage = ""
            run.error = ""
            run.customers_total = written
            run.score_models = table.score_models
            run.finished_at = timezone.now()
            run.timings = {
                "read": read_seconds,
                "engine": engine_seconds,
                "write": time.perf_counter() - write_started,
                "total": time.perf_counter() - started,
            }
            run.save()
    except (OperationalError, InterfaceError):
        raise
    except Exception as exc:
        logger.exception("customer score run %s failed", run.pk)
        return _run_fail(run, f"{type(exc).__name__}: {exc}")
    if progress:
        progress("done", 1.0)
    return run


def _scores_write(run: CustomerForecastRun, scores: pd.DataFrame) -> int:
    """The run's rows, replacing whatever an earlier attempt of the run wrote (same transaction)."""
    CustomerScore.objects.filter(run=run).delete()
    records = scores.reset_index(names="customer_id").to_dict("records")
    for start in range(0, len(records), WRITE_BATCH):
        CustomerScore.objects.bulk_create(
            CustomerScore(merchant_id=run.merchant_id, run=run, **record)
            for record in records[start : start + WRITE_BATCH]
        )
    return len(records)


def customer_scores_run_in_process(
    *,
    merchant: Merchant,
    config: CustomerScoreConfig | None = None,
    data_cutoff: dt.date | None = None,
    progress: Progress | None = None,
) -> CustomerForecastRun:
    """Request (idempotent) and execute a run in this process: the nightly pipeline, commands and the demo."""
    run, _created = customer_scores_run_request(
        merchant=merchant, config=config, data_cutoff=data_cutoff, dispatch=False
    )
    return customer_scores_run_execute(run_id=run.pk, progress=progress)


@transaction.atomic
def customer_scores_run_reset(*, run_id: int) -> CustomerForecastRun:
    """Score a run again from scratch (staff action): same cutoff and configuration, rows rewritten."""
    run = CustomerForecastRun.objects.select_for_update().get(pk=run_id)
    _run_restart(run)
    _dispatch(run)
    return run
