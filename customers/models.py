"""Customers, their orders (sales and returns), activity events and campaigns."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ecomforecast.models import MerchantOwned
from inventory.models import MONEY, Category, Product


class Customer(MerchantOwned):
    external_id = models.CharField(max_length=64)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=64, blank=True)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "external_id"], name="customer_unique_merchant_external_id")
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.external_id


class Order(MerchantOwned):
    """A sales document or a return/cancellation document (kind=return), as the merchant's system issued it."""

    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        RETURN = "return", "Return / cancellation"

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        PAID = "paid", "Paid"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    external_id = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders")
    placed_at = models.DateTimeField()
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SALE)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLACED)
    channel = models.CharField(max_length=32, blank=True)
    country = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "external_id"], name="order_unique_merchant_external_id")
        ]
        indexes = [
            models.Index(fields=["merchant", "placed_at"], name="order_merchant_placed_at"),
            models.Index(fields=["customer", "placed_at"], name="order_customer_placed_at"),
        ]

    def __str__(self) -> str:
        return f"Order {self.external_id}"


class OrderLine(MerchantOwned):
    """Quantity is always positive; kind says whether units went out (sale) or came back (return)."""

    class Kind(models.TextChoices):
        SALE = "sale", "Sale"
        RETURN = "return", "Return"

    # Both single-column indexes would duplicate the leading columns of the indexes below; dropping them saves
    # two of six index writes per imported line.
    merchant = models.ForeignKey("ecomforecast.Merchant", on_delete=models.CASCADE, related_name="+", db_index=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_number = models.PositiveIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SALE)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY, validators=[MinValueValidator(0)])
    discount = models.DecimalField(**MONEY, default=0, validators=[MinValueValidator(0)], help_text="per line")
    # Denormalised from the order so daily demand per SKU is one indexed scan, not a join.
    placed_at = models.DateTimeField()

    class Meta:
        ordering = ["order", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="orderline_unique_order_line_number")
        ]
        indexes = [models.Index(fields=["merchant", "product", "placed_at"], name="orderline_merchant_product_at")]

    def __str__(self) -> str:
        return f"{self.order.external_id}#{self.line_number} {self.product.sku} × {self.quantity}"


class ActivityEvent(MerchantOwned):
    class Kind(models.TextChoices):
        VIEW = "view", "Product view"
        CART = "cart", "Add to cart"
        PURCHASE = "purchase", "Purchase"
        SEARCH = "search", "Search"
        SESSION = "session", "Session start"

    id = models.BigAutoField(primary_key=True)
    event_key = models.CharField(max_length=64, help_text="the sender's event id, or a hash of the event's fields")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    session_id = models.CharField(max_length=64, blank=True)
    query = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "event_key"], name="activityevent_unique_merchant_key")
        ]
        indexes = [
            models.Index(fields=["merchant", "occurred_at"], name="activity_merchant_at"),
            models.Index(fields=["customer", "occurred_at"], name="activity_customer_at"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Campaign(MerchantOwned):
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    starts_on = models.DateField()
    ends_on = models.DateField()
    discount_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    channel = models.CharField(max_length=32, blank=True, help_text="email, social, search, site, ...")
    products = models.ManyToManyField(Product, blank=True, related_name="campaigns")
    categories = models.ManyToManyField(Category, blank=True, related_name="campaigns")
    target_segment = models.CharField(max_length=64, blank=True)
    cost = models.DecimalField(**MONEY, default=0, validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "external_id"], name="campaign_unique_merchant_external_id"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="campaign_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignRecipient(MerchantOwned):
    """A customer's place in a campaign's audience: sent the campaign (treatment) or deliberately held out.

    Random assignment between the groups is what lets targeting learn who buys *because* of a campaign.
    """

    class Group(models.TextChoices):
        TREATMENT = "treatment", "Treatment (sent)"
        HOLDOUT = "holdout", "Hold-out (not sent)"

    # The (campaign, customer) unique index serves lookups by campaign.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients", db_index=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="campaign_recipients")
    group = models.CharField(max_length=16, choices=Group.choices)
    sent_on = models.DateField(help_text="the day the campaign went out (to the treatment group, for hold-outs)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "customer"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaignrecipient_unique_campaign_customer")
        ]

    def __str__(self) -> str:
        return f"{self.customer} in {self.campaign} ({self.group})"
