"""Set-based upserts for imports: stage a chunk, then one INSERT ... ON CONFLICT DO UPDATE ... WHERE changed.

On Postgres the chunk is COPYed into a temporary staging table and ``RETURNING (xmax = 0)`` tells created rows
from updated ones; on SQLite (the demo database) the staging table is filled with executemany and rows that
already existed are counted before the insert. Either way a row whose values are unchanged is not rewritten,
which is what makes re-importing a file a no-op.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from django.db import connection, models

from ecomforecast.importing.parsing import by_distinct

STAGE_TABLE = "import_stage"


class On(enum.Enum):
    """What an existing row's column becomes when the same key is imported again."""

    OVERWRITE = "overwrite"  # the file's value
    FILL = "fill"  # kept if set (non-null, non-blank), else the file's value
    EARLIEST = "earliest"  # the earlier of the two (first_seen_at)


@dataclass
class UpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: pd.DataFrame | None = None  # the key columns and "id", for every staged row

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def bulk_upsert(
    *,
    model: type[models.Model],
    frame: pd.DataFrame,
    key: list[str],
    update: dict[str, On],
    with_ids: bool = False,
) -> UpsertResult:
    """Upserts ``frame`` (columns = the model's attnames, keys unique within the frame) into the model's table."""
    if frame.empty:
        return UpsertResult(ids=pd.DataFrame(columns=[*key, "id"]) if with_ids else None)
    fields = {field.attname: field for field in model._meta.concrete_fields}
    # One statement may not update the same row twice: the last row of a key wins.
    frame = _with_defaults(frame.drop_duplicates(subset=key, keep="last"), fields)
    columns = list(frame.columns)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    stage = quote(STAGE_TABLE)
    column_list = ", ".join(quote(fields[name].column) for name in columns)
    postgres = connection.vendor == "postgresql"
    distinct = "IS DISTINCT FROM" if postgres else "IS NOT"

    assignments, changes = [], []
    for name, policy in update.items():
        column = quote(fields[name].column)
        new_value = _merge_expression(column, policy, fields[name])
        assignments.append(f"{column} = {new_value}")
        changes.append(f"t.{column} {distinct} {new_value}")
    for name in columns:
        if getattr(fields[name], "auto_now", False):
            assignments.append(f"{quote(fields[name].column)} = excluded.{quote(fields[name].column)}")
    conflict = ", ".join(quote(fields[name].column) for name in key)
    on_conflict = "DO NOTHING"
    if changes:
        on_conflict = f"DO UPDATE SET {', '.join(assignments)} WHERE {' OR '.join(changes)}"
    insert = (
        f"INSERT INTO {table} AS t ({column_list}) SELECT {column_list} FROM {stage} WHERE true "
        f"ON CONFLICT ({conflict}) {on_conflict}"
    )
    key_match = " AND ".join(f"t.{quote(fields[name].column)} = s.{quote(fields[name].column)}" for name in key)

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {stage}")
        cursor.execute(f"CREATE TEMPORARY TABLE {stage} AS SELECT {column_list} FROM {table} WHERE 1 = 0")
        if postgres:
            _copy_into(cursor, frame, fields, stage, column_list)
            cursor.execute(
                f"WITH written AS ({insert} RETURNING (t.xmax = 0) AS inserted) "
                "SELECT count(*) FILTER (WHERE inserted), count(*) FROM written"
            )
            created, written = cursor.fetchone()
        else:
            _insert_rows(cursor, frame, fields, stage, column_list)
            cursor.execute(
                f"SELECT count(*) FROM {stage} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {key_match})"
            )
            (created,) = cursor.fetchone()
            cursor.execute(f"{insert} RETURNING 1")
            written = len(cursor.fetchall())
        ids = None
        if with_ids:
            key_columns = ", ".join(f"s.{quote(fields[name].column)}" for name in key)
            cursor.execute(
                f"SELECT {key_columns}, t.{quote(model._meta.pk.column)} FROM {stage} s JOIN {table} t ON {key_match}"
            )
            ids = pd.DataFrame(cursor.fetchall(), columns=[*key, "id"])
        cursor.execute(f"DROP TABLE {stage}")
    return UpsertResult(created=created, updated=written - created, unchanged=len(frame) - written, ids=ids)


def bulk_insert(*, model: type[models.Model], frame: pd.DataFrame) -> int:
    """Inserts rows that cannot exist yet (their parent was created in this transaction): COPY straight into
    the table on Postgres, executemany on SQLite. Returns the number of rows."""
    if frame.empty:
        return 0
    fields = {field.attname: field for field in model._meta.concrete_fields}
    frame = _with_defaults(frame, fields)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    column_list = ", ".join(quote(fields[name].column) for name in frame.columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _copy_into(cursor, frame, fields, table, column_list)
        else:
            _insert_rows(cursor, frame, fields, table, column_list)
    return len(frame)


def _merge_expression(column: str, policy: On, field: models.Field) -> str:
    if policy is On.OVERWRITE:
        return f"excluded.{column}"
    if policy is On.FILL:
        if isinstance(field, models.CharField | models.TextField):
            return f"CASE WHEN t.{column} = '' THEN excluded.{column} ELSE t.{column} END"
        return f"COALESCE(t.{column}, excluded.{column})"
    return f"CASE WHEN t.{column} IS NULL OR excluded.{column} < t.{column} THEN excluded.{column} ELSE t.{column} END"


def _with_defaults(frame: pd.DataFrame, fields: dict[str, models.Field]) -> pd.DataFrame:
    now = pd.Timestamp(dt.datetime.now(dt.UTC))
    missing = {}
    for name, field in fields.items():
        if name in frame.columns or field.primary_key:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            missing[name] = now
        elif field.has_default() or (isinstance(field, models.CharField | models.TextField) and not field.null):
            # Model defaults (and "" for text) live in Python, not in the table: raw inserts must supply them.
            missing[name] = field.get_default()
    return frame.assign(**missing) if missing else frame


def _prepared(frame: pd.DataFrame, fields: dict[str, models.Field], *, postgres: bool) -> pd.DataFrame:
    """Values in the text form each database stores exactly (so unchanged rows compare equal)."""
    prepared = {}
    for name in frame.columns:
        field, values = fields[name], frame[name]
        if isinstance(field, models.DateTimeField):
            prepared[name] = by_distinct(pd.to_datetime(values, utc=True), partial(_datetime_text, postgres=postgres))
        elif isinstance(field, models.DateField):
            prepared[name] = values.map(
                lambda value: value.isoformat() if value is not None else None, na_action="ignore"
            )
        elif isinstance(field, models.DecimalField):
            prepared[name] = pd.to_numeric(values).astype("float64").round(field.decimal_places)
        elif isinstance(field, models.BooleanField):
            prepared[name] = values.astype(bool)
        else:
            prepared[name] = values
    return pd.DataFrame(prepared, index=frame.index)


def _datetime_text(stamps: pd.Series, *, postgres: bool) -> pd.Series:
    text = stamps.dt.strftime("%Y-%m-%d %H:%M:%S.%f").str.replace(r"\.000000$", "", regex=True)
    return (text + "+00:00") if postgres else text


def _copy_into(cursor, frame, fields, table: str, column_list: str) -> None:
    prepared = _prepared(frame, fields, postgres=True)
    text_columns = [
        connection.ops.quote_name(fields[name].column)
        for name in prepared.columns
        if isinstance(fields[name], models.CharField | models.TextField)
    ]
    options = "FORMAT csv"
    if text_columns:
        options += f", FORCE_NOT_NULL ({', '.join(text_columns)})"
    buffer = io.StringIO()
    prepared.to_csv(buffer, index=False, header=False)
    with cursor.cursor.copy(f"COPY {table} ({column_list}) FROM STDIN WITH ({options})") as copy:
        copy.write(buffer.getvalue())


def _insert_rows(cursor, frame, fields, table: str, column_list: str) -> None:
    prepared = _prepared(frame, fields, postgres=False).astype(object)
    prepared = prepared.where(prepared.notna(), None)
    rows = [tuple(_plain(value) for value in row) for row in prepared.itertuples(index=False, name=None)]
    placeholders = ", ".join(["%s"] * len(prepared.columns))
    cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})", rows)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value
