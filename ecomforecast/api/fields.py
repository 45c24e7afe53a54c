"""Related fields that resolve references among the acting merchant's rows only.

A reference to another merchant's row fails exactly like a reference to a row that does not exist, so a
client cannot probe for other merchants' ids, SKUs or codes through write payloads.
"""

from __future__ import annotations

from rest_framework import serializers


class MerchantScopedRelatedMixin:
    def get_queryset(self):
        queryset = super().get_queryset()
        merchant = self.context.get("merchant")
        if merchant is None:
            return queryset.none()
        return queryset.filter(merchant=merchant)


class MerchantPrimaryKeyRelatedField(MerchantScopedRelatedMixin, serializers.PrimaryKeyRelatedField):
    pass


class MerchantSlugRelatedField(MerchantScopedRelatedMixin, serializers.SlugRelatedField):
    pass
