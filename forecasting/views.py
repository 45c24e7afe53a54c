"""Merchant UI for forecasts: the accuracy summary page, "run forecast now" with live progress, and the
forecast panel of the product page (fan chart, chosen model, decomposition)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from ecomforecast.models import Membership, Merchant
from ecomforecast.views import MerchantPageMixin
from forecasting import charts, io, selectors, services
from forecasting.engine.decompose import decompose_series
from forecasting.models import ForecastRun
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
