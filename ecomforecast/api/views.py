"""Core endpoints: the acting merchant, its API keys (never the keys themselves) and its import history."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from ecomforecast.api import serializers
from ecomforecast.api.viewsets import MerchantReadOnlyViewSet
from ecomforecast.models import ApiKey, ImportJob, Merchant
from ecomforecast.selectors import api_key_list, import_job_list, merchant_list


class MerchantViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(merchant_list)
    queryset_model = Merchant
    serializer_class = serializers.MerchantSerializer

    @extend_schema(summary="The merchant this API key or session acts for")
    @action(detail=False, pagination_class=None, filter_backends=[])
    def me(self, request):
        return Response(self.get_serializer(self.get_merchant()).data)


class ApiKeyViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(api_key_list)
    queryset_model = ApiKey
    serializer_class = serializers.ApiKeySerializer
    ordering_fields = ["created_at", "last_used_at", "name", "id"]


class ImportJobViewSet(MerchantReadOnlyViewSet):
    selector = staticmethod(import_job_list)
    queryset_model = ImportJob
    serializer_class = serializers.ImportJobSerializer
    filterset_fields = ["kind", "status"]
    ordering_fields = ["created_at", "finished_at", "id"]
