"""Reads of trained model artifacts; every query takes the merchant."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from ecomforecast.models import Merchant
from forecasting.models import ModelArtifact


def model_artifact_list(*, merchant: Merchant) -> QuerySet[ModelArtifact]:
    """Every version of every model of the merchant, retired ones included, newest version first per name."""
    return ModelArtifact.objects.filter(merchant=merchant).order_by("name", "-version")


def model_artifact_usable(
    *,
    merchant: Merchant,
    name: str,
    train_data_end_max: dt.date,
    max_age_days: int,
    train_data_end_min: dt.date | None = None,
    now: dt.datetime | None = None,
) -> ModelArtifact | None:
    """The newest active version of ``name`` trained within ``max_age_days`` whose weights saw no day after
    ``train_data_end_max`` (a run passes its first backtest cutoff, so its backtests stay out of sample) and, with
    ``train_data_end_min``, every day up to that one (weights fresh enough to forecast from a run's cutoff)."""
    trained_after = (now or timezone.now()) - dt.timedelta(days=max_age_days)
    artifacts = model_artifact_list(merchant=merchant).filter(
        name=name,
        status=ModelArtifact.Status.ACTIVE,
        train_data_end__lte=train_data_end_max,
        trained_at__gte=trained_after,
    )
    if train_data_end_min is not None:
        artifacts = artifacts.filter(train_data_end__gte=train_data_end_min)
    return artifacts.first()
