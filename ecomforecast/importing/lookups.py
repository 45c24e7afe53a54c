"""Merchant-scoped id lookups by natural key, batched to stay under SQLite's parameter limit."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

LOOKUP_BATCH = 900


def ids_by(*, model: type[models.Model], merchant, column: str, values: Iterable[str]) -> dict[str, int]:
    """{value: id} for the merchant's rows of ``model`` whose ``column`` is one of ``values``."""
    wanted = sorted({value for value in values if value})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start : start + LOOKUP_BATCH]
        rows = model.objects.filter(merchant=merchant, **{f"{column}__in": batch}).values_list(column, "id")
        found.update(rows)
    return found
