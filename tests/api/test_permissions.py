"""Who may call the API: anonymous callers, viewers, revoked keys and sessions without a CSRF token."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from ecomforecast.models import ApiKey, Membership
from ecomforecast.services import api_key_create
from inventory.models import Product
from tests.api.conftest import ROUTES, WRITABLE_ROUTES
from tests.api.rows import make_row
from tests.factories import MembershipFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
    return client


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES)
def test_it_turns_anonymous_callers_away(merchant, prefix, viewset):
    row = make_row(viewset.queryset_model, merchant)
    client = APIClient()

    assert client.get(f"/api/v1/{prefix}/").status_code == 401
    if hasattr(viewset, "retrieve"):
        assert client.get(f"/api/v1/{prefix}/{row.pk}/").status_code == 401
    assert client.post(f"/api/v1/{prefix}/", {}, format="json").status_code in {401, 405}


def test_it_asks_for_an_api_key_in_the_challenge(merchant):
    response = APIClient().get("/api/v1/products/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize(("prefix", "viewset"), WRITABLE_ROUTES)
def test_it_lets_a_viewer_key_read_but_not_write(merchant, prefix, viewset):
    row = make_row(viewset.queryset_model, merchant)
    _key, raw_key = api_key_create(merchant=merchant, name="read only", role=Membership.Role.VIEWER)
    client = _key_client(raw_key)

    assert client.get(f"/api/v1/{prefix}/").status_code == 200
    assert client.get(f"/api/v1/{prefix}/{row.pk}/").status_code == 200
    assert client.post(f"/api/v1/{prefix}/", {}, format="json").status_code == 403
    assert client.patch(f"/api/v1/{prefix}/{row.pk}/", {}, format="json").status_code == 403
    assert client.delete(f"/api/v1/{prefix}/{row.pk}/").status_code == 403
    assert viewset.queryset_model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("bulk_url", ["/api/v1/orders/bulk/", "/api/v1/activity/bulk/"])
def test_it_keeps_viewers_away_from_bulk_writes(merchant, bulk_url):
    _key, raw_key = api_key_create(merchant=merchant, name="read only", role=Membership.Role.VIEWER)

    assert _key_client(raw_key).post(bulk_url, {}, format="json").status_code == 403


def test_it_lets_a_viewer_session_read_but_not_write(merchant):
    product = ProductFactory(merchant=merchant)
    client = APIClient()
    client.force_login(MembershipFactory(merchant=merchant, role=Membership.Role.VIEWER).user)

    assert client.get(f"/api/v1/products/{product.pk}/").status_code == 200
    assert client.patch(f"/api/v1/products/{product.pk}/", {"name": "Renamed"}, format="json").status_code == 403
    product.refresh_from_db()
    assert product.name != "Renamed"


def test_it_rejects_a_revoked_key(merchant):
    key, raw_key = api_key_create(merchant=merchant, name="old")
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())

    response = _key_client(raw_key).get("/api/v1/products/")

    assert response.status_code == 401


def test_it_rejects_a_wrong_key_with_a_known_prefix(merchant):
    _key, raw_key = api_key_create(merchant=merchant, name="real")

    response = _key_client(raw_key[:-4] + "AAAA").get("/api/v1/products/")

    assert response.status_code == 401


def test_it_records_when_a_key_was_last_used(api_client, merchant):
    assert api_client.get("/api/v1/products/").status_code == 200

    assert ApiKey.objects.get(merchant=merchant).last_used_at is not None


def test_it_enforces_csrf_for_session_writes(merchant, owner):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    payload = {"sku": "CSRF-1", "name": "Guarded"}

    refused = client.post("/api/v1/products/", payload, format="json")
    # Django accepts the cookie's secret itself in the header; a browser sends the masked form of it.
    csrf_secret = "ecomforecastcsrfsecret0123456789"
    client.cookies["csrftoken"] = csrf_secret
    accepted = client.post("/api/v1/products/", payload, format="json", HTTP_X_CSRFTOKEN=csrf_secret)

    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code == 201
    assert Product.objects.filter(merchant=merchant, sku="CSRF-1").count() == 1


def test_it_acts_for_the_merchant_the_session_has_switched_to(merchant, other_merchant, owner):
    MembershipFactory(user=owner, merchant=other_merchant)
    own_product = ProductFactory(merchant=merchant)
    other_product = ProductFactory(merchant=other_merchant)
    client = APIClient()
    client.force_login(owner)
    session = client.session
    session["current_merchant_id"] = other_merchant.pk
    session.save()

    ids = {row["id"] for row in client.get("/api/v1/products/").json()["results"]}

    assert ids == {other_product.pk}
    assert client.get(f"/api/v1/products/{own_product.pk}/").status_code == 404


def test_it_throttles_each_api_key_separately(merchant, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "3/min"})
    busy = _key_client(api_key_create(merchant=merchant, name="busy")[1])
    quiet = _key_client(api_key_create(merchant=merchant, name="quiet")[1])

    statuses = [busy.get("/api/v1/products/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert quiet.get("/api/v1/products/").status_code == 200
