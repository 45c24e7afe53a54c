"""POST /api/v1/activity/bulk/: activity events appended all or nothing, each event once."""

from __future__ import annotations

import pytest

from customers.models import ActivityEvent
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/activity/bulk/"


def _body() -> dict:
    return {
        "events": [
            {"event_id": "e1", "customer_id": "C-1", "kind": "session", "occurred_at": "2024-03-01T10:00:00Z"},
            {
                "event_id": "e2",
                "customer_id": "C-1",
                "sku": "MUG-1",
                "kind": "view",
                "occurred_at": "2024-03-01T10:01:00Z",
            },
            {"customer_id": "C-1", "kind": "search", "query": "teapot", "occurred_at": "2024-03-01T10:02:00Z"},
        ]
    }


def test_it_appends_events_once(api_client, merchant):
    ProductFactory(merchant=merchant, sku="MUG-1")

    first = api_client.post(URL, _body(), format="json")
    second = api_client.post(URL, _body(), format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    events = ActivityEvent.objects.filter(merchant=merchant).select_related("product", "customer")
    assert sorted((event.kind, event.customer.external_id) for event in events) == [
        ("search", "C-1"),
        ("session", "C-1"),
        ("view", "C-1"),
    ]
    assert events.get(kind="view").product.sku == "MUG-1"
    assert events.get(kind="search").query == "teapot"


def test_it_numbers_errors_by_event_and_writes_nothing(api_client, merchant, other_merchant):
    ProductFactory(merchant=other_merchant, sku="MUG-1")
    body = _body()
    body["events"][0]["kind"] = "click"

    response = api_client.post(URL, body, format="json")
    body["events"][0]["kind"] = "session"
    unknown_sku = api_client.post(URL, body, format="json")

    assert response.status_code == 400
    assert [(error["row"], error["column"]) for error in response.json()["errors"]] == [(1, "kind")]
    assert unknown_sku.status_code == 400
    assert [(error["row"], error["column"]) for error in unknown_sku.json()["errors"]] == [(2, "sku")]
    assert not ActivityEvent.objects.exists()
