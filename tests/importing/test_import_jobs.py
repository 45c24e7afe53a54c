from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import OrderLine
from ecomforecast.import_jobs import import_job_create, import_job_execute
from ecomforecast.models import ImportJob
from tests.importing.conftest import FIXTURES

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_it_stores_the_upload_and_queues_the_import_after_commit(
    merchant, owner, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr("ecomforecast.tasks.import_job_execute.delay", queued.append)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = import_job_create(
            merchant=merchant,
            kind="orders",
            fmt=None,
            upload=_upload("retail.csv.gz", b"not read yet"),
            user=owner,
        )
    assert queued == []
    for callback in callbacks:
        callback()

    assert queued == [job.pk]
    assert (job.status, job.filename, job.created_by) == (ImportJob.Status.PENDING, "retail.csv.gz", owner)
    assert job.upload.name.endswith(".csv.gz")


def test_it_runs_the_import_and_records_the_report(merchant):
    job = import_job_create(
        merchant=merchant,
        kind="orders",
        fmt="online-retail",
        upload=_upload("retail.csv", (FIXTURES / "online_retail.csv").read_bytes()),
    )

    job = import_job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.progress, job.format) == (ImportJob.Status.SUCCEEDED, 1.0, "online-retail")
    assert (job.rows_read, job.rows_created, job.rows_skipped) == (16, 9, 7)
    assert job.skipped_by_reason["postage"] == 1
    assert job.report["orders_created"] == 6
    assert job.started_at <= job.finished_at
    assert OrderLine.objects.filter(merchant=merchant).count() == 9


def test_it_records_row_errors_on_a_failed_job(merchant):
    job = import_job_create(
        merchant=merchant,
        kind="orders",
        fmt="orders-csv",
        upload=_upload("orders.csv", b"order_id,placed_at,customer_id,sku,quantity,unit_price\n1,soon,C1,X,1,1\n"),
    )

    import_job_execute(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.error_count == 2
    assert job.errors == [
        {"row": 1, "column": "placed_at", "message": "placed_at is not a date and time: 'soon'"},
        {"row": 1, "column": "sku", "message": "unknown SKU 'X'"},
    ]
    assert OrderLine.objects.count() == 0


def test_it_does_not_run_a_finished_job_twice(merchant):
    job = import_job_create(
        merchant=merchant,
        kind="suppliers",
        fmt=None,
        upload=_upload("suppliers.csv", (FIXTURES / "suppliers.csv").read_bytes()),
    )
    import_job_execute(job_id=job.pk)

    again = import_job_execute(job_id=job.pk)

    assert (again.status, again.rows_created) == (ImportJob.Status.SUCCEEDED, 2)


def test_it_rejects_unknown_kinds_formats_and_file_types(merchant):
    with pytest.raises(ValidationError):
        import_job_create(merchant=merchant, kind="sales", fmt=None, upload=_upload("a.csv", b""))
    with pytest.raises(ValidationError):
        import_job_create(merchant=merchant, kind="stock", fmt="shopify", upload=_upload("a.csv", b""))
    with pytest.raises(ValidationError):
        import_job_create(merchant=merchant, kind="stock", fmt=None, upload=_upload("a.xlsx", b""))
    assert ImportJob.objects.count() == 0
