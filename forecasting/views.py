"""Merchant UI for forecasts: the accuracy summary page, "run forecast now" with live progress, and the
forecast panel of the product page (fan chart, chosen model, decomposition); the at-risk customers page with
"compute scores now", and the scores panel of the customer page."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from customers.models import Customer
from ecomforecast.models import Membership, Merchant
from ecomforecast.views import MerchantPageMixin
from forecasting import (
    artifact_selectors,
    charts,
    customer_charts,
    customer_selectors,
    customer_services,
    io,
    selectors,
    services,
)
from forecasting.engine.decompose import decompose_series
from forecasting.models import CustomerScore, ForecastRun, ModelArtifact
from inventory.models import Product

HISTORY_DAYS_SHOWN = 180
WRITE_ROLES = {Membership.Role.OWNER, Membership.Role.ANALYST}


class ForecastsView(MerchantPageMixin, TemplateView):
    template_name = "forecasting/forecasts.html"
    section = "forecasts"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        run = selectors.forecast_run_latest(merchant=merchant)
        context["runs"] = selectors.forecast_run_list(merchant=merchant)[:10]
        context["active_run"] = (
            selectors.forecast_run_list(merchant=merchant)
            .filter(status__in=[ForecastRun.Status.PENDING, ForecastRun.Status.RUNNING])
            .first()
        )
        context["can_run"] = self.request.membership.role in WRITE_ROLES
        context["run"] = run
        context["neural_models"] = artifact_selectors.model_artifact_list(merchant=merchant).filter(
            status=ModelArtifact.Status.ACTIVE
        )
        if run is not None:
            context["neural_pins"] = [
                (name, run.neural.get(name) or {})
                for name in services.neural_candidates(run.config.get("models", "auto"))
            ]
        if run is not None:
            summary = selectors.forecast_summary(merchant=merchant, run=run)
            context["summary"] = summary
            context["accuracy_chart"] = charts.accuracy_figure(mase=summary["mase_values"], wape=summary["wape_values"])
            context["mix_chart"] = charts.model_mix_figure(classes=summary["classes"])
        return context


class ForecastRunRequestView(MerchantPageMixin, View):
    """POST: request a forecast of the whole catalogue now (idempotent for the same data and configuration)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.membership.role not in WRITE_ROLES:
            messages.error(request, "Your role can view forecasts but not start them.")
            return redirect("forecasts")
        run, created = services.forecast_run_request(merchant=request.merchant)
        if created:
            messages.success(request, f"Forecast run {run.pk} started for history up to {run.data_cutoff}.")
        else:
            messages.info(request, f"Forecast run {run.pk} already covers history up to {run.data_cutoff}.")
        return redirect(f"{reverse('forecasts')}?run={run.pk}")


class ForecastRunProgressView(MerchantPageMixin, View):
    def get(self, request: HttpRequest, pk: int) -> JsonResponse:
        run = get_object_or_404(selectors.forecast_run_list(merchant=request.merchant), pk=pk)
        return JsonResponse(
            {
                "id": run.pk,
                "status": run.status,
                "progress": run.progress,
                "chunks_done": run.chunks_done,
                "chunks_total": run.chunks_total,
                "series_done": run.series_done,
                "series_total": run.series_total,
                "error": run.error,
            }
        )


def product_forecast_context(*, merchant: Merchant, product: Product) -> dict:
    """What the product page shows of the latest forecast: fan chart, chosen model, scores, decomposition."""
    result = selectors.forecast_result_latest(merchant=merchant, product=product)
    if result is None:
        return {"forecast_result": None}
    values = list(result.values.all())
    (history,) = io.demand_series(merchant=merchant, product_ids=[product.pk], cutoff=result.run.data_cutoff) or [None]
    context = {"forecast_result": result, "forecast_days": len(values)}
    if values:
        context["forecast_total_p50"] = values[-1].cumulative.get("0.5")
        context["forecast_total_p90"] = values[-1].cumulative.get("0.9")
    if history is not None:
        shown = history.values[-HISTORY_DAYS_SHOWN:]
        shown_start = history.start + dt.timedelta(days=len(history.values) - len(shown))
        context["fan_chart"] = charts.fan_figure(history_start=shown_start, history=shown, values=values)
        decomposition = decompose_series(history.values, season_length=result.run.config.get("season_length", 7))
        context["decomposition_chart"] = charts.decomposition_figure(start=history.start, decomposition=decomposition)
    return context


MIN_CHURN_CHOICES = (0.3, 0.5, 0.7, 0.9)
SCORE_COLUMNS = (
    ("churn_risk", "Churn risk"),
    ("p_alive", "P(alive)"),
    ("p_purchase_30d", "P(order, 30 d)"),
    ("expected_orders_90d", "Orders, 90 d"),
    ("clv_12m", "CLV, 12 m"),
    ("orders", "Orders so far"),
    ("days_since_last_order", "Days since last"),
)


class CustomerScoresView(MerchantPageMixin, TemplateView):
    """At-risk customers: the latest scores, filtered by segment and minimum churn risk, sortable by any score,
    with the segment overview and a CSV export of the same list for a retention campaign."""

    template_name = "forecasting/customer_scores.html"
    section = "customer-scores"
    page_size = 50

    def _filters(self) -> tuple[str, float | None, str, list[str]]:
        errors = []
        segment = self.request.GET.get("segment", "")
        if segment and segment not in CustomerScore.Segment.values:
            errors.append(f"Unknown segment “{segment}”: showing every segment.")
            segment = ""
        min_churn_risk = None
        raw = self.request.GET.get("min_churn_risk", "")
        if raw:
            try:
                min_churn_risk = float(raw)
            except ValueError:
                min_churn_risk = float("nan")
            if not 0 <= min_churn_risk <= 1:
                errors.append(f"Minimum churn risk must be a number from 0 to 1, not “{raw}”: showing every risk.")
                min_churn_risk = None
        ordering = self.request.GET.get("ordering", "-churn_risk")
        if ordering.lstrip("-") not in customer_selectors.SCORE_ORDERINGS:
            errors.append(f"Cannot sort by “{ordering}”: sorted by churn risk.")
            ordering = "-churn_risk"
        return segment, min_churn_risk, ordering, errors

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        merchant = self.request.merchant
        run = customer_selectors.customer_run_latest(merchant=merchant)
        segment, min_churn_risk, ordering, errors = self._filters()
        scores = customer_selectors.customer_score_list(
            merchant=merchant, run=run, segment=segment or None, min_churn_risk=min_churn_risk
        ).order_by(ordering, "customer_id")
        page = Paginator(scores, self.page_size).get_page(self.request.GET.get("page"))
        query = {"segment": segment, "min_churn_risk": "" if min_churn_risk is None else f"{min_churn_risk:g}"}
        query = {key: value for key, value in query.items() if value}
        context.update(
            run=run,
            page=page,
            segment=segment,
            segments=CustomerScore.Segment.choices,
            min_churn_risk=min_churn_risk,
            min_churn_choices=sorted({*MIN_CHURN_CHOICES, *([min_churn_risk] if min_churn_risk else [])}),
            ordering=ordering,
            columns=[
                {
                    "field": field,
                    "label": label,
                    "active": ordering.lstrip("-") == field,
                    "descending": ordering == f"-{field}",
                    "query": urlencode({**query, "ordering": f"-{field}" if ordering != f"-{field}" else field}),
                }
                for field, label in SCORE_COLUMNS
            ],
            page_query=urlencode({**query, "ordering": ordering}),
            export_url=f"{reverse('customer-score-export-csv-file')}?{urlencode({**query, 'ordering': ordering})}",
            filter_errors=errors,
            active_run=customer_selectors.customer_run_active(merchant=merchant),
            runs=customer_selectors.customer_run_list(merchant=merchant)[:5],
            can_run=self.request.membership.role in WRITE_ROLES,
        )
        if run is not None:
            overview = customer_selectors.segment_overview(merchant=merchant, run=run)
            context["overview"] = overview
            context["segment_chart"] = customer_charts.segment_figure(overview, currency=merchant.currency)
        return context


class CustomerScoresRunRequestView(MerchantPageMixin, View):
    """POST: score the merchant's customers now (idempotent for the same data and configuration)."""

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.membership.role not in WRITE_ROLES:
            messages.error(request, "Your role can view customer scores but not compute them.")
            return redirect("customer-scores")
        run, started = customer_services.customer_scores_run_request(merchant=request.merchant)
        if started:
            messages.success(request, f"Scoring customers on history up to {run.data_cutoff} (run {run.pk}).")
        else:
            messages.info(request, f"Run {run.pk} already scores history up to {run.data_cutoff}.")
        return redirect("customer-scores")


class CustomerScoresRunProgressView(MerchantPageMixin, View):
    def get(self, request: HttpRequest, pk: int) -> JsonResponse:
        run = get_object_or_404(customer_selectors.customer_run_list(merchant=request.merchant), pk=pk)
        return JsonResponse(
            {
                "id": run.pk,
                "status": run.status,
                "progress": run.progress,
                "stage": run.stage,
                "customers_total": run.customers_total,
                "error": run.error,
            }
        )


def customer_scores_context(*, merchant: Merchant, customer: Customer) -> dict:
    """What the customer page shows of the scores: the latest run's, and how they moved across runs."""
    history = customer_selectors.customer_score_history(merchant=merchant, customer=customer)
    latest_run = customer_selectors.customer_run_latest(merchant=merchant)
    latest = next((score for score in history if latest_run and score.run_id == latest_run.pk), None)
    context = {
        "customer": customer,
        "currency": merchant.currency,
        "score": latest,
        "latest_run": latest_run,
        "score_history": history,
    }
    if len(history) > 1:
        context["score_history_chart"] = customer_charts.score_history_figure(history)
    return context
