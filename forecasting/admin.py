"""Staff admin for forecast runs, per-SKU results, model artifacts, customer-score runs and scores, and campaign
evaluations with their product lines; runs can be re-run from here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from ecomforecast.admin import MerchantOwnedAdmin
from forecasting import artifact_services, campaign_services, customer_services, services
from forecasting.models import (
    CampaignForecast,
    CampaignForecastLine,
    CustomerForecastRun,
    CustomerScore,
    ForecastChunk,
    ForecastResult,
    ForecastRun,
    ModelArtifact,
)


class ForecastChunkInline(admin.TabularInline):
    model = ForecastChunk
    fields = ("index", "status", "attempts", "error", "timings", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ForecastRun)
class ForecastRunAdmin(MerchantOwnedAdmin):
    list_display = (
        "id",
        "merchant",
        "kind",
        "status",
        "data_cutoff",
        "horizon",
        "progress_percent",
        "series_done",
        "fallback_count",
        "attempts",
        "duration_seconds",
        "created_at",
    )
    list_filter = ("merchant", "status", "kind")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in ForecastRun._meta.fields]
    inlines = (ForecastChunkInline,)
    actions = ("rerun",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="progress")
    def progress_percent(self, run: ForecastRun) -> str:
        return f"{run.progress:.0%}"

    @admin.display(description="seconds")
    def duration_seconds(self, run: ForecastRun) -> str:
        total = run.timings.get("total")
        return f"{total:.1f}" if total is not None else "–"

    @admin.action(description="Re-run the selected forecasts (same cutoff and configuration)")
    def rerun(self, request, queryset) -> None:
        def reset(pk: int) -> None:
            with transaction.atomic():
                services.forecast_run_reset(run_id=pk)

        _queue_again(request, queryset, reset, "run(s)")


def _queue_again(request, queryset, reset, what: str) -> None:
    """A staff "again" action: ``reset(pk)`` (the app's reset service) for every selected row, then one message."""
    keys = list(queryset.values_list("pk", flat=True))
    for pk in keys:
        reset(pk)
    messages.success(request, f"{len(keys)} {what} queued again.")


@admin.register(ForecastResult)
class ForecastResultAdmin(MerchantOwnedAdmin):
    list_display = ("product", "run", "model", "demand_class", "mase", "wape", "fallback", "merchant")
    list_filter = ("merchant", "demand_class", "model", "fallback")
    search_fields = ("product__sku", "product__name")
    list_select_related = ("merchant", "product", "run")
    readonly_fields = [field.name for field in ForecastResult._meta.fields]
    raw_id_fields = ("run", "product")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="MASE")
    def mase(self, result: ForecastResult) -> str:
        value = result.metrics.get("mase")
        return f"{value:.2f}" if value is not None else "–"

    @admin.display(description="WAPE")
    def wape(self, result: ForecastResult) -> str:
        value = result.metrics.get("wape")
        return f"{value:.0%}" if value is not None else "–"


@admin.register(ModelArtifact)
class ModelArtifactAdmin(MerchantOwnedAdmin):
    list_display = (
        "name",
        "version",
        "merchant",
        "status",
        "train_data_end",
        "series_count",
        "parameters",
        "seconds",
        "device",
        "size",
        "trained_at",
    )
    list_filter = ("merchant", "name", "status")
    search_fields = ("name", "storage_path", "sha256")
    date_hierarchy = "trained_at"
    readonly_fields = [field.name for field in ModelArtifact._meta.fields]
    actions = ("retire",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="parameters", ordering="n_parameters")
    def parameters(self, artifact: ModelArtifact) -> str:
        return f"{artifact.n_parameters:,}"

    @admin.display(description="seconds", ordering="training_seconds")
    def seconds(self, artifact: ModelArtifact) -> str:
        return f"{artifact.training_seconds:.1f}"

    @admin.display(description="size", ordering="size_bytes")
    def size(self, artifact: ModelArtifact) -> str:
        return filesizeformat(artifact.size_bytes)

    @admin.action(description="Retire the selected versions (nightly runs stop using them; files are deleted)")
    def retire(self, request, queryset) -> None:
        count = 0
        for artifact_id in queryset.filter(status=ModelArtifact.Status.ACTIVE).values_list("pk", flat=True):
            artifact_services.model_artifact_retire(artifact_id=artifact_id)
            count += 1
        messages.success(request, f"{count} model version(s) retired.")


@admin.register(CustomerForecastRun)
class CustomerForecastRunAdmin(MerchantOwnedAdmin):
    list_display = (
        "id",
        "merchant",
        "status",
        "data_cutoff",
        "customers_total",
        "probability_model",
        "progress_percent",
        "attempts",
        "duration_seconds",
        "created_at",
    )
    list_filter = ("merchant", "status")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in CustomerForecastRun._meta.fields]
    actions = ("rerun",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="churn model")
    def probability_model(self, run: CustomerForecastRun) -> str:
        return run.score_models.get("churn_risk", "–")

    @admin.display(description="progress")
    def progress_percent(self, run: CustomerForecastRun) -> str:
        return f"{run.progress:.0%}"

    @admin.display(description="seconds")
    def duration_seconds(self, run: CustomerForecastRun) -> str:
        total = run.timings.get("total")
        return f"{total:.1f}" if total is not None else "–"

    @admin.action(description="Score the selected runs again (same cutoff and configuration)")
    def rerun(self, request, queryset) -> None:
        _queue_again(
            request,
            queryset,
            lambda pk: customer_services.customer_scores_run_reset(run_id=pk),
            "customer-score run(s)",
        )


@admin.register(CustomerScore)
class CustomerScoreAdmin(MerchantOwnedAdmin):
    list_display = (
        "customer",
        "run",
        "segment",
        "churn_risk_percent",
        "p_alive",
        "p_purchase_30d",
        "expected_orders_90d",
        "clv_12m",
        "model",
        "merchant",
    )
    # Filters list their choices without scanning the scores (a distinct over millions of rows per page view).
    list_filter = ("merchant", "segment", "run")
    show_full_result_count = False
    search_fields = ("customer__external_id", "customer__email", "customer__name")
    list_select_related = ("merchant", "customer", "run")
    readonly_fields = [field.name for field in CustomerScore._meta.fields]
    raw_id_fields = ("run", "customer")
    ordering = ("-run__created_at", "-churn_risk")

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="churn risk", ordering="churn_risk")
    def churn_risk_percent(self, score: CustomerScore) -> str:
        return f"{score.churn_risk:.0%}"


class CampaignForecastLineInline(admin.TabularInline):
    model = CampaignForecastLine
    fields = (
        "product",
        "baseline_units",
        "campaign_units",
        "lift_units",
        "lift_pct",
        "post_units",
        "demand_to_end_p90",
        "on_hand",
        "on_order",
        "shortfall",
        "needed_by",
        "revenue",
        "margin",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(CampaignForecast)
class CampaignForecastAdmin(MerchantOwnedAdmin):
    list_display = (
        "id",
        "campaign",
        "kind",
        "status",
        "data_cutoff",
        "products_total",
        "lift_percent",
        "roi",
        "p_roi_positive",
        "stock_short_count",
        "attempts",
        "merchant",
        "created_at",
    )
    list_filter = ("merchant", "kind", "status")
    search_fields = ("campaign__name", "campaign__external_id")
    list_select_related = ("merchant", "campaign")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in CampaignForecast._meta.fields]
    inlines = (CampaignForecastLineInline,)
    actions = ("rerun",)

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Evaluate the selected campaign forecasts again (same data cutoff)")
    def rerun(self, request, queryset) -> None:
        _queue_again(
            request,
            queryset,
            lambda pk: campaign_services.campaign_forecast_reset(forecast_id=pk),
            "campaign evaluation(s)",
        )

    @admin.display(description="lift", ordering="lift_pct")
    def lift_percent(self, forecast: CampaignForecast) -> str:
        return f"{forecast.lift_pct:+.0%}" if forecast.lift_pct is not None else "–"
