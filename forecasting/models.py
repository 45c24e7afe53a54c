"""Forecast runs and their results: per-SKU choice and scores, per-day values, trained model artifacts, and
customer-score runs with per-customer scores."""

from __future__ import annotations

from django.db import models

from customers.models import Campaign, Customer
from ecomforecast.models import MerchantOwned
from inventory.models import MONEY, Product


class ForecastRun(MerchantOwned):
    """One forecast of a merchant's catalogue. The row, not the broker message, is the truth about a run."""

    class Kind(models.TextChoices):
        SALES = "sales", "Sales"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SALES)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    idempotency_key = models.CharField(max_length=64, help_text="hash of merchant, kind, data cutoff and config")
    data_cutoff = models.DateField(help_text="last day of history the run uses")
    horizon = models.PositiveIntegerField(default=28)
    config = models.JSONField(default=dict, blank=True)
    progress = models.FloatField(default=0.0, help_text="0..1")
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    series_total = models.PositiveIntegerField(default=0)
    series_done = models.PositiveIntegerField(default=0)
    fallback_count = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0, help_text="times the run (or a chunk of it) was started")
    error = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds: read, engine, write, total")
    neural = models.JSONField(
        default=dict,
        blank=True,
        help_text="per neural candidate: the model artifact the run uses, or why it runs without it",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_key"], name="forecastrun_unique_idempotency")
        ]
        indexes = [models.Index(fields=["merchant", "kind", "status", "-finished_at"], name="forecastrun_latest")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} forecast {self.data_cutoff} ({self.status})"

    def pinned_artifact_ids(self) -> set[int]:
        """The model artifacts the run uses: per neural candidate, its pin {"artifact_id", ..., "final": {...}}
        and the final pin inside it (entries holding an error, and the run's counters, pin nothing)."""
        pinned = set()
        for pin in self.neural.values():
            if isinstance(pin, dict):
                pinned.update(item["artifact_id"] for item in (pin, pin.get("final") or {}) if "artifact_id" in item)
        return pinned


class ForecastChunk(MerchantOwned):
    """A slice of a run's SKUs handled by one task; retried chunks overwrite their own rows (upserts)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    product_ids = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="forecastchunk_unique_run_index")]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index} ({self.status})"


class ForecastResult(MerchantOwned):
    """What the engine chose for one SKU in one run, how it scored in backtest, and why."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="results")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="forecast_results")
    model = models.CharField(max_length=120)
    demand_class = models.CharField(max_length=16, db_index=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="backtest scores (mase, wape, wql, cov80, ...)")
    fallback = models.BooleanField(default=False)
    fallback_reason = models.TextField(blank=True)
    explanation = models.JSONField(default=dict, blank=True, help_text="decomposition and model parameters")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "product"]
        constraints = [models.UniqueConstraint(fields=["run", "product"], name="forecastresult_unique_run_product")]
        indexes = [models.Index(fields=["merchant", "product", "-run"], name="forecastresult_product_latest")]

    def __str__(self) -> str:
        return f"{self.product} in run {self.run_id}: {self.model}"


class ForecastValue(MerchantOwned):
    """One forecast day of one SKU: mean, daily quantiles and quantiles of cumulative demand up to that day."""

    # The unique (result, date) index serves every lookup by result, and reads go through the result, so the
    # single-column indexes would only slow down the nightly bulk write of these rows.
    merchant = models.ForeignKey("ecomforecast.Merchant", on_delete=models.CASCADE, related_name="+", db_index=False)
    result = models.ForeignKey(ForecastResult, on_delete=models.CASCADE, related_name="values", db_index=False)
    date = models.DateField()
    mean = models.FloatField()
    p10 = models.FloatField()
    p50 = models.FloatField()
    p90 = models.FloatField()
    quantiles = models.JSONField(default=dict, help_text="daily quantiles {level: units}")
    cumulative = models.JSONField(default=dict, help_text="quantiles of units summed from day 1 to this day")

    class Meta:
        ordering = ["result", "date"]
        constraints = [models.UniqueConstraint(fields=["result", "date"], name="forecastvalue_unique_result_date")]

    def __str__(self) -> str:
        return f"{self.result.product} {self.date}: {self.mean:.2f}"


class ModelArtifact(MerchantOwned):
    """A trained global model (neural tier) that nightly runs reuse until it is retrained.

    The weights are one checkpoint file at ``storage_path``, relative to settings.MODEL_ARTIFACT_ROOT so the root
    can move; ``sha256`` and ``size_bytes`` are of that file, checked before it is loaded. ``data_cutoff`` is the
    run cutoff the model was trained for, ``train_data_end`` the last day of demand its weights saw (at or before
    the cutoff): a run may use an artifact only where that day lies before its own backtest windows, so the
    backtest scores stay out of sample. Retired versions keep their row (the history) but lose their file.

    The row is created in status "training" before the work starts, and every delivery of the training counts an
    attempt on it first, so a training that kills its worker is refused (status "failed", ``error`` says why)
    once the attempts cap is reached instead of being redelivered forever.
    """

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    storage_path = models.CharField(max_length=500, help_text="checkpoint file, relative to MODEL_ARTIFACT_ROOT")
    sha256 = models.CharField(max_length=64, blank=True, help_text="hex digest of the checkpoint file")
    size_bytes = models.PositiveBigIntegerField(default=0)
    config = models.JSONField(default=dict, blank=True, help_text="the model's hyper-parameters")
    metrics = models.JSONField(default=dict, blank=True, help_text="training log and best validation loss")
    trained_at = models.DateTimeField(auto_now_add=True)
    data_cutoff = models.DateField(null=True, blank=True, help_text="the run cutoff the model was trained for")
    train_data_end = models.DateField(
        null=True, blank=True, help_text="last day of demand the weights saw; unknown (null) means never usable"
    )
    series_count = models.PositiveIntegerField(default=0, help_text="SKUs in the training panel")
    n_parameters = models.PositiveBigIntegerField(default=0)
    device = models.CharField(max_length=32, blank=True, help_text="where it was trained (cpu, cuda:0, ...)")
    training_seconds = models.FloatField(default=0.0)
    attempts = models.PositiveIntegerField(default=0, help_text="trainings started for this version")
    error = models.TextField(blank=True, help_text="why the training failed")

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name", "version"], name="modelartifact_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class CustomerForecastRun(MerchantOwned):
    """One scoring of a merchant's customers at a data cutoff: purchase probability, churn risk, CLV, segment.

    Kept apart from ForecastRun so that the sales run's chunk planning, re-run action and progress page never
    pick up a customer run; "latest scores" is one indexed lookup on (merchant, status, -finished_at).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(max_length=64, help_text="hash of merchant, data cutoff and config")
    data_cutoff = models.DateField(help_text="last day of history the scores use")
    config = models.JSONField(default=dict, blank=True)
    score_models = models.JSONField(
        default=dict, blank=True, help_text="the model behind each score, fitted parameters and fallbacks"
    )
    progress = models.FloatField(default=0.0, help_text="0..1")
    stage = models.CharField(max_length=64, blank=True, help_text="what the run is doing now")
    customers_total = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds: read, engine, write, total")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"], name="customerforecastrun_unique_idempotency"
            )
        ]
        indexes = [models.Index(fields=["merchant", "status", "-finished_at"], name="customerforecastrun_latest")]

    def __str__(self) -> str:
        return f"Customer scores {self.data_cutoff} ({self.status})"


class CustomerScore(MerchantOwned):
    """One customer's scores in one run; earlier runs keep theirs, so a customer's scores have a history."""

    class Segment(models.TextChoices):
        CHAMPIONS = "champions", "Champions"
        LOYAL = "loyal", "Loyal"
        PROMISING = "promising", "Promising"
        AT_RISK = "at risk", "At risk"
        HIBERNATING = "hibernating", "Hibernating"
        LOST = "lost", "Lost"

    # Reads always go through the run (the unique (run, customer) index and the run indexes below), so a
    # merchant index would only slow down the bulk write of a run's rows.
    merchant = models.ForeignKey("ecomforecast.Merchant", on_delete=models.CASCADE, related_name="+", db_index=False)
    run = models.ForeignKey(CustomerForecastRun, on_delete=models.CASCADE, related_name="scores", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="forecast_scores")
    p_alive = models.FloatField(help_text="probability the customer is still active at the cutoff")
    p_purchase_30d = models.FloatField(help_text="probability of at least one order in the next 30 days")
    expected_orders_90d = models.FloatField(help_text="expected orders in the next 90 days")
    churn_risk = models.FloatField(help_text="probability of no order in the next 90 days")
    clv_12m = models.FloatField(help_text="discounted expected spend over the next 12 months")
    segment = models.CharField(max_length=16, choices=Segment.choices)
    rfm = models.CharField(max_length=3, help_text="R, F and M quintile scores (1-5)")
    model = models.CharField(max_length=64, help_text="model behind p_purchase_30d and churn_risk")
    orders = models.PositiveIntegerField(help_text="purchases before the cutoff")
    days_since_last_order = models.FloatField()
    total_spend = models.FloatField(help_text="spend before the cutoff")

    class Meta:
        ordering = ["run", "-churn_risk", "customer"]
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="customerscore_unique_run_customer")]
        indexes = [
            models.Index(fields=["run", "-churn_risk"], name="customerscore_run_churn"),
            models.Index(fields=["run", "segment", "-churn_risk"], name="customerscore_run_segment"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} in run {self.run_id}: churn risk {self.churn_risk:.0%}"


class CampaignForecast(MerchantOwned):
    """One evaluation of one campaign at a data cutoff.

    kind PLAN, before or while it runs: baseline vs with-campaign demand of its products over the campaign window
    and a post window, the lift with its interval, the money (incremental revenue and margin after the discount,
    profit, ROI and P(ROI > 0)) and the stock check. kind READOUT, after it ended: actual demand against a
    counterfactual forecast from the data before the start, the measured effect with its interval and P(effect > 0),
    realised vs predicted ROI. The campaign's definition at evaluation time is snapshotted (a merchant may edit the
    campaign afterwards); ``estimates`` holds every quantity as {mean, lower, upper} at ``level``, the columns the
    lists sort on are copied out of it.
    """

    class Kind(models.TextChoices):
        PLAN = "plan", "Pre-campaign forecast"
        READOUT = "readout", "Post-campaign readout"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="forecasts")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    idempotency_key = models.CharField(
        max_length=64, help_text="hash of campaign, kind, data cutoff, the campaign's definition and config"
    )
    data_cutoff = models.DateField(help_text="last day of history the evaluation uses")
    config = models.JSONField(default=dict, blank=True)
    campaign_snapshot = models.JSONField(default=dict, blank=True, help_text="the campaign as it was evaluated")
    level = models.FloatField(default=0.8, help_text="central interval level of every lower/upper")
    campaign_days = models.PositiveIntegerField(default=0)
    post_days = models.PositiveIntegerField(default=0)
    products_total = models.PositiveIntegerField(default=0)
    baseline_units = models.FloatField(null=True, blank=True, help_text="expected units without the campaign")
    campaign_units = models.FloatField(
        null=True, blank=True, help_text="plan: expected units with the campaign; readout: actual units"
    )
    lift_units = models.FloatField(null=True, blank=True)
    lift_pct = models.FloatField(null=True, blank=True, help_text="fraction: 0.25 = +25 %")
    p_positive = models.FloatField(null=True, blank=True, help_text="probability the lift is above zero")
    cost = models.DecimalField(**MONEY, default=0)
    profit = models.FloatField(null=True, blank=True, help_text="incremental margin minus campaign cost")
    roi = models.FloatField(null=True, blank=True, help_text="profit / campaign cost")
    p_roi_positive = models.FloatField(null=True, blank=True)
    predicted_roi = models.FloatField(null=True, blank=True, help_text="readout: the ROI the last plan predicted")
    control_ratio = models.FloatField(null=True, blank=True, help_text="readout: controls' actual / forecast")
    stock_short_count = models.PositiveIntegerField(default=0, help_text="products whose stock misses P90 demand")
    estimates = models.JSONField(default=dict, blank=True, help_text="every quantity as {mean, lower, upper}")
    daily = models.JSONField(
        default=dict, blank=True, help_text="dates and daily baseline / campaign (or actual) bands, for the chart"
    )
    effects = models.JSONField(default=dict, blank=True, help_text="fitted covariate effects and what was left out")
    progress = models.FloatField(default=0.0, help_text="0..1")
    stage = models.CharField(max_length=64, blank=True, help_text="what the evaluation is doing now")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    timings = models.JSONField(default=dict, blank=True, help_text="seconds: read, engine, write, total")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_key"], name="campaignforecast_unique_idempotency")
        ]
        indexes = [
            models.Index(fields=["campaign", "kind", "status", "-finished_at"], name="campaignforecast_latest"),
            models.Index(fields=["merchant", "status", "-finished_at"], name="campaignforecast_merchant"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.campaign} at {self.data_cutoff} ({self.status})"


class CampaignForecastLine(MerchantOwned):
    """One product of a campaign evaluation, with the stock check of a plan (stock snapshotted, like reorder lines)."""

    forecast = models.ForeignKey(CampaignForecast, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="campaign_forecast_lines")
    baseline_units = models.FloatField()
    campaign_units = models.FloatField(help_text="plan: expected units with the campaign; readout: actual units")
    lift_units = models.FloatField()
    lift_pct = models.FloatField(null=True, blank=True)
    post_units = models.FloatField(null=True, blank=True, help_text="lift in the post window (a dip is negative)")
    demand_p90 = models.FloatField(null=True, blank=True, help_text="plan: P90 of campaign-window demand")
    demand_to_end_mean = models.FloatField(
        null=True, blank=True, help_text="plan: expected demand from the first forecast day to the campaign's end"
    )
    demand_to_end_p90 = models.FloatField(
        null=True, blank=True, help_text="plan: P90 of demand from the first forecast day to the campaign's end"
    )
    on_hand = models.FloatField(null=True, blank=True)
    on_order = models.FloatField(null=True, blank=True, help_text="open purchase orders due before the start")
    shortfall = models.FloatField(default=0.0, help_text="units short of P90 demand up to the campaign's end")
    needed_by = models.DateField(null=True, blank=True, help_text="when the missing stock must be on hand")
    revenue = models.FloatField(null=True, blank=True, help_text="incremental revenue after the discount")
    margin = models.FloatField(null=True, blank=True, help_text="incremental margin after the discount")
    estimates = models.JSONField(default=dict, blank=True)
    daily = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["forecast", "-lift_units", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["forecast", "product"], name="campaignforecastline_unique_product")
        ]

    def __str__(self) -> str:
        return f"{self.product} in {self.forecast}"
