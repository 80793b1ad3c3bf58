"""Streaming readers for furnishing files: CSV, JSON Lines, Parquet and Metro 2, in bounded-memory chunks.

Every reader yields Polars frames with the same shape: an ``_line`` column (the record's line in the
file: physical line for CSV and JSON Lines, 1-based row for Parquet) and every column of the standard as
trimmed strings, empty values as null. Validation types them afterwards, so one rule set serves every
format. Records that cannot be parsed (a CSV row with the wrong number of fields, a JSON line that is not
an object, a record that is not UTF-8) or that carry a value past the length limit are reported with
their line and masked values, never silently dropped and never quoted in clear.

Readers read through any seekable binary file object: the bureau's kept files are read through a
decrypting reader (``kit.filecrypt``), so nothing of them is written to disk in clear. Every read is
bounded before it happens (``intake.limits``): the header line, a JSON line, the Parquet footer and its
declared uncompressed sizes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from openbureau.intake import limits, metro2_in, standard
from openbureau.intake.errors import FileRejected
from openbureau.intake.limits import ReadLimits, masked_row, masked_value
from openbureau.kit.errors import FILE_FORMAT_UNKNOWN, FILE_HEADER_TOO_LARGE
from openbureau.kit.filecrypt import open_sealed


class FileFormat(StrEnum):
    """Formats a furnisher may send."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"
    METRO2 = "metro2"  # the CRRG character format (docs/metro2.md), mapped to the standard's columns


_SUFFIXES = {".csv": FileFormat.CSV, ".jsonl": FileFormat.JSONL, ".ndjson": FileFormat.JSONL,
             ".parquet": FileFormat.PARQUET, ".pq": FileFormat.PARQUET, ".m2": FileFormat.METRO2,
             ".metro2": FileFormat.METRO2, ".txt": FileFormat.METRO2}


def detect_format(filename: str, declared: str | None = None) -> FileFormat:
    """The format ``declared`` by the sender (``--format``, ``?format=``), else the one named by the file's
    suffix (``.txt`` is taken as Metro 2, as US furnishers name their files)."""
    if declared:
        try:
            return FileFormat(declared.lower())
        except ValueError:
            raise FileRejected(f"unknown format {declared[:16]!r}: use csv, jsonl, parquet or metro2",
                               code=FILE_FORMAT_UNKNOWN, field="format") from None
    suffix = Path(filename).suffix.lower()
    if suffix not in _SUFFIXES:
        raise FileRejected("cannot tell the format of the file from its name: use .csv, .jsonl, .parquet or "
                           ".m2/.metro2/.txt (Metro 2), or name the format", code=FILE_FORMAT_UNKNOWN, field="file")
    return _SUFFIXES[suffix]


@dataclass(slots=True)
class MalformedRecord:
    """A record the reader could not take: its line, why, and its values masked.

    A Metro 2 file reports every error of a record, and problems of the file itself (its header and
    trailer): ``rejects`` is True for the one finding that counts its record as rejected, False for the
    others; a ``warning`` leaves its record to load.
    """

    line: int
    message: str
    code: str = "MALFORMED_RECORD"
    field: str | None = None
    value: str | None = None
    severity: str = "error"
    rejects: bool = True
    furnisher_account_id: str | None = None


@dataclass(slots=True)
class ChunkReader:
    """Reads one file chunk by chunk; ``columns`` is known after :meth:`open`, ``malformed`` grows as it reads.

    ``keys`` (key id to key) means the file is sealed (``kit.filecrypt``) and is read through decryption.
    """

    path: Path
    format: FileFormat
    chunk_size: int = 100_000
    keys: Mapping[str, bytes] | None = None
    limits: ReadLimits = field(default_factory=ReadLimits)
    layout: standard.Layout = standard.RECORDS  # the field table the file follows
    columns: list[str] = field(default_factory=list)
    malformed: list[MalformedRecord] = field(default_factory=list)

    def _open(self) -> BinaryIO:
        return open_sealed(self.path, keys=self.keys) if self.keys is not None else self.path.open("rb")

    def open(self) -> list[str]:
        """Read and check the column names without reading the records."""
        try:
            with self._open() as handle:
                columns = _HEADERS[self.format](self, handle)
        except FileRejected:
            raise
        except _READ_ERRORS as exc:
            raise limits.unreadable(self.format) from exc
        self.columns = limits.check_header(columns, self.limits)
        return self.columns

    def chunks(self) -> Iterator[pl.DataFrame]:
        """Yield normalised chunks of at most ``chunk_size`` records."""
        if not self.columns:
            self.open()
        try:
            with self._open() as handle:
                for raw in _CHUNKS[self.format](self, handle):
                    yield _normalise(self._screen(raw), self.layout.columns, _PASSED.get(self.format, ()))
        except FileRejected:
            raise
        except _READ_ERRORS as exc:
            raise limits.unreadable(self.format) from exc

    def take_malformed(self) -> list[MalformedRecord]:
        """The records found malformed since the last call (the list is emptied: memory stays bounded)."""
        taken, self.malformed = self.malformed, []
        return taken

    def _screen(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Drop (and report) records that are not UTF-8 or have a value past the length limit."""
        known = self.layout.by_name
        wanted = [c for c in frame.columns if c in known]
        bad_utf8 = pl.Series("bad", [False] * frame.height, dtype=pl.Boolean)
        for name in wanted:
            dtype = frame.schema[name]
            if dtype == pl.Binary:
                decoded, invalid = _decode_utf8(frame[name])
                frame = frame.with_columns(decoded.alias(name))
                bad_utf8 = bad_utf8 | invalid
            elif dtype != pl.String:
                frame = frame.with_columns(pl.col(name).cast(pl.String))
        too_long = pl.any_horizontal([pl.col(c).str.len_chars() > self.limits.max_value_chars for c in wanted]
                                     ) if wanted else pl.lit(False)
        flags = frame.select(bad_utf8.alias("_bad"), too_long.fill_null(False).alias("_long"))
        if not (flags["_bad"].any() or flags["_long"].any()):
            return frame
        flagged = frame.with_columns(flags).filter(pl.col("_bad") | pl.col("_long"))
        for row in flagged.iter_rows(named=True):
            values = [row[c] for c in wanted]
            if row["_bad"]:
                self.malformed.append(MalformedRecord(row["_line"], "the record is not valid UTF-8",
                                                      value=masked_row(values)))
                continue
            name = next(c for c in wanted if row[c] is not None and len(row[c]) > self.limits.max_value_chars)
            self.malformed.append(MalformedRecord(
                row["_line"], f"{name} has {len(row[name]):,} characters; at most "
                f"{self.limits.max_value_chars:,} are accepted", code="VALUE_TOO_LONG", field=name,
                value=masked_value(row[name])))
        return frame.with_columns(flags).filter(~(pl.col("_bad") | pl.col("_long"))).drop("_bad", "_long")


_READ_ERRORS = (pa.ArrowException, pl.exceptions.PolarsError, csv.Error, OSError, ValueError, EOFError, RecursionError,
                OverflowError)


def _decode_utf8(column: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A binary column as text, and which of its values were not UTF-8 (those become null)."""
    arrow = column.to_arrow()
    try:
        return pl.Series(column.name, pc.cast(arrow, pa.large_string())), pl.Series([False] * len(column))
    except pa.ArrowInvalid:
        pass  # some value is not UTF-8: find which, row by row (rare)
    texts, invalid = [], []
    for value in column.to_list():
        try:
            texts.append(None if value is None else value.decode("utf-8"))
            invalid.append(False)
        except UnicodeDecodeError:
            texts.append(None)
            invalid.append(True)
    return pl.Series(column.name, texts, dtype=pl.String), pl.Series(invalid, dtype=pl.Boolean)


def _normalise(frame: pl.DataFrame, columns: tuple[str, ...], passed: tuple[str, ...] = ()) -> pl.DataFrame:
    present = set(frame.columns)
    exprs = []
    for name in columns:
        if name in present:
            value = pl.col(name).cast(pl.String).str.strip_chars()
            exprs.append(pl.when(value == "").then(None).otherwise(value).alias(name))
        else:
            exprs.append(pl.lit(None, dtype=pl.String).alias(name))
    return frame.select(pl.col("_line").cast(pl.Int64), *exprs, *(pl.col(c) for c in passed if c in present))


# --- CSV -------------------------------------------------------------------------------------------

def _csv_header(reader: ChunkReader, handle: BinaryIO) -> list[str]:
    text = limits.header_line(handle).lstrip("\ufeff").rstrip("\r\n")
    if not text.strip():
        raise FileRejected("the CSV file has no header row", code="FILE_NO_HEADER", field="file")
    limits.check_utf8_sample(handle)
    return [c.strip() for c in next(csv.reader([text]))]


def _csv_chunks(reader: ChunkReader, handle: BinaryIO) -> Iterator[pl.DataFrame]:
    skipped: list[int] = []

    def on_invalid(row: pa_csv.InvalidRow) -> str:
        skipped.append(row.number)
        reader.malformed.append(MalformedRecord(
            line=row.number or 0,
            message=f"the row has {row.actual_columns} fields where the header has {row.expected_columns}",
            value=masked_row(next(csv.reader([row.text or ""]), [])),
        ))
        return "skip"

    # Values are read as bytes and checked as UTF-8 per record, so one bad record does not sink the file.
    stream = pa_csv.open_csv(
        handle,
        read_options=pa_csv.ReadOptions(block_size=limits.CSV_BLOCK_BYTES, use_threads=False),
        parse_options=pa_csv.ParseOptions(invalid_row_handler=on_invalid),
        convert_options=pa_csv.ConvertOptions(
            column_types={c: pa.binary() for c in reader.columns},
            strings_can_be_null=False, quoted_strings_can_be_null=False,
        ),
    )
    stream_columns = [c.strip() for c in stream.schema.names]
    next_line = 2  # line 1 is the header
    pending: list[pl.DataFrame] = []
    buffered = 0
    for batch in stream:
        frame = pl.from_arrow(_as_text(batch))
        frame.columns = stream_columns
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


def _as_text(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Binary columns as UTF-8 text where every value is valid (the usual case); others stay binary."""
    arrays = []
    for array in batch.columns:
        if pa.types.is_binary(array.type):
            try:
                array = pc.cast(array, pa.string())
            except pa.ArrowInvalid:
                pass
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


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

def _jsonl_header(reader: ChunkReader, handle: BinaryIO) -> list[str]:
    # JSON Lines has no header: the columns are the keys of the first object (others are checked per record).
    # A file in another encoding is refused whole first: no line of it would read as JSON.
    limits.check_utf8_sample(handle)
    handle.seek(0)
    for _, raw in limits.bounded_lines(handle, limit=limits.HEADER_BYTES):
        if raw is None:
            raise FileRejected(f"the first record is longer than {limits.HEADER_BYTES:,} bytes",
                               code=FILE_HEADER_TOO_LARGE, field="file")
        try:
            first = json.loads(raw) if raw.strip() else None
        except (ValueError, RecursionError):
            continue  # a malformed record, reported as such when the records are read
        if isinstance(first, dict):
            return list(first.keys())
    return list(reader.layout.columns)


def _jsonl_chunks(reader: ChunkReader, handle: BinaryIO) -> Iterator[pl.DataFrame]:
    rows: list[str] = []
    lines: list[int] = []
    for number, raw in limits.bounded_lines(handle, limit=limits.RECORD_BYTES):
        if raw is None:
            reader.malformed.append(MalformedRecord(number, f"the line is longer than {limits.RECORD_BYTES:,} bytes"))
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            reader.malformed.append(MalformedRecord(number, "the line is not valid UTF-8",
                                                    value=masked_value(raw.decode("utf-8", "replace"))))
            continue
        if not text.strip():
            continue
        rows.append(text if text.endswith("\n") else text + "\n")
        lines.append(number)
        if len(rows) >= reader.chunk_size:
            yield _jsonl_frame(reader, rows, lines)
            rows, lines = [], []
    if rows:
        yield _jsonl_frame(reader, rows, lines)


def _jsonl_frame(reader: ChunkReader, rows: list[str], lines: list[int]) -> pl.DataFrame:
    schema = {c: pl.String for c in reader.layout.columns}
    try:
        # The schema bounds the frame's width: keys outside the standard are not read at all.
        frame = pl.read_ndjson(io.StringIO("".join(rows)), schema=schema)
        if frame.height == len(rows):
            return frame.with_columns(pl.Series("_line", lines, dtype=pl.Int64))
    except (pl.exceptions.PolarsError, ValueError):
        pass
    # Some line is not a JSON object (or has a value Polars cannot read as text): find it, keep the rest.
    good_rows, good_lines = [], []
    for text, number in zip(rows, lines, strict=True):
        try:
            value = json.loads(text)
        except (ValueError, RecursionError) as exc:
            message = f"not valid JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "not valid JSON"
            reader.malformed.append(MalformedRecord(number, message, value=masked_value(text.strip())))
            continue
        if not isinstance(value, dict):
            reader.malformed.append(MalformedRecord(number, "the line is not a JSON object",
                                                    value=masked_value(text.strip())))
            continue
        good_rows.append({k: (None if v is None else v if isinstance(v, str) else json.dumps(v))
                          for k, v in value.items() if k in schema})
        good_lines.append(number)
    frame = pl.DataFrame(good_rows, schema=schema) if good_rows else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.Series("_line", good_lines, dtype=pl.Int64))


# --- Parquet ---------------------------------------------------------------------------------------

def _parquet_header(reader: ChunkReader, handle: BinaryIO) -> list[str]:
    parquet = limits.checked_parquet(handle, reader.limits, known=reader.layout.by_name)
    return list(parquet.schema_arrow.names)


def _parquet_chunks(reader: ChunkReader, handle: BinaryIO) -> Iterator[pl.DataFrame]:
    parquet = limits.checked_parquet(handle, reader.limits, known=reader.layout.by_name)
    wanted = [c for c in parquet.schema_arrow.names if c in reader.layout.by_name]
    row = 1
    for batch in parquet.iter_batches(batch_size=reader.chunk_size, columns=wanted):
        frame = pl.from_arrow(batch)
        if isinstance(frame, pl.Series):
            frame = frame.to_frame()
        yield frame.with_columns(pl.int_range(row, row + frame.height, dtype=pl.Int64).alias("_line"))
        row += frame.height


# --- Metro 2 ---------------------------------------------------------------------------------------

def _metro2_header(reader: ChunkReader, handle: BinaryIO) -> list[str]:
    # A Metro 2 file has no column names: its base segments are mapped to every column of the standard.
    metro2_in.check_start(handle)
    return list(reader.layout.columns)


def _metro2_chunks(reader: ChunkReader, handle: BinaryIO) -> Iterator[pl.DataFrame]:
    def report(finding: metro2_in.Metro2Finding) -> None:
        reader.malformed.append(MalformedRecord(
            finding.line, finding.message, code=finding.code, field=finding.field, value=finding.value,
            severity=finding.severity, rejects=finding.rejects, furnisher_account_id=finding.account))

    yield from metro2_in.frames(handle, chunk_size=reader.chunk_size, report=report)


# Columns a format's own reader adds beside the standard's, handed on to the preparer (never a file's own
# column: a CSV column of the same name is an unknown column, dropped like any other).
_PASSED: dict[FileFormat, tuple[str, ...]] = {FileFormat.METRO2: (metro2_in.HISTORY_COLUMN,)}
_HEADERS: dict[FileFormat, Callable[[ChunkReader, BinaryIO], list[str]]] = {
    FileFormat.CSV: _csv_header, FileFormat.JSONL: _jsonl_header, FileFormat.PARQUET: _parquet_header,
    FileFormat.METRO2: _metro2_header,
}
_CHUNKS: dict[FileFormat, Callable[[ChunkReader, BinaryIO], Iterator[pl.DataFrame]]] = {
    FileFormat.CSV: _csv_chunks, FileFormat.JSONL: _jsonl_chunks, FileFormat.PARQUET: _parquet_chunks,
    FileFormat.METRO2: _metro2_chunks,
}


def count_records(path: Path, fmt: FileFormat) -> int:
    """How many records a file in clear holds, cheaply (for progress bars): rows for Parquet, lines
    otherwise; 0 when that cannot be told (the submission says why)."""
    try:
        with path.open("rb") as handle:
            if fmt is FileFormat.PARQUET:
                return limits.checked_parquet(handle, ReadLimits()).metadata.num_rows
            lines = 0
            while block := handle.read(1 << 22):
                lines += block.count(b"\n")
    except (FileRejected, *_READ_ERRORS):
        return 0
    # a CSV file's header line, a Metro 2 file's header and trailer records are not records
    return max(lines - {FileFormat.CSV: 1, FileFormat.METRO2: 2}.get(fmt, 0), 0)
