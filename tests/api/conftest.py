from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from ecomforecast.api.urls import router

# (prefix, viewset) of every route on /api/v1/: generic tests cover a new endpoint as soon as it is registered.
ROUTES = [pytest.param(prefix, viewset, id=prefix) for prefix, viewset, _basename in router.registry]
WRITABLE_ROUTES = [
    pytest.param(prefix, viewset, id=prefix)
    for prefix, viewset, _basename in router.registry
    if hasattr(viewset, "create")
]


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Throttle counts live in the cache, which outlives each test's database rows: every test starts at zero."""
    cache.clear()


@pytest.fixture(params=["api-key", "session"])
def client_of_merchant(request, merchant) -> APIClient:
    """Merchant A's client, once with an owner's API key and once with an owner's session."""
    if request.param == "api-key":
        return request.getfixturevalue("api_client")
    client = APIClient()
    client.force_login(request.getfixturevalue("owner"))
    return client
