"""Catalogue, suppliers, stock levels and purchase orders of a merchant."""

from __future__ import annotations

from django.core.validators import MinValueValidator
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
