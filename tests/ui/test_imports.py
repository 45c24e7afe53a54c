from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Order, OrderLine
from ecomforecast.import_jobs import import_job_execute
from ecomforecast.models import ImportJob, Membership
from tests.factories import MembershipFactory, ProductFactory
from tests.ui.helpers import metrics_in, queries_to_get

pytestmark = pytest.mark.django_db

ORDERS_CSV = (
    b"order_id,placed_at,customer_id,sku,quantity,unit_price\n"
    b"A-1,2024-03-01T10:00:00,C-1,MUG-1,2,4.50\n"
    b"A-1,2024-03-01T10:00:00,C-1,TEA-9,1,3.00\n"
    b"A-2,2024-03-02T11:30:00,C-2,MUG-1,5,4.50\n"
)


def test_it_creates_an_import_job_from_an_upload_and_dispatches_it_after_commit(
    owner_client, merchant, owner, django_capture_on_commit_callbacks
):
    ProductFactory(merchant=merchant, sku="MUG-1")
    ProductFactory(merchant=merchant, sku="TEA-9")
    upload = SimpleUploadedFile("march.csv", ORDERS_CSV, content_type="text/csv")

    with django_capture_on_commit_callbacks() as dispatches:
        response = owner_client.post(reverse("imports"), {"kind": "orders", "format": "orders-csv", "file": upload})

    job = ImportJob.objects.get(merchant=merchant)
    assert response.status_code == 302
    assert response["Location"] == reverse("import-detail", args=[job.pk])
    assert (job.kind, job.format, job.filename, job.created_by) == ("orders", "orders-csv", "march.csv", owner)
    assert job.status == ImportJob.Status.PENDING
    assert len(dispatches) == 1
    assert "refresh" in owner_client.get(response["Location"]).content.decode()
    # What the worker does with the dispatched job, run here in process.
    import_job_execute(job_id=job.pk)
    html = owner_client.get(response["Location"]).content.decode()
    assert Order.objects.filter(merchant=merchant).count() == 2
    assert OrderLine.objects.filter(merchant=merchant).count() == 3
    assert metrics_in(html)["Rows read"] == "3"
    assert metrics_in(html)["Created"] != "0"
    assert "Succeeded" in html


def test_it_rejects_a_format_of_another_kind(owner_client):
    upload = SimpleUploadedFile("products.csv", b"sku,name\n", content_type="text/csv")

    response = owner_client.post(reverse("imports"), {"kind": "products", "format": "shopify", "file": upload})

    assert response.status_code == 400
    assert "shopify is not a format for products imports." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_rejects_a_file_type_it_cannot_read(owner_client):
    upload = SimpleUploadedFile("orders.xlsx", b"PK\x03\x04", content_type="application/octet-stream")

    response = owner_client.post(reverse("imports"), {"kind": "orders", "file": upload})

    assert response.status_code == 400
    assert "Upload a .csv, .csv.gz or .parquet file." in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_lets_a_viewer_see_imports_but_not_upload(client, merchant):
    client.force_login(MembershipFactory(merchant=merchant, role=Membership.Role.VIEWER).user)
    ImportJob.objects.create(merchant=merchant, kind="orders", filename="seen.csv")
    upload = SimpleUploadedFile("orders.csv", ORDERS_CSV, content_type="text/csv")

    page = client.get(reverse("imports")).content.decode()
    post = client.post(reverse("imports"), {"kind": "orders", "file": upload})

    assert "seen.csv" in page
    assert 'id="import-form"' not in page
    assert post.status_code == 403
    assert ImportJob.objects.count() == 1


def test_it_lists_only_the_merchants_imports(owner_client, merchant, other_merchant):
    ImportJob.objects.create(merchant=merchant, kind="orders", filename="ours.csv", status="succeeded", rows_read=12)
    ImportJob.objects.create(merchant=other_merchant, kind="orders", filename="theirs.csv")

    html = owner_client.get(reverse("imports")).content.decode()

    assert "ours.csv" in html
    assert "theirs.csv" not in html
    assert 'id="import-form"' in html


def test_it_shows_the_report_and_row_errors_of_a_failed_import(owner_client, merchant):
    job = ImportJob.objects.create(
        merchant=merchant,
        kind="orders",
        format="orders-csv",
        filename="bad.csv",
        status=ImportJob.Status.FAILED,
        rows_read=40,
        error_count=2,
        errors=[
            {"row": 19, "column": "sku", "message": "unknown SKU NOPE-1"},
            {"row": 7, "column": "placed_at", "message": "not a date: 2024-13-01"},
        ],
        skipped_by_reason={"postage": 3},
    )

    response = owner_client.get(reverse("import-detail", args=[job.pk]))

    html = response.content.decode()
    assert metrics_in(html)["Rows read"] == "40"
    assert metrics_in(html)["Errors"] == "2"
    assert '<td class="num">7</td><td class="mono">placed_at</td><td>not a date: 2024-13-01</td>' in html
    assert "unknown SKU NOPE-1" in html
    assert '<td>postage</td><td class="num">3</td>' in html
    assert "Nothing was imported" in html
    assert 'http-equiv="refresh"' not in html


def test_it_refreshes_a_running_import_and_shows_its_progress(owner_client, merchant):
    job = ImportJob.objects.create(
        merchant=merchant, kind="orders", filename="big.csv", status=ImportJob.Status.RUNNING, progress=0.42
    )

    html = owner_client.get(reverse("import-detail", args=[job.pk])).content.decode()

    assert '<meta http-equiv="refresh" content="2">' in html
    assert 'aria-valuenow="42"' in html


def test_it_answers_another_merchants_import_with_404(owner_client, other_merchant):
    job = ImportJob.objects.create(merchant=other_merchant, kind="orders", filename="theirs.csv")

    assert owner_client.get(reverse("import-detail", args=[job.pk])).status_code == 404


def test_it_lists_imports_in_the_same_number_of_queries_for_three_times_the_rows(owner_client, merchant, owner):
    def seed(count):
        for index in range(count):
            ImportJob.objects.create(merchant=merchant, kind="orders", filename=f"{index}.csv", created_by=owner)

    seed(3)
    owner_client.get(reverse("imports"))
    queries_for_few = queries_to_get(owner_client, reverse("imports"))
    seed(6)

    assert queries_to_get(owner_client, reverse("imports")) == queries_for_few
