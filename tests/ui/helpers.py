from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

METRIC = re.compile(r'metric-label">([^<]+)</div>\s*<div class="metric-value">([^<]+)</div>')


def metrics_in(html: str) -> dict[str, str]:
    """The label -> value tiles a page shows."""
    return {label.strip(): value.strip() for label, value in METRIC.findall(html)}


def queries_to_get(client, url: str, **params) -> int:
    """How many SQL queries one GET of the page runs."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured.captured_queries)
