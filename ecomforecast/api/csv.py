"""CSV downloads of API list data (exports a merchant opens in a spreadsheet or sends to a supplier)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from django.http import HttpResponse

# A cell starting with one of these is a formula to a spreadsheet: exported text must stay text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_text(rows: Iterable[Mapping[str, object]], *, columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: safe_cell(row.get(column, "")) for column in columns})
    return buffer.getvalue()


def csv_response(rows: Iterable[Mapping[str, object]], *, columns: Sequence[str], filename: str) -> HttpResponse:
    response = HttpResponse(csv_text(rows, columns=columns), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def safe_cell(value: object) -> object:
    """The value as a spreadsheet will read it as text: a formula-like string gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
