from __future__ import annotations

from pathlib import Path

import pytest
from rest_framework.test import APIClient

from ecomforecast.services import api_key_create
from tests.factories import MembershipFactory, MerchantFactory

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or skip: tests on the shared retail data never run without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def merchant(db):
    return MerchantFactory(slug="acme", name="Acme")


@pytest.fixture
def other_merchant(db):
    return MerchantFactory(slug="rival", name="Rival")


@pytest.fixture
def owner(merchant):
    return MembershipFactory(merchant=merchant).user


@pytest.fixture
def api_key(merchant):
    _key, raw = api_key_create(merchant=merchant, name="tests")
    return raw


@pytest.fixture
def api_client(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    return client


@pytest.fixture
def other_api_client(other_merchant) -> APIClient:
    _key, raw = api_key_create(merchant=other_merchant, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client
