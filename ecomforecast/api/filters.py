"""Filter types shared by every app's API filters."""

from __future__ import annotations

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A related row's id: not a whole number is a 400; an id the merchant does not own simply matches nothing
    (it is never looked up, so the answer cannot tell another merchant's id from one that does not exist)."""

    field_class = forms.IntegerField
