from __future__ import annotations

import django_filters

from forecasting.models import ForecastRun, ForecastValue


class ForecastRunFilter(django_filters.FilterSet):
    class Meta:
        model = ForecastRun
        fields = ["status", "kind"]


class ForecastValueFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="result__product__sku")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = ForecastValue
        fields = ["sku", "date_from", "date_to"]
