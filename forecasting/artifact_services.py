"""Writes of trained global models (the neural tier): train and register a version, load it back, retire it.

A version is a checkpoint file under settings.MODEL_ARTIFACT_ROOT at ``<merchant slug>/<name>/v<version>.pt`` plus
its ModelArtifact row. The row is created first, in status "training" (``model_artifact_queue``), and each
delivery of the training counts an attempt on it before any work, so a training that kills its worker is refused
after MAX_TRAINING_ATTEMPTS instead of being redelivered forever. The file is written under a temporary name in
the same folder and renamed into place in the transaction that marks the row active, so a crash can leave a stray
temporary file but never an active row that points at a half-written checkpoint. Version numbers are allocated
when the training is queued, under a lock on the merchant row, so two trainings queued together get consecutive
versions instead of one failing on the unique constraint (a failed training keeps its number). Each
registration keeps the newest ``KEEP_ACTIVE_VERSIONS`` active versions of that model, and any that an unfinished
forecast run has pinned, and retires the rest; a
retired version keeps its row (what was trained, when, how well) and its file is deleted once the retirement is
committed, so a rolled-back transaction never loses weights that rows still point at.

Torch is imported only when a model is built or loaded (forecasting.engine.neural is lazy), so the web process
and the admin can import this module cheaply.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import tempfile
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Max
from django.utils import timezone

from ecomforecast.models import Merchant
from forecasting import io
from forecasting.engine.digest import file_digest
from forecasting.engine.neural import NEURAL_MODEL_NAMES, make_neural_model, neural_model_class
from forecasting.models import ForecastRun, ModelArtifact

if TYPE_CHECKING:
    from forecasting.engine.neural.base import NeuralModel
    from forecasting.engine.neural.training import TrainingLog

logger = logging.getLogger(__name__)

KEEP_ACTIVE_VERSIONS = 3
# the same cap as a forecast run's neural training (services.MAX_NEURAL_TRAINING_ATTEMPTS)
MAX_TRAINING_ATTEMPTS = 2
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)


class ModelArtifactError(RuntimeError):
    """An artifact cannot be trained or loaded; the message says which one and why."""


def model_artifact_path(artifact: ModelArtifact) -> Path:
    return Path(settings.MODEL_ARTIFACT_ROOT) / artifact.storage_path


def model_artifact_train(
    *,
    merchant: Merchant,
    name: str,
    data_cutoff: dt.date,
    train_data_end: dt.date | None = None,
    params: dict[str, Any] | None = None,
    progress: Callable[[TrainingLog], None] | None = None,
) -> ModelArtifact:
    """Train ``name`` on the merchant's daily demand up to ``train_data_end`` (default the cutoff) and register it,
    in this process: ``model_artifact_queue`` then ``model_artifact_training_execute``. A training of the same data
    and parameters that a lost worker left in status "training" goes on on its row (its attempts count on, capped
    as ever) instead of leaving that row behind and starting a version of its own."""
    unfinished = (
        ModelArtifact.objects.filter(
            merchant=merchant,
            name=name,
            status=ModelArtifact.Status.TRAINING,
            data_cutoff=data_cutoff,
            train_data_end=train_data_end or data_cutoff,
            config=_json_safe(params or {}),
        )
        .order_by("-version")
        .first()
    )
    artifact = unfinished or model_artifact_queue(
        merchant=merchant, name=name, data_cutoff=data_cutoff, train_data_end=train_data_end, params=params
    )
    return model_artifact_training_execute(artifact_id=artifact.pk, progress=progress)


@transaction.atomic
def model_artifact_queue(
    *,
    merchant: Merchant,
    name: str,
    data_cutoff: dt.date,
    train_data_end: dt.date | None = None,
    params: dict[str, Any] | None = None,
) -> ModelArtifact:
    """The row of a training still to run (status "training", next version, the requested ``params`` as its
    config): it exists before the work starts, so that every delivery of the work can count an attempt on it."""
    train_data_end = train_data_end or data_cutoff
    if train_data_end > data_cutoff:
        raise ValueError(f"train_data_end {train_data_end} is after the data cutoff {data_cutoff}")
    if name not in NEURAL_MODEL_NAMES:
        raise ModelArtifactError(f"unknown neural model {name!r}; known: {', '.join(NEURAL_MODEL_NAMES)}")
    if not io.products_with_sales(merchant=merchant, cutoff=train_data_end):
        raise ModelArtifactError(f"{merchant.slug} has no sales up to {train_data_end}: nothing to train {name} on")
    Merchant.objects.select_for_update().only("pk").get(pk=merchant.pk)
    latest = ModelArtifact.objects.filter(merchant=merchant, name=name).aggregate(latest=Max("version"))
    version = (latest["latest"] or 0) + 1
    return ModelArtifact.objects.create(
        merchant=merchant,
        name=name,
        version=version,
        status=ModelArtifact.Status.TRAINING,
        storage_path=f"{merchant.slug}/{name}/v{version}.pt",
        config=_json_safe(params or {}),
        data_cutoff=data_cutoff,
        train_data_end=train_data_end,
    )


def model_artifact_training_execute(
    *, artifact_id: int, progress: Callable[[TrainingLog], None] | None = None
) -> ModelArtifact:
    """Train a queued version and register it (status "active"); ``progress`` receives the log after every epoch.

    The attempt is counted and committed before training; a delivery beyond MAX_TRAINING_ATTEMPTS marks the row
    failed and raises instead of training again. A version already registered is returned as it is. The row's
    config holds the requested hyper-parameters; device, threads and the time budget (``max_seconds``) default
    to settings NEURAL_DEVICE, NEURAL_THREADS and NEURAL_MAX_TRAIN_SECONDS.
    """
    with transaction.atomic():
        artifact = ModelArtifact.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=artifact_id)
        label = f"model artifact {artifact.name} v{artifact.version} (id {artifact.pk})"
        if artifact.status in (ModelArtifact.Status.ACTIVE, ModelArtifact.Status.RETIRED):
            return artifact
        if artifact.status == ModelArtifact.Status.FAILED:
            raise ModelArtifactError(f"{label} failed: {artifact.error}")
        artifact.attempts += 1
        if artifact.attempts > MAX_TRAINING_ATTEMPTS:
            artifact.status = ModelArtifact.Status.FAILED
            artifact.error = (
                f"training did not finish in {MAX_TRAINING_ATTEMPTS} attempts (the worker was lost each time); "
                "not trained again"
            )
        artifact.save(update_fields=["attempts", "status", "error"])
    if artifact.status == ModelArtifact.Status.FAILED:
        raise ModelArtifactError(f"{label} failed: {artifact.error}")
    try:
        return _train_and_register(artifact, progress=progress)
    except TRANSIENT_DATABASE_ERRORS:
        # left in training: the task retries it, and the retry counts as the next attempt
        raise
    except Exception as exc:
        error = f"training failed: {type(exc).__name__}: {exc}"[:500]
        ModelArtifact.objects.filter(pk=artifact.pk, status=ModelArtifact.Status.TRAINING).update(
            status=ModelArtifact.Status.FAILED, error=error
        )
        raise


def _train_and_register(artifact: ModelArtifact, *, progress: Callable[[TrainingLog], None] | None) -> ModelArtifact:
    merchant, name = artifact.merchant, artifact.name
    model_params = {
        "device": settings.NEURAL_DEVICE,
        "threads": settings.NEURAL_THREADS or None,
        "max_seconds": settings.NEURAL_MAX_TRAIN_SECONDS,
        **artifact.config,
    }
    if name == "gpt" and settings.NEURAL_GPT_BASE:
        # fine-tune the pretrained base (its architecture, a tenth of its learning rate) on the merchant's
        # demand; imported here so that torch loads only where a model trains
        from forecasting.engine.neural.gpt import from_pretrained

        model = from_pretrained(settings.NEURAL_GPT_BASE, **model_params)
    else:
        model = make_neural_model(name, **model_params)

    product_ids = io.products_with_sales(merchant=merchant, cutoff=artifact.train_data_end)
    history = io.demand_series(merchant=merchant, product_ids=product_ids, cutoff=artifact.train_data_end)
    if not history:
        raise ModelArtifactError(
            f"{merchant.slug} has no sales up to {artifact.train_data_end}: nothing to train {name} on"
        )
    model.fit([series.values for series in history], end=np.datetime64(artifact.train_data_end, "D"), progress=progress)
    log = model.training_
    logger.info(
        "trained %s for %s on %d series: %d epochs in %.1f s on %s (%s)",
        name,
        merchant.slug,
        len(history),
        log.epochs,
        log.seconds,
        log.device,
        log.stopped,
    )

    placed = model_artifact_path(artifact)
    placed.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".training-", suffix=".pt", dir=placed.parent)
    os.close(handle)
    moved = False
    try:
        model.save(temporary)
        sha256, size_bytes = file_digest(temporary, sync=True)
        with transaction.atomic():
            current = ModelArtifact.objects.select_for_update().get(pk=artifact.pk)
            if current.status != ModelArtifact.Status.TRAINING:
                # another delivery registered it, or staff retired it meanwhile: its row stays as it is
                Path(temporary).unlink(missing_ok=True)
                return current
            os.replace(temporary, placed)
            moved = True
            artifact.status = ModelArtifact.Status.ACTIVE
            artifact.error = ""
            artifact.sha256 = sha256
            artifact.size_bytes = size_bytes
            artifact.config = _json_safe(model.get_params())
            artifact.metrics = _json_safe({"validation_loss": log.best_validation_loss, "training": log.as_dict()})
            artifact.series_count = len(history)
            artifact.n_parameters = model.n_parameters_
            artifact.device = log.device
            artifact.training_seconds = log.seconds
            # the age of a version counts from its registration, not from when it was queued
            artifact.trained_at = timezone.now()
            artifact.save()
            _retire_surplus_versions(merchant=merchant, name=name)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        if moved:
            placed.unlink(missing_ok=True)
        raise
    return artifact


def model_artifact_load(
    *, artifact: ModelArtifact, device: str | None = None, threads: int | None = None
) -> NeuralModel:
    """The fitted model of an active artifact, after checking its file against the recorded sha256.

    Device and threads are this process's (settings NEURAL_DEVICE / NEURAL_THREADS unless given), not those of
    the machine that trained it.
    """
    label = f"model artifact {artifact.name} v{artifact.version} (id {artifact.pk})"
    if artifact.status == ModelArtifact.Status.RETIRED:
        raise ModelArtifactError(f"{label} is retired and its checkpoint was deleted; use an active version")
    if artifact.status != ModelArtifact.Status.ACTIVE:
        raise ModelArtifactError(f"{label} is {artifact.status}, not trained: use an active version")
    path = model_artifact_path(artifact)
    if not path.is_file():
        raise ModelArtifactError(f"{label}: checkpoint file {path} is missing; retrain the model")
    sha256, size_bytes = file_digest(path, sync=True)
    if sha256 != artifact.sha256:
        raise ModelArtifactError(
            f"{label}: checkpoint file {path} does not match its recorded sha256 (expected {artifact.sha256}, "
            f"found {sha256}, {size_bytes} bytes against {artifact.size_bytes}); it was changed or corrupted "
            "after training, so it is not loaded: retrain the model"
        )
    return neural_model_class(artifact.name).load(
        path,
        device=device or settings.NEURAL_DEVICE,
        threads=threads if threads is not None else settings.NEURAL_THREADS or None,
    )


@transaction.atomic
def model_artifact_retire(*, artifact_id: int) -> ModelArtifact:
    """Mark a version retired (nightly runs stop using it) and delete its file once that is committed."""
    artifact = ModelArtifact.objects.select_for_update().get(pk=artifact_id)
    if artifact.status != ModelArtifact.Status.RETIRED:
        artifact.status = ModelArtifact.Status.RETIRED
        artifact.save(update_fields=["status"])
        transaction.on_commit(partial(_delete_files, [model_artifact_path(artifact)]))
    return artifact


def _retire_surplus_versions(*, merchant: Merchant, name: str) -> None:
    """Retire the active versions of ``name`` beyond the newest KEEP_ACTIVE_VERSIONS (files go after commit), but
    never one that a pending or running forecast run has pinned (as a candidate or as its final weights): its
    chunks still load it."""
    pinned = _pinned_by_unfinished_runs(merchant)
    surplus = [
        artifact
        for artifact in ModelArtifact.objects.select_for_update()
        .filter(merchant=merchant, name=name, status=ModelArtifact.Status.ACTIVE)
        .order_by("-version")[KEEP_ACTIVE_VERSIONS:]
        if artifact.pk not in pinned
    ]
    if not surplus:
        return
    ModelArtifact.objects.filter(pk__in=[artifact.pk for artifact in surplus]).update(
        status=ModelArtifact.Status.RETIRED
    )
    transaction.on_commit(partial(_delete_files, [model_artifact_path(artifact) for artifact in surplus]))


def _pinned_by_unfinished_runs(merchant: Merchant) -> set[int]:
    unfinished = ForecastRun.objects.filter(
        merchant=merchant, status__in=[ForecastRun.Status.PENDING, ForecastRun.Status.RUNNING]
    ).only("neural")
    return set().union(*(run.pinned_artifact_ids() for run in unfinished))


def _delete_files(paths: Iterable[Path]) -> None:
    """Runs after commit: a file that cannot be removed is logged, never raised into the committed caller."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.warning("could not delete retired checkpoint %s", path, exc_info=True)


def _json_safe(value):
    """JSON columns refuse NaN and infinities (an epoch without batches logs NaN): they are stored as null."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value
