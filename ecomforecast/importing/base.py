"""What every format importer shares: column checks, chunk validation helpers and the write switch."""

from __future__ import annotations

import pandas as pd

from ecomforecast.importing import ImportReport
from ecomforecast.importing import parsing as parse
from ecomforecast.importing.sources import ROW_COLUMN


class FormatImporter:
    """Validates and writes one format, chunk by chunk.

    ``process`` validates a chunk, recording row errors on the report, and writes it only while the report has
    no errors: once a row is invalid the rest of the file is still validated (so every error is reported) but
    nothing more is written, and the runner rolls the transaction back.
    """

    kind: str
    format: str
    required: tuple[str, ...] = ()
    # Alternative spellings: canonical column -> accepted names, first match wins.
    aliases: dict[str, tuple[str, ...]] = {}
    latin1_fallback = False

    def __init__(self, *, merchant, report: ImportReport):
        self.merchant = merchant
        self.report = report

    def missing_columns(self, columns: list[str]) -> list[str]:
        present = set(columns)
        missing = []
        for column in self.required:
            accepted = self.aliases.get(column, (column,))
            if not any(name in present for name in accepted):
                missing.append(" / ".join(accepted))
        return missing

    def canonical(self, chunk: pd.DataFrame) -> pd.DataFrame:
        renames = {}
        for column, accepted in self.aliases.items():
            for name in accepted:
                if name in chunk.columns:
                    renames[name] = column
                    break
        return chunk.rename(columns=renames)

    def start_file(self) -> None:
        """Called before the first chunk of every file (state that is per file, such as line numbers)."""

    def process(self, chunk: pd.DataFrame) -> None:
        raise NotImplementedError

    def end_file(self) -> None:
        """Called after the last chunk of every file (to flush rows a format holds back)."""

    @property
    def writing(self) -> bool:
        return self.report.error_count == 0

    # Validation helpers: each records errors for the offending rows and returns the parsed values.

    def column(self, chunk: pd.DataFrame, name: str) -> pd.Series:
        if name in chunk.columns:
            return chunk[name]
        return pd.Series("", index=chunk.index, dtype=object)

    def invalid(self, chunk: pd.DataFrame, mask: pd.Series, column: str | None, message: str) -> None:
        parse.report_invalid(self.report, chunk, mask, column, message)

    def required_text(self, chunk: pd.DataFrame, name: str, *, max_length: int) -> pd.Series:
        values = parse.text(self.column(chunk, name))
        self.invalid(chunk, values.eq(""), name, f"{name} is required")
        too_long = values.str.len() > max_length
        self.invalid(chunk, too_long, name, f"{name} is longer than {max_length} characters")
        return values

    def optional_text(self, chunk: pd.DataFrame, name: str, *, max_length: int) -> pd.Series:
        return parse.text(self.column(chunk, name), max_length=max_length)

    def number(
        self, chunk: pd.DataFrame, name: str, *, required: bool = False, minimum: float | None = 0, maximum=None
    ) -> pd.Series:
        values, invalid = parse.number(self.column(chunk, name))
        self.invalid(chunk, invalid, name, f"{name} is not a number: {{value!r}}")
        if required:
            self.invalid(chunk, values.isna() & ~invalid, name, f"{name} is required")
        if minimum is not None:
            self.invalid(
                chunk,
                values < minimum,
                name,
                f"{name} must not be negative: {{value}}"
                if minimum == 0
                else f"{name} must be at least {minimum}: {{value}}",
            )
        if maximum is not None:
            self.invalid(chunk, values > maximum, name, f"{name} must be at most {maximum}: {{value}}")
        return values

    def integer(self, chunk: pd.DataFrame, name: str, *, required: bool = False, minimum: int | None = 0) -> pd.Series:
        values, invalid = parse.integer(self.column(chunk, name))
        self.invalid(chunk, invalid, name, f"{name} is not a whole number: {{value!r}}")
        if required:
            self.invalid(chunk, values.isna() & ~invalid, name, f"{name} is required")
        if minimum is not None:
            self.invalid(chunk, (values < minimum).fillna(False), name, f"{name} must be at least {minimum}: {{value}}")
        return values

    def timestamp(self, chunk: pd.DataFrame, name: str, *, required: bool = True) -> pd.Series:
        values, invalid = parse.timestamp(self.column(chunk, name), timezone=self.merchant.timezone)
        self.invalid(chunk, invalid, name, f"{name} is not a date and time: {{value!r}}")
        if required:
            self.invalid(chunk, values.isna() & ~invalid, name, f"{name} is required")
        return values

    def date(self, chunk: pd.DataFrame, name: str, *, required: bool = True) -> pd.Series:
        values, invalid = parse.date(self.column(chunk, name))
        self.invalid(chunk, invalid, name, f"{name} is not a date: {{value!r}}")
        if required:
            self.invalid(chunk, values.isna() & ~invalid, name, f"{name} is required")
        return values

    def choice(self, chunk: pd.DataFrame, name: str, *, choices: set[str], default: str | None) -> pd.Series:
        values = parse.text(self.column(chunk, name)).str.lower()
        if default is not None:
            values = values.mask(values.eq(""), default)
        allowed = ", ".join(sorted(choices))
        self.invalid(chunk, ~values.isin(choices), name, f"{name} must be one of {allowed}: {{value!r}}")
        return values

    def known(self, chunk: pd.DataFrame, keys: pd.Series, ids: dict[str, int], name: str, what: str) -> pd.Series:
        """Maps keys to ids; a non-blank key without an id is a row error ("unknown SKU ...")."""
        mapped = keys.map(ids)
        self.invalid(chunk, mapped.isna() & keys.ne(""), name, f"unknown {what} {{value!r}}")
        return mapped.astype("Int64")

    def rows(self, chunk: pd.DataFrame) -> pd.Series:
        return chunk[ROW_COLUMN]
