from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ecomforecast.models import ApiKey, hash_api_key
from ecomforecast.services import api_key_create

pytestmark = pytest.mark.django_db


def test_it_creates_a_key_and_shows_the_raw_key_once(admin_client_, merchant, superuser):
    response = admin_client_.post(
        reverse("admin:ecomforecast_apikey_add"), {"merchant": merchant.pk, "name": "erp", "role": "analyst"}
    )

    html = response.content.decode()
    raw_key = re.search(r'<code id="raw-api-key"[^>]*>([^<]+)</code>', html).group(1)
    api_key = ApiKey.objects.get()
    assert (api_key.merchant, api_key.name, api_key.created_by) == (merchant, "erp", superuser)
    assert api_key.key_hash == hash_api_key(raw_key)
    assert api_key.prefix == raw_key[: ApiKey.PREFIX_LENGTH]
    change_page = admin_client_.get(reverse("admin:ecomforecast_apikey_change", args=[api_key.pk])).content.decode()
    assert raw_key not in change_page
    assert api_key.key_hash not in change_page


def test_it_revokes_keys_with_an_action(admin_client_, merchant):
    api_key, _raw = api_key_create(merchant=merchant, name="old")

    admin_client_.post(
        reverse("admin:ecomforecast_apikey_changelist"),
        {"action": "revoke_api_keys", "_selected_action": [api_key.pk]},
    )

    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
