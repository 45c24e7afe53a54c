"""Base classes that make every API view merchant-scoped by construction."""

from __future__ import annotations

from rest_framework import viewsets

from ecomforecast.api.permissions import request_merchant_and_role


class MerchantScopedMixin:
    """get_queryset() comes from a selector that takes the merchant; objects of other merchants are 404."""

    def get_merchant(self):
        merchant, _role = request_merchant_and_role(self.request)
        return merchant

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset_model.objects.none()
        return self.selector(merchant=self.get_merchant())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and self.request is not None:
            context["merchant"] = self.get_merchant()
        return context


class MerchantReadOnlyViewSet(MerchantScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class MerchantModelViewSet(MerchantScopedMixin, viewsets.ModelViewSet):
    def perform_create(self, serializer):
        serializer.save(merchant=self.get_merchant())
