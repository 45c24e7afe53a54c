"""API errors: DRF's handler, plus database integrity and validation errors as 400 instead of 500."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        # Only the merchant's own rows can reference the object, so saying that it is referenced leaks nothing.
        return Response(
            {"detail": "This object is still referenced by other records (orders, purchase orders, ...)."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, (IntegrityError, DataError)):
        return Response(
            {"non_field_errors": ["The data conflicts with existing records or is out of range."]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return None
