"""An import job runs on a real Celery worker against the real Redis and Postgres."""

from __future__ import annotations

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile

import ecomforecast.tasks  # noqa: F401  (registers the task with the app before the worker starts)
from customers.models import Customer, Order, OrderLine
from ecomforecast.celery import app
from ecomforecast.import_jobs import import_job_create
from ecomforecast.models import ImportJob
from tests.importing.conftest import FIXTURES

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def private_queue():
    """A queue of this test's own, so no other worker on the broker takes the job (and no purge drops it)."""
    name = f"import-test-{uuid.uuid4().hex[:8]}"
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = name
    yield name
    app.conf.task_default_queue = previous


def _wait_until_finished(job: ImportJob, *, timeout: float) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in {ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED}:
            return job
        time.sleep(0.2)
    raise AssertionError(f"import job {job.pk} still {job.status} after {timeout}s")


def test_it_imports_an_uploaded_file_on_a_worker(merchant, settings, tmp_path, private_queue):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("retail.csv", (FIXTURES / "online_retail.csv").read_bytes())

    with start_worker(app, queues=[private_queue], concurrency=1, perform_ping_check=False):
        job = import_job_create(merchant=merchant, kind="orders", fmt=None, upload=upload)
        job = _wait_until_finished(job, timeout=60)

    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert (job.format, job.rows_created, job.rows_skipped, job.progress) == ("online-retail", 9, 7, 1.0)
    assert Order.objects.filter(merchant=merchant).count() == 6
    assert OrderLine.objects.filter(merchant=merchant, kind=OrderLine.Kind.RETURN).count() == 2
    assert Customer.objects.filter(merchant=merchant).count() == 3
