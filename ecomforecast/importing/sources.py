"""Reading import files in bounded memory: CSV (optionally gzipped) and Parquet, in chunks of rows.

CSV cells are read as text (blank = ""), Parquet columns keep their types; the parsers in
:mod:`ecomforecast.importing.parsing` accept both.
"""

from __future__ import annotations

import codecs
import gzip
import io
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import pyarrow.parquet as pq

CHUNK_ROWS = 100_000
ROW_COLUMN = "__row"
_SCAN_BLOCK_BYTES = 1 << 20


class UnreadableFile(Exception):
    """The file cannot be read at all (unknown type, not UTF-8, not CSV); ``row`` locates the problem if known."""

    def __init__(self, message: str, *, row: int = 0):
        super().__init__(message)
        self.row = row


@dataclass
class Source:
    """One input: a file or an in-memory frame, with its column names and (estimated) number of data rows."""

    name: str
    columns: list[str]
    total_rows: int | None
    path: pathlib.Path | None = None
    frame: pd.DataFrame | None = None
    encoding: str = "utf-8-sig"
    # Set when the file is not UTF-8 but was opened with the Windows-1252 fallback: what is wrong, and where.
    not_utf8: UnreadableFile | None = None

    def chunks(self, chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
        """Frames of at most ``chunk_rows`` (default CHUNK_ROWS) rows with stripped column names and ROW_COLUMN
        (the 1-based row number)."""
        first_row = 1
        for chunk in self._raw_chunks(chunk_rows or CHUNK_ROWS):
            chunk = chunk.rename(columns=lambda name: str(name).strip())
            chunk = chunk.reset_index(drop=True)
            chunk[ROW_COLUMN] = pd.RangeIndex(first_row, first_row + len(chunk))
            first_row += len(chunk)
            yield chunk

    def _raw_chunks(self, chunk_rows: int) -> Iterator[pd.DataFrame]:
        if self.frame is not None:
            for start in range(0, len(self.frame), chunk_rows):
                yield self.frame.iloc[start : start + chunk_rows].copy()
            return
        assert self.path is not None
        if _is_parquet(self.path):
            parquet = pq.ParquetFile(self.path)
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
            return
        with _open_binary(self.path) as raw:
            text = io.TextIOWrapper(raw, encoding=self.encoding, newline="")
            try:
                yield from pd.read_csv(text, dtype=str, na_filter=False, chunksize=chunk_rows, skipinitialspace=False)
            except pd.errors.ParserError as error:
                raise UnreadableFile(f"{self.name}: not a readable CSV file ({error})") from error


def open_source(path: pathlib.Path, *, latin1_fallback: bool = False) -> Source:
    """Reads the header and counts the rows; checks that a CSV file is UTF-8 (or falls back to Windows-1252)."""
    name = path.name
    if not path.is_file():
        raise UnreadableFile(f"{name}: no such file")
    if _is_parquet(path):
        try:
            parquet = pq.ParquetFile(path)
        except Exception as error:
            raise UnreadableFile(f"{name}: not a readable Parquet file ({error})") from error
        return Source(
            name=name,
            columns=[c.strip() for c in parquet.schema_arrow.names],
            total_rows=parquet.metadata.num_rows,
            path=path,
        )
    if not name.lower().endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        raise UnreadableFile(f"{name}: unsupported file type (use .csv, .csv.gz or .parquet)")
    encoding = "utf-8-sig"
    not_utf8 = None
    line_count, bad_line, bad_byte = _scan_utf8(path)
    if bad_line is not None:
        not_utf8 = UnreadableFile(
            f"{name}: not UTF-8 (byte 0x{bad_byte:02X} on line {bad_line + 1}); save the file as UTF-8", row=bad_line
        )
        if not latin1_fallback:
            raise not_utf8
        encoding = "cp1252"
    with _open_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        try:
            header = pd.read_csv(text, dtype=str, nrows=0)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise UnreadableFile(f"{name}: not a readable CSV file ({error})") from error
    columns = [str(column).strip() for column in header.columns]
    return Source(
        name=name, columns=columns, total_rows=max(line_count - 1, 0), path=path, encoding=encoding, not_utf8=not_utf8
    )


def frame_source(frame: pd.DataFrame) -> Source:
    return Source(name="data", columns=[str(c).strip() for c in frame.columns], total_rows=len(frame), frame=frame)


def _is_parquet(path: pathlib.Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def _open_binary(path: pathlib.Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")
    return path.open("rb")


def _scan_utf8(path: pathlib.Path) -> tuple[int, int | None, int | None]:
    """(number of lines, 0-based line of the first non-UTF-8 byte or None, that byte) in one streaming pass."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    last_byte = b""
    try:
        with _open_binary(path) as raw:
            while block := raw.read(_SCAN_BLOCK_BYTES):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as error:
                    bad_line = lines + block.count(b"\n", 0, error.start)
                    return lines, bad_line, block[error.start]
                lines += block.count(b"\n")
                last_byte = block[-1:]
    except (OSError, EOFError) as error:
        raise UnreadableFile(f"{path.name}: cannot be read ({error})") from error
    if last_byte and last_byte != b"\n":
        lines += 1
    return lines, None, None
