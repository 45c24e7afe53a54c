"""Filter types shared by every app's API filters."""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """A related row's id: not a whole number is a 400; an id the merchant does not own simply matches nothing
    (it is never looked up, so the answer cannot tell another merchant's id from one that does not exist)."""

    field_class = forms.IntegerField


# Real UTC offsets run from -12:00 to +14:00; Postgres refuses displacements past 15:59 with an error.
MAX_UTC_OFFSET = dt.timedelta(hours=14)


class UtcDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time normalised to UTC; an impossible UTC offset or a date that leaves the calendar once
    converted is a validation error (400), never a database error."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        offset = parsed.utcoffset()
        if offset is not None and abs(offset) > MAX_UTC_OFFSET:
            raise forms.ValidationError("Enter a UTC offset between -14:00 and +14:00.", code="invalid")
        try:
            return parsed.astimezone(dt.UTC)
        except (OverflowError, ValueError) as error:
            raise forms.ValidationError("Enter a date-time within years 1 to 9999.", code="invalid") from error


@extend_schema_field(OpenApiTypes.DATETIME)
class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField
