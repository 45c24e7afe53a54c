from __future__ import annotations

import pytest
from django.urls import reverse

from ecomforecast.models import ImportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_job(merchant):
    return ImportJob.objects.create(
        merchant=merchant,
        kind="orders",
        format="orders-csv",
        filename="bad.csv",
        status="failed",
        rows_read=3,
        error_count=1,
        errors=[{"row": 2, "column": "placed_at", "message": "not a date: 31/02/2024"}],
        skipped_by_reason={"postage": 4},
    )


def test_it_shows_an_import_read_only_with_its_report(admin_client_, failed_job):
    response = admin_client_.get(reverse("admin:ecomforecast_importjob_change", args=[failed_job.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "not a date: 31/02/2024" in html
    assert "<td>postage</td><td>4</td>" in html
    assert 'name="_save"' not in html


def test_it_cannot_add_or_change_imports(admin_client_, failed_job):
    add = admin_client_.get(reverse("admin:ecomforecast_importjob_add"))
    change = admin_client_.post(
        reverse("admin:ecomforecast_importjob_change", args=[failed_job.pk]), {"status": "succeeded"}
    )

    failed_job.refresh_from_db()
    assert add.status_code == 403
    assert change.status_code == 403
    assert failed_job.status == "failed"
