"""Writes on tenancy: merchants, memberships and API keys."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from ecomforecast.models import ApiKey, Membership, Merchant, hash_api_key


@transaction.atomic
def merchant_create(*, slug: str, name: str, currency: str = "GBP", timezone: str = "Europe/London") -> Merchant:
    merchant = Merchant(slug=slug, name=name, currency=currency, timezone=timezone)
    merchant.full_clean()
    merchant.save()
    return merchant


@transaction.atomic
def merchant_pretraining_consent_set(*, merchant: Merchant, consent: bool) -> Merchant:
    """Record an owner's consent (kept from its first day while it stands) or its withdrawal. Withdrawal keeps the
    merchant out of every later pretraining corpus; a base model already trained keeps what it learnt."""
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if consent and merchant.pretraining_consent_at is None:
        merchant.pretraining_consent_at = timezone.now()
    elif not consent:
        merchant.pretraining_consent_at = None
    merchant.save(update_fields=["pretraining_consent_at"])
    return merchant


@transaction.atomic
def membership_grant(*, user, merchant: Merchant, role: str = Membership.Role.OWNER) -> Membership:
    membership, _ = Membership.objects.update_or_create(user=user, merchant=merchant, defaults={"role": role})
    return membership


@transaction.atomic
def api_key_create(
    *, merchant: Merchant, name: str, role: str = Membership.Role.ANALYST, created_by=None
) -> tuple[ApiKey, str]:
    """Returns the key row and the raw key, which is never stored and must be shown to the user once."""
    while True:
        raw_key = ApiKey.generate_raw_key()
        prefix = raw_key[: ApiKey.PREFIX_LENGTH]
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    api_key = ApiKey.objects.create(
        merchant=merchant, name=name, prefix=prefix, key_hash=hash_api_key(raw_key), role=role, created_by=created_by
    )
    return api_key, raw_key


@transaction.atomic
def api_keys_revoke(*, api_keys: QuerySet[ApiKey]) -> int:
    """Revokes the keys not revoked yet; returns how many were. A revoked key authenticates nothing."""
    return api_keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
