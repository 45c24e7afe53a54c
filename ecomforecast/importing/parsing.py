"""Vectorised cell parsers: each returns the parsed values and a mask of the cells that are present but invalid.

They accept text (CSV cells, blank = "") and native Parquet/DataFrame types alike. Validation errors are
recorded on the report with the row numbers of the chunk (its ROW_COLUMN).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo

import numpy as np
import pandas as pd

from ecomforecast.importing import MAX_STORED_ERRORS, ImportReport
from ecomforecast.importing.sources import ROW_COLUMN

_OFFSET_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})$"
# Arrow-backed strings: strip, regex and comparisons run in C over a whole chunk.
TEXT = pd.ArrowDtype(__import__("pyarrow").string())
_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n"}


def text(values: pd.Series, *, max_length: int | None = None) -> pd.Series:
    """Stripped text with blanks as ""; float-looking ids from spreadsheets ("17850.0") lose their ".0"."""
    result = by_distinct(values, _text).fillna("")
    if max_length is not None:
        result = result.str.slice(0, max_length)
    return result.astype(object)


def _text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(values):
        whole = values.eq(values.round())
        result = values.astype("string").astype(object)
        result[whole] = values[whole].round().astype("Int64").astype("string").astype(object)
        return result
    if pd.api.types.is_integer_dtype(values):
        return values.astype("string").astype(object)
    result = values.astype(TEXT).str.strip()
    float_like = result.str.match(r"^\d+\.0$").fillna(False).astype(bool)
    if float_like.any():
        result = result.where(~float_like, result.str.slice(0, -2))
    return result.astype(object)


def is_blank(values: pd.Series) -> pd.Series:
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return (values.isna() | values.astype(TEXT).str.strip().eq("")).astype(bool)
    return values.isna()


def number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Floats (NaN where blank) and the mask of non-blank, non-numeric cells."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        parsed = values.astype("float64")
        return parsed, pd.Series(False, index=values.index)
    blank = is_blank(values)
    cleaned = values.astype(TEXT).str.strip().str.replace(",", "", regex=False)
    parsed = by_distinct(cleaned, lambda distinct: pd.to_numeric(distinct, errors="coerce").astype("float64"))
    return parsed, ~blank & parsed.isna()


def integer(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Nullable integers and the mask of non-blank cells that are not whole numbers."""
    parsed, invalid = number(values)
    fractional = parsed.notna() & (parsed != np.floor(parsed.fillna(0)))
    whole = parsed.where(~fractional)
    return whole.round().astype("Int64"), invalid | fractional


def boolean(values: pd.Series, *, default: bool) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(default).astype(bool), pd.Series(False, index=values.index)
    lowered = text(values).str.lower()
    parsed = pd.Series(default, index=values.index, dtype=bool)
    parsed[lowered.isin(_TRUE)] = True
    parsed[lowered.isin(_FALSE)] = False
    invalid = ~lowered.isin(_TRUE | _FALSE) & lowered.ne("")
    return parsed, invalid


def timestamp(values: pd.Series, *, timezone: str) -> tuple[pd.Series, pd.Series]:
    """UTC timestamps: values with an offset keep it, naive ones are wall-clock time in ``timezone``."""
    # Order lines share their order's time stamp: parse and localise each distinct value once.
    parsed = by_distinct(values, lambda distinct: _timestamp(distinct, timezone))
    return parsed, ~is_blank(values) & parsed.isna()


def _timestamp(values: pd.Series, timezone: str) -> pd.Series:
    blank = is_blank(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values if values.dt.tz is not None else _localise(values, timezone)
        return parsed.dt.tz_convert("UTC")
    as_text = values.astype("string").str.strip()
    has_offset = as_text.str.contains(_OFFSET_SUFFIX, regex=True).fillna(False)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if has_offset.any():
        aware = pd.to_datetime(as_text[has_offset], errors="coerce", utc=True, format="mixed")
        parsed[has_offset] = aware
    naive_mask = ~has_offset & ~blank
    if naive_mask.any():
        naive = _parse_naive(as_text[naive_mask])
        parsed[naive_mask] = _localise(naive, timezone).dt.tz_convert("UTC")
    return parsed


def date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """datetime.date objects (None where blank) and the mask of non-blank cells that are not dates."""
    blank = is_blank(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        as_text = values.astype("string").str.strip()
        parsed = _parse_naive(as_text.where(~blank))
    invalid = ~blank & parsed.isna()
    dates = pd.Series([None] * len(values), index=values.index, dtype=object)
    present = parsed.notna()
    dates[present] = [stamp.date() for stamp in parsed[present]]
    return dates, invalid


def by_distinct(values: pd.Series, convert) -> pd.Series:
    """``convert`` applied to the distinct values only, spread back to every row (missing stays missing)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    converted = convert(pd.Series(distinct)).reset_index(drop=True)
    return pd.Series(converted.array.take(codes, allow_fill=True), index=values.index, name=values.name)


def _parse_naive(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    missed = parsed.isna() & values.notna() & values.ne("")
    if missed.any():
        # Spreadsheet exports write day-first dates ("01/12/2010 08:26"); ISO 8601 is tried first.
        parsed[missed] = pd.to_datetime(values[missed], errors="coerce", format="mixed", dayfirst=True)
    return parsed


def _localise(values: pd.Series, timezone: str) -> pd.Series:
    zone = zoneinfo.ZoneInfo(timezone)
    # Wall-clock times in the repeated hour of a DST change are read as standard time; skipped ones move forward.
    return values.dt.tz_localize(zone, ambiguous=np.zeros(len(values), dtype=bool), nonexistent="shift_forward")


def stable_key(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """A sha256 hex digest of the given text columns, the same for the same values in any file."""
    joined = frame[columns[0]].astype(str)
    for column in columns[1:]:
        joined = joined + "\x1f" + frame[column].astype(str)
    return joined.map(lambda value: hashlib.sha256(value.encode()).hexdigest())


def report_invalid(report: ImportReport, chunk: pd.DataFrame, mask: pd.Series, column: str | None, message: str) -> int:
    """Adds one error per masked row (message may use {value}); returns how many rows were invalid."""
    count = int(mask.sum())
    if not count:
        return 0
    capacity = max(MAX_STORED_ERRORS - len(report.errors), 0)
    rows = chunk.loc[mask, ROW_COLUMN].iloc[:capacity]
    values = chunk.loc[mask, column].iloc[:capacity] if column is not None and column in chunk.columns else None
    for position, row in enumerate(rows.tolist()):
        value = values.iloc[position] if values is not None else ""
        report.add_error(row=int(row), column=column, message=message.format(value=value))
    report.error_count += count - len(rows)
    return count


def missing_columns(columns: list[str], required: list[str]) -> list[str]:
    present = set(columns)
    return [column for column in required if column not in present]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
