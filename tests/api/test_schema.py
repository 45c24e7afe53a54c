"""The OpenAPI schema: valid, served with its docs page offline, and honoured by every operation (schemathesis).

Every operation is called with generated requests as an owner's API key, on a merchant holding one row of each
kind, and each answer must be no server error and match the response schema of its status. Examples are few
(the suite runs on two cores) and derandomized, so a run is reproducible. The bulk endpoints are exercised like
the others (random bodies are rejected with 400 before the importer writes anything), so they stay in.
Generated session cookies stay too: a forged one must read as no session, never as a server error.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.api.conftest import ROUTES
from tests.api.rows import make_row

schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


@pytest.fixture
def open_test_connection():
    """Django's test client keeps the test's database connection across requests; a raw WSGI handler closes it
    at the end of each request unless these handlers are disconnected for the test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def merchant_with_rows(merchant, other_merchant):
    for param in ROUTES:
        _prefix, viewset = param.values
        make_row(viewset.queryset_model, merchant)
        make_row(viewset.queryset_model, other_merchant)
    return merchant


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_it_answers_every_operation_within_its_schema(case, api_key, merchant_with_rows, open_test_connection):
    case.call_and_validate(
        headers={"Authorization": f"Api-Key {api_key}"},
        checks=[not_a_server_error, response_schema_conformance],
    )


def test_it_generates_a_schema_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/v1/orders/bulk/" in (tmp_path / "schema.yaml").read_text()


@pytest.mark.django_db
def test_it_serves_the_docs_page_from_local_static_files(client):
    response = client.get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui-dist" in html
    assert "/static/drf_spectacular_sidecar/" in html
    # no script or stylesheet from another host (a bare "cdn" check also matched the page's random CSRF token)
    assert "https://" not in html
    assert "http://" not in html
    assert not any(host in html.lower() for host in ("cdn.", "jsdelivr", "unpkg", "cdnjs"))
