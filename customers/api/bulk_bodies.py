"""Bulk writes through the import framework: a JSON body becomes the frame of a generic CSV layout.

Every cell is passed as the text a CSV file would hold (blank = ""), so the API and a file upload are validated
and written by the same code, in one transaction, idempotently. How errors are numbered is part of the API
(ORDERS_DESCRIPTION, ACTIVITY_DESCRIPTION, shown in the OpenAPI docs): an orders body is flattened to one record
per order line, so record = lines of the earlier orders + line index + 1.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.settings import api_settings

from ecomforecast.importing import RowError

ORDER_FIELDS = ["order_id", "placed_at", "customer_id", "customer_email", "channel", "status", "country", "currency"]
LINE_FIELDS = ["sku", "quantity", "unit_price", "discount"]
ACTIVITY_FIELDS = ["event_id", "customer_id", "sku", "kind", "occurred_at", "session_id", "query"]

ORDERS_DESCRIPTION = """Upserts orders and their lines on `order_id`, like an `orders-csv` import: all or nothing, and
sending the same body again changes nothing. SKUs must exist as products; customers are created on first sight.
A negative quantity is a returned line.

On error nothing is written and the answer lists every problem. Records are the order lines flattened in body
order: the lines of `orders[0]` are rows 1..n0, those of `orders[1]` follow. Each error also gives `order` and
`line`, the 0-based positions in the body (`line` is null for an error on the order itself); row 0 is the body
as a whole."""

ACTIVITY_DESCRIPTION = """Appends activity events like an `activity-csv` import: all or nothing; an event whose
`event_id` (or, without one, whose content) was already received is not added twice. A `sku`, when given, must
exist as a product. On error nothing is written; `row` is the event's index in `events` + 1 (row 0 is the body
as a whole)."""


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


class OrderRecords:
    """Maps between (order, line) positions in a bulk orders body and 1-based flattened record numbers."""

    def __init__(self, raw_orders: Any):
        line_counts = [
            len(order["lines"]) if isinstance(order, Mapping) and isinstance(order.get("lines"), list) else 0
            for order in (raw_orders if isinstance(raw_orders, list) else [])
        ]
        self.first_rows = list(itertools.accumulate(line_counts[:-1], initial=1)) if line_counts else []

    def row(self, order: int, line: int | None) -> int:
        return self.first_rows[order] + (line or 0)

    def position(self, row: int) -> tuple[int | None, int | None]:
        order = bisect.bisect_right(self.first_rows, row) - 1
        if row < 1 or order < 0:
            return None, None
        return order, row - self.first_rows[order]


def orders_frame(orders: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    records = [
        {
            **{name: _cell(order.get(name)) for name in ORDER_FIELDS},
            **{name: _cell(line.get(name)) for name in LINE_FIELDS},
        }
        for order in orders
        for line in order["lines"]
    ]
    return pd.DataFrame.from_records(records, columns=[*ORDER_FIELDS, *LINE_FIELDS])


def activity_frame(events: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    records = [{name: _cell(event.get(name)) for name in ACTIVITY_FIELDS} for event in events]
    return pd.DataFrame.from_records(records, columns=ACTIVITY_FIELDS)


def parsed_body(request: Request) -> tuple[Any, str | None]:
    """The JSON body, or why it is not JSON: reported as a row-0 error like every other bulk error."""
    try:
        return request.data, None
    except ParseError as error:
        return None, str(error.detail)


def _flatten_detail(detail: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """(path, message) for every message in DRF's nested serializer errors."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            yield from _flatten_detail(value, (*path, key))
    elif isinstance(detail, list) and all(isinstance(item, str) for item in detail):
        for message in detail:
            yield path, str(message)
    elif isinstance(detail, list):
        for index, item in enumerate(detail):
            yield from _flatten_detail(item, (*path, index))
    else:
        yield path, str(detail)


def _column(path: tuple) -> str | None:
    named = path[:-1] if path and path[-1] == api_settings.NON_FIELD_ERRORS_KEY else path
    return named[-1] if named and isinstance(named[-1], str) else None


def order_validation_errors(detail: Any, records: OrderRecords) -> list[dict]:
    errors = []
    for path, message in _flatten_detail(detail):
        order = path[1] if len(path) > 1 and isinstance(path[1], int) else None
        line = path[3] if order is not None and len(path) > 3 and isinstance(path[3], int) else None
        row = records.row(order, line) if order is not None else 0
        errors.append({"row": row, "column": _column(path), "message": message, "order": order, "line": line})
    return errors


def order_import_errors(row_errors: Sequence[RowError], records: OrderRecords) -> list[dict]:
    errors = []
    for error in row_errors:
        order, line = records.position(error.row)
        errors.append(
            {"row": error.row, "column": error.column, "message": error.message, "order": order, "line": line}
        )
    return errors


def activity_validation_errors(detail: Any) -> list[dict]:
    errors = []
    for path, message in _flatten_detail(detail):
        row = path[1] + 1 if len(path) > 1 and isinstance(path[1], int) else 0
        errors.append({"row": row, "column": _column(path), "message": message})
    return errors


def activity_import_errors(row_errors: Sequence[RowError]) -> list[dict]:
    return [{"row": error.row, "column": error.column, "message": error.message} for error in row_errors]
