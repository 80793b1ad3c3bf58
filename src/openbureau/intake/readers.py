"""Streaming readers for furnishing files: CSV, JSON Lines and Parquet, in bounded-memory chunks.

Every reader yields Polars frames with the same shape: an ``_line`` column (the record's line in the
file: physical line for CSV and JSON Lines, 1-based row for Parquet) and every column of the standard as
trimmed strings, empty values as null. Validation types them afterwards, so one rule set serves every
format. Records that cannot be parsed at all (a CSV row with the wrong number of fields, a JSON line that
is not an object) are reported as file-level problems with their line, never silently dropped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from openbureau.intake import standard
from openbureau.intake.errors import FileRejected


class FileFormat(StrEnum):
    """Formats a furnisher may send."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


_SUFFIXES = {".csv": FileFormat.CSV, ".jsonl": FileFormat.JSONL, ".ndjson": FileFormat.JSONL,
             ".parquet": FileFormat.PARQUET, ".pq": FileFormat.PARQUET}


def detect_format(filename: str) -> FileFormat:
    """The format named by the file's suffix."""
    suffix = Path(filename).suffix.lower()
    if suffix not in _SUFFIXES:
        raise FileRejected(
            f"cannot tell the format of {filename!r}: use .csv, .jsonl or .parquet",
            code="FILE_FORMAT_UNKNOWN", field="file",
        )
    return _SUFFIXES[suffix]


@dataclass(slots=True)
class MalformedRecord:
    """A record the reader could not parse."""

    line: int
    message: str
    text: str


@dataclass(slots=True)
class ChunkReader:
    """Reads one file chunk by chunk; ``columns`` is known after :meth:`open`, ``malformed`` grows as it reads."""

    path: Path
    format: FileFormat
    chunk_size: int = 100_000
    encoding: str = "utf-8"
    columns: list[str] = field(default_factory=list)
    malformed: list[MalformedRecord] = field(default_factory=list)

    def open(self) -> list[str]:
        """Read the column names without reading the records."""
        try:
            self.columns = _HEADERS[self.format](self)
        except FileRejected:
            raise
        except (pa.ArrowInvalid, OSError, UnicodeDecodeError, ValueError) as exc:
            raise FileRejected(f"the file cannot be read as {self.format}: {exc}", code="FILE_UNREADABLE",
                               field="file") from exc
        return self.columns

    def chunks(self) -> Iterator[pl.DataFrame]:
        """Yield normalised chunks of at most ``chunk_size`` records."""
        if not self.columns:
            self.open()
        try:
            for raw in _CHUNKS[self.format](self):
                yield _normalise(raw)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise FileRejected(f"the file cannot be read as {self.format}: {exc}", code="FILE_UNREADABLE",
                               field="file") from exc


def _normalise(frame: pl.DataFrame) -> pl.DataFrame:
    present = set(frame.columns)
    exprs = []
    for name in standard.COLUMNS:
        if name in present:
            value = pl.col(name).cast(pl.String).str.strip_chars()
            exprs.append(pl.when(value == "").then(None).otherwise(value).alias(name))
        else:
            exprs.append(pl.lit(None, dtype=pl.String).alias(name))
    return frame.select(pl.col("_line").cast(pl.Int64), *exprs)


# --- CSV -------------------------------------------------------------------------------------------

def _csv_header(reader: ChunkReader) -> list[str]:
    with reader.path.open("rb") as handle:
        first = handle.readline()
    text = first.decode(reader.encoding).lstrip("\ufeff").rstrip("\r\n")
    if not text.strip():
        raise FileRejected("the CSV file has no header row", code="FILE_NO_HEADER", field="file")
    return [c.strip() for c in next(csv.reader([text]))]


def _csv_chunks(reader: ChunkReader) -> Iterator[pl.DataFrame]:
    skipped: list[int] = []

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        skipped.append(row.number)
        reader.malformed.append(MalformedRecord(
            line=row.number or 0,
            message=f"the row has {row.actual_columns} fields where the header has {row.expected_columns}",
            text=(row.text or "")[:200],
        ))
        return "skip"

    stream = pa_csv.open_csv(
        reader.path,
        read_options=pa_csv.ReadOptions(block_size=1 << 22, use_threads=False, encoding=reader.encoding),
        parse_options=pa_csv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pa_csv.ConvertOptions(
            column_types={c: pa.string() for c in reader.columns},
            strings_can_be_null=False, quoted_strings_can_be_null=False,
        ),
    )
    stream_columns = stream.schema.names
    next_line = 2  # line 1 is the header
    pending: list[pl.DataFrame] = []
    buffered = 0
    for batch in stream:
        frame = pl.from_arrow(batch)
        frame.columns = [c.strip() for c in stream_columns]
        lines, next_line = _line_numbers(next_line, frame.height, skipped)
        pending.append(frame.with_columns(pl.Series("_line", lines, dtype=pl.Int64)))
        buffered += frame.height
        while buffered >= reader.chunk_size:
            whole = pl.concat(pending)
            yield whole.head(reader.chunk_size)
            rest = whole.slice(reader.chunk_size)
            pending, buffered = ([rest] if rest.height else []), rest.height
    if buffered:
        yield pl.concat(pending)


def _line_numbers(start: int, count: int, skipped: list[int]) -> tuple[list[int], int]:
    """The physical lines of ``count`` parsed rows from line ``start`` on, stepping over skipped rows."""
    gaps = sorted(n for n in skipped if n >= start)
    lines: list[int] = []
    line = start
    gap_at = 0
    while len(lines) < count:
        if gap_at < len(gaps) and gaps[gap_at] == line:
            gap_at += 1
        else:
            lines.append(line)
        line += 1
    return lines, line


# --- JSON Lines ------------------------------------------------------------------------------------

def _jsonl_header(reader: ChunkReader) -> list[str]:
    # JSON Lines has no header: the columns are the keys of the first object (others are checked per record).
    with reader.path.open("r", encoding=reader.encoding) as handle:
        for line in handle:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(first, dict):
                    return list(first.keys())
    return list(standard.COLUMNS)


def _jsonl_chunks(reader: ChunkReader) -> Iterator[pl.DataFrame]:
    rows: list[str] = []
    lines: list[int] = []
    with reader.path.open("r", encoding=reader.encoding) as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            rows.append(text)
            lines.append(number)
            if len(rows) >= reader.chunk_size:
                yield _jsonl_frame(reader, rows, lines)
                rows, lines = [], []
    if rows:
        yield _jsonl_frame(reader, rows, lines)


def _jsonl_frame(reader: ChunkReader, rows: list[str], lines: list[int]) -> pl.DataFrame:
    schema = {c: pl.String for c in standard.COLUMNS}
    try:
        frame = pl.read_ndjson(io.StringIO("".join(rows)), infer_schema_length=None)
        wanted = [c for c in frame.columns if c in schema]
        if not any(frame.schema[c].is_nested() for c in wanted):
            frame = frame.select(pl.col(wanted).cast(pl.String))
            return frame.with_columns(pl.Series("_line", lines, dtype=pl.Int64))
    except (pl.exceptions.PolarsError, ValueError):
        pass
    # Some line is not a JSON object (or has a value Polars cannot read as text): find it, keep the rest.
    good_rows, good_lines = [], []
    for text, number in zip(rows, lines, strict=True):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            reader.malformed.append(MalformedRecord(number, f"not valid JSON: {exc.msg}", text[:200]))
            continue
        if not isinstance(value, dict):
            reader.malformed.append(MalformedRecord(number, "the line is not a JSON object", text[:200]))
            continue
        good_rows.append({k: (None if v is None else v if isinstance(v, str) else json.dumps(v))
                          for k, v in value.items() if k in schema})
        good_lines.append(number)
    frame = pl.DataFrame(good_rows, schema=schema) if good_rows else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.Series("_line", good_lines, dtype=pl.Int64))


# --- Parquet ---------------------------------------------------------------------------------------

def _parquet_header(reader: ChunkReader) -> list[str]:
    return list(pq.ParquetFile(reader.path).schema_arrow.names)


def _parquet_chunks(reader: ChunkReader) -> Iterator[pl.DataFrame]:
    parquet = pq.ParquetFile(reader.path)
    wanted = [c for c in parquet.schema_arrow.names if c in standard.FIELD_BY_NAME]
    row = 1
    for batch in parquet.iter_batches(batch_size=reader.chunk_size, columns=wanted):
        frame = pl.from_arrow(batch)
        if isinstance(frame, pl.Series):
            frame = frame.to_frame()
        yield frame.with_columns(pl.int_range(row, row + frame.height, dtype=pl.Int64).alias("_line"))
        row += frame.height


_HEADERS: dict[FileFormat, Callable[[ChunkReader], list[str]]] = {
    FileFormat.CSV: _csv_header, FileFormat.JSONL: _jsonl_header, FileFormat.PARQUET: _parquet_header,
}
_CHUNKS: dict[FileFormat, Callable[[ChunkReader], Iterator[pl.DataFrame]]] = {
    FileFormat.CSV: _csv_chunks, FileFormat.JSONL: _jsonl_chunks, FileFormat.PARQUET: _parquet_chunks,
}


def count_records(path: Path, fmt: FileFormat) -> int:
    """How many records the file holds, cheaply (for progress bars): rows for Parquet, lines otherwise."""
    if fmt is FileFormat.PARQUET:
        return pq.ParquetFile(path).metadata.num_rows
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            lines += block.count(b"\n")
    return max(lines - (1 if fmt is FileFormat.CSV else 0), 0)
