"""Tenancy (merchants, memberships, API keys) and the import history shared by every app."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone")


class Merchant(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="GBP", help_text="ISO 4217 code")
    timezone = models.CharField(max_length=64, default="Europe/London", validators=[validate_timezone])
    created_at = models.DateTimeField(auto_now_add=True)
    pretraining_consent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When an owner agreed that this merchant's daily demand, without product names, prices or "
        "customers, may join the corpus the shared GPT base model is pretrained on; empty: it never does.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MerchantOwned(models.Model):
    """Every row of merchant data carries its merchant."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ANALYST = "analyst", "Analyst"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user_merchant")]
        ordering = ["merchant__name"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"

    @property
    def can_write(self) -> bool:
        return self.role in {self.Role.OWNER, self.Role.ANALYST}


def hash_api_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    """A per-merchant key; only its hash is stored, the raw key is shown once at creation."""

    PREFIX_LENGTH = 8

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    role = models.CharField(max_length=16, choices=Membership.Role.choices, default=Membership.Role.ANALYST)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_raw_key() -> str:
        return secrets.token_urlsafe(32)


class ImportJob(MerchantOwned):
    """One file import: its status, progress and the report (counts, skipped by reason, row errors)."""

    class Kind(models.TextChoices):
        ORDERS = "orders", "Orders"
        PRODUCTS = "products", "Products"
        STOCK = "stock", "Stock levels"
        SUPPLIERS = "suppliers", "Suppliers"
        PURCHASE_ORDERS = "purchase-orders", "Purchase orders"
        ACTIVITY = "activity", "Activity events"
        CAMPAIGNS = "campaigns", "Campaigns"
        CAMPAIGN_RECIPIENTS = "campaign-recipients", "Campaign recipients"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    format = models.CharField(max_length=32, blank=True)
    filename = models.CharField(max_length=255)
    upload = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    progress = models.FloatField(default=0.0, help_text="0..1")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveBigIntegerField(default=0)
    rows_created = models.PositiveBigIntegerField(default=0)
    rows_updated = models.PositiveBigIntegerField(default=0)
    rows_unchanged = models.PositiveBigIntegerField(default=0)
    rows_skipped = models.PositiveBigIntegerField(default=0)
    skipped_by_reason = models.JSONField(default=dict, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{row, column, message}], first 1000")
    report = models.JSONField(default=dict, blank=True, help_text="format-specific extra figures")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="importjob_merchant_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.filename} ({self.status})"
