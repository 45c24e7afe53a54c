"""Catalogue, suppliers, stock levels and purchase orders of a merchant."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ecomforecast.models import MerchantOwned

MONEY = {"max_digits": 14, "decimal_places": 4}


class Category(MerchantOwned):
    name = models.CharField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [models.UniqueConstraint(fields=["merchant", "name"], name="category_unique_merchant_name")]

    def __str__(self) -> str:
        return self.name


class Product(MerchantOwned):
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=300, blank=True)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products")
    price = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(0)])
    unit_cost = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(0)])
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku"]
        constraints = [models.UniqueConstraint(fields=["merchant", "sku"], name="product_unique_merchant_sku")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}".strip()


class Supplier(MerchantOwned):
    code = models.CharField(max_length=64, help_text="the merchant's own supplier id")
    name = models.CharField(max_length=200)
    lead_time_mean_days = models.FloatField(default=14.0, validators=[MinValueValidator(0)])
    lead_time_std_days = models.FloatField(default=0.0, validators=[MinValueValidator(0)])
    order_cost = models.DecimalField(**MONEY, default=0, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="GBP")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["merchant", "code"], name="supplier_unique_merchant_code")]

    def __str__(self) -> str:
        return self.name


class SupplierProduct(MerchantOwned):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="supplier_products")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="supplier_products")
    supplier_sku = models.CharField(max_length=64, blank=True)
    lead_time_days = models.FloatField(null=True, blank=True, help_text="overrides the supplier's mean")
    lead_time_std_days = models.FloatField(null=True, blank=True, help_text="overrides the supplier's std")
    min_order_qty = models.PositiveIntegerField(default=1)
    pack_size = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    unit_cost = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(0)])
    is_primary = models.BooleanField(default=True)

    class Meta:
        ordering = ["supplier__name", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"], name="supplierproduct_unique_supplier_product")
        ]

    def __str__(self) -> str:
        return f"{self.supplier} → {self.product}"


class StockLevel(MerchantOwned):
    """On-hand units of a product at the end of a day; a day at or below zero is a stock-out."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_levels")
    date = models.DateField()
    on_hand = models.IntegerField()

    class Meta:
        ordering = ["product", "-date"]
        constraints = [models.UniqueConstraint(fields=["product", "date"], name="stocklevel_unique_product_date")]
        indexes = [models.Index(fields=["merchant", "date"], name="stocklevel_merchant_date")]

    def __str__(self) -> str:
        return f"{self.product.sku} {self.date}: {self.on_hand}"


class PurchaseOrder(MerchantOwned):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ORDERED = "ordered", "Ordered"
        PARTIAL = "partial", "Partially received"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    external_id = models.CharField(max_length=64)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ORDERED)
    ordered_at = models.DateField(null=True, blank=True)
    expected_at = models.DateField(null=True, blank=True)
    received_at = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ordered_at", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "external_id"], name="purchaseorder_unique_merchant_external_id"
            )
        ]

    def __str__(self) -> str:
        return f"PO {self.external_id}"

    @property
    def lead_time_days(self) -> int | None:
        if self.ordered_at and self.received_at:
            return (self.received_at - self.ordered_at).days
        return None


class PurchaseOrderLine(MerchantOwned):
    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="purchase_order_lines")
    quantity = models.PositiveIntegerField()
    received_quantity = models.PositiveIntegerField(default=0)
    unit_cost = models.DecimalField(**MONEY, null=True, blank=True, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["purchase_order", "product__sku"]
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "product"], name="purchaseorderline_unique_po_product")
        ]

    def __str__(self) -> str:
        return f"{self.purchase_order} {self.product.sku} × {self.quantity}"


class ReplenishmentSettings(MerchantOwned):
    """Reorder targets: one merchant default row (no category, no product), category rows and product rows.

    A blank field inherits: product row, then its category's row, then the merchant default, then the built-in
    policy defaults. The budget is a merchant-wide cash limit per plan, so it is read from the default row only.
    """

    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="replenishment_settings"
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.CASCADE, related_name="replenishment_settings"
    )
    service_level = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.5), MaxValueValidator(0.999)],
        help_text="target cycle service level: probability of no stock-out in a review cycle (0.5-0.999)",
    )
    review_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="days between two reviews"
    )
    holding_cost_rate = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(5)],
        help_text="yearly cost of holding stock, as a share of unit cost",
    )
    budget = models.DecimalField(
        **MONEY,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="cash available per plan (merchant default row only); blank: no limit",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "replenishment settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__isnull=True) | models.Q(product__isnull=True),
                name="replenishmentsettings_category_or_product",
            ),
            models.UniqueConstraint(
                fields=["merchant"],
                condition=models.Q(category__isnull=True, product__isnull=True),
                name="replenishmentsettings_one_default",
            ),
            models.UniqueConstraint(
                fields=["merchant", "category"],
                condition=models.Q(category__isnull=False),
                name="replenishmentsettings_one_per_category",
            ),
            models.UniqueConstraint(
                fields=["merchant", "product"],
                condition=models.Q(product__isnull=False),
                name="replenishmentsettings_one_per_product",
            ),
        ]

    def __str__(self) -> str:
        if self.product_id:
            return f"settings for {self.product}"
        if self.category_id:
            return f"settings for category {self.category}"
        return "merchant default settings"


class ReorderPlan(MerchantOwned):
    """What to order, planned from one sales forecast run. The numbers are snapshotted on the lines, so a plan
    stays explainable after forecasts are re-run (no foreign key to the forecasting app)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved"
        ORDERED = "ordered", "Ordered"

    forecast_run_id = models.PositiveBigIntegerField(help_text="the sales forecast run the plan was built from")
    plan_date = models.DateField(help_text="the day the plan is for: the first forecast day")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    budget = models.DecimalField(**MONEY, null=True, blank=True)
    settings = models.JSONField(default=dict, blank=True, help_text="merchant defaults the plan used")
    lines_total = models.PositiveIntegerField(default=0)
    lines_to_order = models.PositiveIntegerField(default=0)
    units_to_order = models.PositiveIntegerField(default=0)
    cash_needed = models.DecimalField(**MONEY, default=0)
    cash_within_budget = models.DecimalField(**MONEY, default=0)
    revenue_at_risk = models.DecimalField(**MONEY, default=0)
    notes = models.JSONField(default=dict, blank=True, help_text="counts of lines with assumed inputs, by reason")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "forecast_run_id"], name="reorderplan_one_per_forecast_run")
        ]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="reorderplan_latest")]

    def __str__(self) -> str:
        return f"Reorder plan {self.plan_date} ({self.get_status_display()})"


class ReorderLine(MerchantOwned):
    """One SKU's decision in a plan, with every number it was made from."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        ORDERED = "ordered", "Ordered"

    class Urgency(models.TextChoices):
        NOW = "now", "Order now"  # the position is below the reorder point
        SOON = "soon", "Order within the review period"  # order-by date before the next review
        LATER = "later", "Stock-out in sight later"
        NONE = "none", "No stock-out in sight"

    plan = models.ForeignKey(ReorderPlan, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reorder_lines")
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="reorder_lines"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    urgency = models.CharField(max_length=8, choices=Urgency.choices, db_index=True)
    on_hand = models.FloatField()
    on_order = models.FloatField()
    committed = models.FloatField()
    inventory_position = models.FloatField()
    stock_known = models.BooleanField(default=True, help_text="false: no stock level recorded, counted as 0")
    mean_daily_demand = models.FloatField()
    lead_time_days_mean = models.FloatField()
    lead_time_days_p90 = models.PositiveIntegerField()
    lead_time_source = models.CharField(max_length=40)
    review_days = models.PositiveIntegerField()
    service_level = models.FloatField()
    lead_time_demand_p50 = models.FloatField()
    lead_time_demand_p90 = models.FloatField()
    safety_stock = models.FloatField()
    reorder_point = models.FloatField()
    order_up_to = models.FloatField()
    economic_order_quantity = models.FloatField(null=True, blank=True)
    suggested_quantity = models.FloatField()
    rounded_quantity = models.PositiveIntegerField()
    final_quantity = models.PositiveIntegerField(help_text="what will be ordered; the merchant may edit it")
    rounding_reason = models.CharField(max_length=40)
    order_by = models.DateField(null=True, blank=True)
    needed_by = models.DateField(
        null=True, blank=True, help_text="the first day a planned campaign needs the ordered stock on hand"
    )
    stockout_p50 = models.DateField(null=True, blank=True)
    stockout_p90 = models.DateField(null=True, blank=True)
    days_of_cover_before = models.FloatField(null=True, blank=True)
    days_of_cover_after = models.FloatField(null=True, blank=True)
    unit_cost = models.DecimalField(**MONEY)
    price = models.DecimalField(**MONEY)
    cash_needed = models.DecimalField(**MONEY)
    revenue_at_risk = models.DecimalField(**MONEY)
    priority = models.PositiveIntegerField(help_text="1 = fund first (revenue at risk per unit of cash)")
    within_budget = models.BooleanField(default=True)
    explanation = models.TextField()
    projection = models.JSONField(
        default=dict, blank=True, help_text="daily cumulative demand P50/P90 and stock available, for the chart"
    )
    campaign_needs = models.JSONField(
        default=list,
        blank=True,
        help_text="planned campaigns' stock checks: campaign, dates, P90 demand to its end, units to order",
    )
    purchase_order = models.ForeignKey(
        PurchaseOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="reorder_lines"
    )

    class Meta:
        ordering = ["plan", "priority"]
        constraints = [models.UniqueConstraint(fields=["plan", "product"], name="reorderline_unique_plan_product")]
        indexes = [models.Index(fields=["merchant", "product", "-plan"], name="reorderline_product_latest")]

    def __str__(self) -> str:
        return f"{self.product.sku}: order {self.final_quantity}"
