"""GET /api/v1/model-artifacts/: the merchant's trained model versions, read-only, tenant-scoped, documented."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecasting.models import ModelArtifact
from tests.api.rows import model_artifact

pytestmark = pytest.mark.django_db

URL = "/api/v1/model-artifacts/"


def test_it_lists_the_merchants_versions_newest_first_per_model(api_client, merchant, other_merchant):
    model_artifact(merchant, 1)
    model_artifact(merchant, 2)
    model_artifact(merchant, 1, name="gru", status=ModelArtifact.Status.RETIRED)
    model_artifact(other_merchant, 3)

    body = api_client.get(URL).json()

    assert body["count"] == 3
    assert [(row["name"], row["version"], row["status"]) for row in body["results"]] == [
        ("gru", 1, "retired"),
        ("lstm", 2, "active"),
        ("lstm", 1, "active"),
    ]
    row = body["results"][1]
    assert row["train_data_end"] == "2024-03-03"
    assert row["data_cutoff"] == "2024-03-31"
    assert (row["series_count"], row["n_parameters"], row["device"], row["size_bytes"]) == (120, 21000, "cuda", 4096)
    assert row["metrics"]["validation_loss"] == 1.25
    assert "storage_path" not in row


def test_it_filters_by_name_and_status(api_client, merchant):
    model_artifact(merchant, 1)
    model_artifact(merchant, 2, status=ModelArtifact.Status.RETIRED)
    model_artifact(merchant, 1, name="gru")

    def versions(params: dict) -> list[tuple[str, int]]:
        return [(row["name"], row["version"]) for row in api_client.get(URL, params).json()["results"]]

    assert versions({"name": "lstm", "status": "active"}) == [("lstm", 1)]
    assert versions({"status": "retired"}) == [("lstm", 2)]
    assert versions({"ordering": "-version"}) == [("lstm", 2), ("lstm", 1), ("gru", 1)]


def test_it_shows_one_version_and_answers_404_for_another_merchants(api_client, merchant, other_merchant):
    own = model_artifact(merchant, 1)
    foreign = model_artifact(other_merchant, 1)

    response = api_client.get(f"{URL}{own.pk}/")

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["sha256"]) == (own.pk, own.sha256)
    assert api_client.get(f"{URL}{foreign.pk}/").status_code == 404
    assert api_client.get(URL, {"name": "lstm"}).json()["count"] == 1


def test_it_is_read_only_and_closed_to_anonymous_clients(api_client, client, merchant):
    own = model_artifact(merchant, 1)

    assert api_client.post(URL, {"name": "lstm"}, format="json").status_code == 405
    assert api_client.delete(f"{URL}{own.pk}/").status_code == 405
    assert client.get(URL).status_code == 401


def test_it_lists_in_the_same_number_of_queries_for_more_versions(api_client, merchant):
    for version in (1, 2, 3):
        model_artifact(merchant, version)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(URL).status_code == 200
    for version in (4, 5, 6, 7, 8, 9):
        model_artifact(merchant, version)

    with CaptureQueriesContext(connection) as many:
        response = api_client.get(URL)

    assert response.json()["count"] == 9
    assert len(many.captured_queries) == len(few.captured_queries)


def test_it_documents_the_endpoints_in_the_schema(api_client):
    paths = api_client.get("/api/schema/", {"format": "json"}).json()["paths"]

    assert set(paths[URL]) == {"get"}
    assert set(paths[URL + "{id}/"]) == {"get"}
    parameters = {parameter["name"] for parameter in paths[URL]["get"]["parameters"]}
    assert {"name", "status", "ordering", "page", "page_size"} <= parameters
