"""Import jobs: an uploaded file stored on an ImportJob row and imported on a worker.

The row, not the broker message, is the truth: it holds status, progress (0..1), the counts, the skipped rows
by reason and the first 1000 row errors. ``import_job_create`` is what the web upload and the API call.
"""

from __future__ import annotations

import pathlib
import uuid

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from ecomforecast.importing import KINDS, ImportFailed, ImportReport, run_import
from ecomforecast.models import ImportJob, Merchant

ACCEPTED_SUFFIXES = (".csv.gz", ".csv", ".parquet")


def _suffix(filename: str) -> str:
    lowered = filename.lower()
    for suffix in ACCEPTED_SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    raise ValidationError({"upload": f"unsupported file type: use one of {', '.join(ACCEPTED_SUFFIXES)}"})


@transaction.atomic
def import_job_create(*, merchant: Merchant, kind: str, fmt: str | None, upload: UploadedFile, user=None) -> ImportJob:
    """Stores the upload on a new pending job and queues its import once the job is committed."""
    if kind not in KINDS:
        raise ValidationError({"kind": f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}"})
    if fmt and fmt not in KINDS[kind]:
        raise ValidationError({"format": f"{fmt!r} does not import {kind}; choose one of {', '.join(KINDS[kind])}"})
    filename = pathlib.PurePath(upload.name or "upload").name
    suffix = _suffix(filename)
    job = ImportJob(merchant=merchant, kind=kind, format=fmt or "", filename=filename[:255], created_by=user)
    # A generated name keeps the (double) suffix intact, which the reader relies on.
    job.upload.save(f"{uuid.uuid4().hex}{suffix}", upload, save=False)
    job.save()
    from ecomforecast.tasks import import_job_execute as import_job_execute_task

    transaction.on_commit(lambda: import_job_execute_task.delay(job.pk))
    return job


def import_job_execute(*, job_id: int) -> ImportJob:
    """Runs the job's import (once: a finished job is returned as it is) and records the outcome on the row."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().select_related("merchant").get(pk=job_id)
        if job.status in {ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED}:
            return job
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.progress = 0.0
        job.save(update_fields=["status", "started_at", "progress"])

    reporter = _ProgressReporter(job.pk)
    try:
        report = run_import(
            merchant=job.merchant,
            kind=job.kind,
            fmt=job.format or None,
            paths=[pathlib.Path(job.upload.path)],
            progress=reporter,
        )
    except ImportFailed as failure:
        _finish(job, failure.report, ImportJob.Status.FAILED)
    except OperationalError:
        # Transient (the database went away): the task retries, and a running job is picked up again.
        raise
    except Exception as error:
        report = ImportReport(kind=job.kind, format=job.format)
        report.add_error(row=0, column=None, message=f"the import stopped unexpectedly: {error}")
        _finish(job, report, ImportJob.Status.FAILED)
        raise
    else:
        _finish(job, report, ImportJob.Status.SUCCEEDED)
    finally:
        reporter.close()
    return job


def _finish(job: ImportJob, report: ImportReport, status: str) -> None:
    job.status = status
    job.format = report.format or job.format
    job.finished_at = timezone.now()
    job.progress = 1.0 if status == ImportJob.Status.SUCCEEDED else job.progress
    job.rows_read = report.rows_read
    job.rows_created = report.rows_created
    job.rows_updated = report.rows_updated
    job.rows_unchanged = report.rows_unchanged
    job.rows_skipped = report.rows_skipped
    job.skipped_by_reason = report.skipped_by_reason
    job.error_count = report.error_count
    job.errors = [{"row": error.row, "column": error.column, "message": error.message} for error in report.errors]
    job.report = report.extra
    job.save()


class _ProgressReporter:
    """Writes progress on its own connection: the import's transaction is invisible until it commits.

    SQLite (the in-process demo) allows one writer at a time, so there progress is only written at the end.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.connection = connections.create_connection("default") if connection.vendor == "postgresql" else None
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        if self.connection is None or not total:
            return
        fraction = min(done / total, 1.0)
        if fraction - self.last < 0.01:
            return
        self.last = fraction
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {ImportJob._meta.db_table} SET progress = %s WHERE id = %s", [fraction, self.job_id]
            )

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
