"""Reads of tenancy and import history; every query is scoped to one merchant."""

from __future__ import annotations

from django.db.models import QuerySet

from ecomforecast.models import ApiKey, ImportJob, Membership, Merchant


def merchant_list(*, merchant: Merchant) -> QuerySet[Merchant]:
    """The acting merchant as a queryset: an API client sees its own merchant and no other."""
    return Merchant.objects.filter(pk=merchant.pk)


def membership_list(*, merchant: Merchant) -> QuerySet[Membership]:
    return Membership.objects.filter(merchant=merchant).select_related("user")


def api_key_list(*, merchant: Merchant) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(merchant=merchant).select_related("created_by")


def import_job_list(*, merchant: Merchant) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(merchant=merchant).select_related("created_by")
