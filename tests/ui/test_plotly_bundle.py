from __future__ import annotations

from importlib import metadata

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_it_serves_the_packaged_plotly_bundle_with_long_caching(client):
    version = metadata.version("plotly")

    response = client.get(reverse("plotly-bundle", args=[version]))

    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=31536000" in response["Cache-Control"]
    assert b"plotly.js" in body[:2000]
    assert len(body) > 1_000_000


@pytest.mark.django_db
def test_it_refuses_other_versions(client):
    assert client.get(reverse("plotly-bundle", args=["0.0.1"])).status_code == 404
