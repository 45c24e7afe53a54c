"""List endpoints run a constant number of queries: twice the rows, not one query more."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import ROUTES
from tests.api.rows import make_row, rows_of

pytestmark = pytest.mark.django_db

ROWS = 3


@pytest.mark.parametrize(("prefix", "viewset"), ROUTES)
def test_it_lists_without_a_query_per_row(api_client, merchant, django_assert_max_num_queries, prefix, viewset):
    model = viewset.queryset_model
    for _ in range(ROWS):
        make_row(model, merchant)
    url = f"/api/v1/{prefix}/"
    with CaptureQueriesContext(connection) as baseline:
        assert api_client.get(url).status_code == 200

    for _ in range(ROWS):
        make_row(model, merchant)
    rows = rows_of(model, merchant).count()
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = api_client.get(url)

    assert response.status_code == 200
    assert response.json()["count"] == rows
