"""Reads of customer-score runs and scores; every query takes the merchant."""

from __future__ import annotations

from django.db.models import Avg, Count, QuerySet, Sum

from customers.models import Customer
from ecomforecast.models import Merchant
from forecasting.models import CustomerForecastRun, CustomerScore

SCORE_ORDERINGS = (
    "churn_risk",
    "p_alive",
    "p_purchase_30d",
    "expected_orders_90d",
    "clv_12m",
    "days_since_last_order",
    "orders",
    "total_spend",
)


def customer_run_list(*, merchant: Merchant) -> QuerySet[CustomerForecastRun]:
    return CustomerForecastRun.objects.filter(merchant=merchant)


def customer_run_active(*, merchant: Merchant) -> CustomerForecastRun | None:
    return (
        customer_run_list(merchant=merchant)
        .filter(status__in=[CustomerForecastRun.Status.PENDING, CustomerForecastRun.Status.RUNNING])
        .first()
    )


def customer_run_latest(*, merchant: Merchant) -> CustomerForecastRun | None:
    """The latest succeeded run: one lookup on the (merchant, status, -finished_at) index."""
    return (
        CustomerForecastRun.objects.filter(merchant=merchant, status=CustomerForecastRun.Status.SUCCEEDED)
        .order_by("-finished_at", "-pk")
        .first()
    )


def customer_score_list(
    *,
    merchant: Merchant,
    run: CustomerForecastRun | None,
    segment: str | None = None,
    min_churn_risk: float | None = None,
) -> QuerySet[CustomerScore]:
    """Scores of a run (nothing when run is None) with their customer, riskiest first."""
    if run is None:
        return CustomerScore.objects.none()
    scores = CustomerScore.objects.filter(merchant=merchant, run=run)
    if segment:
        scores = scores.filter(segment=segment)
    if min_churn_risk is not None:
        scores = scores.filter(churn_risk__gte=min_churn_risk)
    return scores.select_related("customer", "run").order_by("-churn_risk", "customer_id")


def customer_score_all(*, merchant: Merchant) -> QuerySet[CustomerScore]:
    """Every score of the merchant, of any run (lookups of one score by id)."""
    return CustomerScore.objects.filter(merchant=merchant).select_related("customer", "run")


def customer_score_history(*, merchant: Merchant, customer: Customer) -> list[CustomerScore]:
    """The customer's scores in every succeeded run, oldest cutoff first (served by the customer index)."""
    return list(
        CustomerScore.objects.filter(
            merchant=merchant, customer=customer, run__status=CustomerForecastRun.Status.SUCCEEDED
        )
        .select_related("customer", "run")
        .order_by("run__data_cutoff", "run__finished_at", "run_id")
    )


def customer_score_latest(*, merchant: Merchant, customer: Customer) -> CustomerScore | None:
    """The customer's score in the merchant's latest succeeded run (None if that run did not know them)."""
    run = customer_run_latest(merchant=merchant)
    if run is None:
        return None
    return (
        CustomerScore.objects.filter(merchant=merchant, run=run, customer=customer)
        .select_related("customer", "run")
        .first()
    )


def segment_overview(*, merchant: Merchant, run: CustomerForecastRun) -> list[dict]:
    """Per segment (in the order of the RFM rules): customers, mean churn risk and P(alive), summed 12-month CLV
    and expected orders; one grouped query."""
    rows = {
        row["segment"]: row
        for row in CustomerScore.objects.filter(merchant=merchant, run=run)
        .values("segment")
        .annotate(
            customers=Count("pk"),
            mean_churn_risk=Avg("churn_risk"),
            mean_p_alive=Avg("p_alive"),
            clv_12m=Sum("clv_12m"),
            expected_orders_90d=Sum("expected_orders_90d"),
        )
        .order_by()
    }
    return [{**rows[segment], "label": label} for segment, label in CustomerScore.Segment.choices if segment in rows]
