from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ecomforecast.models import ApiKey, Membership, hash_api_key
from ecomforecast.services import api_key_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_it_creates_a_key_and_shows_the_raw_key_once(owner_client, merchant, owner):
    response = owner_client.post(reverse("api-keys"), {"name": "warehouse sync", "role": "viewer"})

    html = response.content.decode()
    raw_key = re.search(r'<code class="secret">([^<]+)</code>', html).group(1)
    api_key = ApiKey.objects.get(merchant=merchant)
    assert (api_key.name, api_key.role, api_key.created_by) == ("warehouse sync", "viewer", owner)
    assert api_key.key_hash == hash_api_key(raw_key)
    assert raw_key not in api_key.key_hash
    assert response["Cache-Control"] == "no-store"
    listing = owner_client.get(reverse("api-keys")).content.decode()
    assert "warehouse sync" in listing
    assert raw_key not in listing
    assert f"{api_key.prefix}…" in listing


def test_it_revokes_a_key(owner_client, merchant):
    api_key, _raw = api_key_create(merchant=merchant, name="old")

    response = owner_client.post(reverse("api-key-revoke", args=[api_key.pk]), follow=True)

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert "Revoked the key" in response.content.decode()


def test_it_answers_another_merchants_key_with_404(owner_client, other_merchant):
    foreign, _raw = api_key_create(merchant=other_merchant, name="theirs")

    response = owner_client.post(reverse("api-key-revoke", args=[foreign.pk]))

    foreign.refresh_from_db()
    assert response.status_code == 404
    assert foreign.revoked_at is None


def test_it_lists_only_the_merchants_keys(owner_client, merchant, other_merchant):
    api_key_create(merchant=merchant, name="ours")
    api_key_create(merchant=other_merchant, name="theirs")

    html = owner_client.get(reverse("api-keys")).content.decode()

    assert "ours" in html
    assert "theirs" not in html


@pytest.mark.parametrize("role", [Membership.Role.ANALYST, Membership.Role.VIEWER])
def test_it_keeps_non_owners_out(client, merchant, role):
    client.force_login(MembershipFactory(merchant=merchant, role=role).user)

    page = client.get(reverse("api-keys"))
    create = client.post(reverse("api-keys"), {"name": "sneaky", "role": "owner"})

    assert page.status_code == 403
    assert create.status_code == 403
    assert not ApiKey.objects.exists()
    assert "API keys" not in client.get(reverse("dashboard")).content.decode()
