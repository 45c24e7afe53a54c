"""The acting merchant, its API keys (never the secret) and its import history."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ecomforecast.models import ApiKey, ImportJob
from ecomforecast.services import api_key_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_it_says_which_merchant_a_key_acts_for(api_client, merchant, other_merchant):
    body = api_client.get("/api/v1/merchants/me/").json()

    assert (body["id"], body["slug"], body["currency"], body["timezone"]) == (
        merchant.pk,
        "acme",
        "GBP",
        "Europe/London",
    )


def test_it_says_which_merchant_a_session_acts_for(merchant, other_merchant):
    client = APIClient()
    client.force_login(MembershipFactory(merchant=other_merchant).user)

    assert client.get("/api/v1/merchants/me/").json()["slug"] == "rival"


def test_it_lists_api_keys_without_their_secret(api_client, merchant):
    _key, raw_key = api_key_create(merchant=merchant, name="shop sync")

    rows = api_client.get("/api/v1/api-keys/").json()["results"]

    assert sorted(row["name"] for row in rows) == ["shop sync", "tests"]
    assert raw_key not in str(rows)
    assert ApiKey.objects.get(name="shop sync").key_hash not in str(rows)
    assert {row["prefix"] for row in rows} == set(ApiKey.objects.values_list("prefix", flat=True))


def test_it_lists_import_history_with_row_errors(api_client, merchant):
    ImportJob.objects.create(
        merchant=merchant,
        kind=ImportJob.Kind.ORDERS,
        filename="march.csv",
        status=ImportJob.Status.FAILED,
        error_count=1,
        errors=[{"row": 7, "column": "sku", "message": "unknown SKU 'X'"}],
    )
    ImportJob.objects.create(merchant=merchant, kind=ImportJob.Kind.STOCK, filename="stock.csv")

    failed = api_client.get("/api/v1/imports/", {"status": "failed"}).json()["results"]

    assert [(job["filename"], job["errors"]) for job in failed] == [
        ("march.csv", [{"row": 7, "column": "sku", "message": "unknown SKU 'X'"}])
    ]
