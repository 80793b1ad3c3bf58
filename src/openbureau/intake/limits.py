"""Bounds on what a furnishing file may make the bureau read, and masking of what it may say about it.

Each bound is checked before the bytes it guards are read: the header line and a JSON line are read with
a length limit, a Parquet footer's length is checked from the file's last 8 bytes before it is parsed,
and the uncompressed sizes the footer declares are checked before any data page is decompressed (a
Parquet page can expand a thousandfold). Error messages name the limit, never the file's content.
"""

from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from openbureau.intake import standard
from openbureau.intake.errors import FileRejected
from openbureau.kit.crypto import mask
from openbureau.kit.errors import (
    FILE_DECOMPRESSED_TOO_LARGE,
    FILE_HEADER_TOO_LARGE,
    FILE_TOO_MANY_COLUMNS,
    FILE_UNREADABLE,
)
from openbureau.kit.settings import Settings

HEADER_BYTES = 64 * 2**10  # a header line (or a JSON Lines file's first record)
RECORD_BYTES = 2**20  # one JSON line
CSV_BLOCK_BYTES = 4 * 2**20  # pyarrow's CSV block: a record must fit in one
FOOTER_BYTES = 8 * 2**20  # a Parquet footer (thrift metadata)
UTF8_SAMPLE_BYTES = 2**20  # how much of a file is sampled to tell UTF-8 from another encoding
SHOWN_VALUE_CHARS = 64  # stored findings keep at most this much of a value


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """The settings' bounds on one file, in plain values (they travel to the preparing process)."""

    max_value_chars: int = 1_000
    max_columns: int = 256
    max_decompressed_bytes: int = 4 * 2**30

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadLimits:
        """The limits configured for the bureau."""
        return cls(max_value_chars=settings.max_value_chars, max_columns=settings.max_columns,
                   max_decompressed_bytes=settings.max_decompressed_bytes)


def unreadable(fmt: str) -> FileRejected:
    """The refusal of a file that cannot be parsed (the parser's own message may quote the file: not used)."""
    return FileRejected(f"the file cannot be read as {fmt}: it is damaged or not in that format",
                        code=FILE_UNREADABLE, field="file")


def check_header(columns: list[str], bounds: ReadLimits) -> list[str]:
    """Refuse too many columns or duplicated names (no parser can tell duplicated columns apart)."""
    if len(columns) > bounds.max_columns:
        raise FileRejected(f"the file has {len(columns):,} columns; at most {bounds.max_columns:,} are accepted",
                           code=FILE_TOO_MANY_COLUMNS, field="file")
    repeated = sorted(name for name, n in Counter(columns).items() if n > 1)
    if repeated:
        shown = [name[:SHOWN_VALUE_CHARS] for name in repeated[:10]]
        raise FileRejected(f"column names appear more than once: {', '.join(shown)}",
                           code="FILE_DUPLICATE_COLUMNS", field=shown[0], details={"columns": shown})
    return columns


def header_line(handle: BinaryIO) -> str:
    """The first line, read with a bound, as UTF-8 text."""
    line = handle.readline(HEADER_BYTES + 1)
    if len(line) > HEADER_BYTES:
        raise FileRejected(f"the header line is longer than {HEADER_BYTES:,} bytes",
                           code=FILE_HEADER_TOO_LARGE, field="file")
    return utf8_or_refuse(line)


def utf8_or_refuse(raw: bytes) -> str:
    """``raw`` as text, or the refusal of a file that is not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8() from exc


def not_utf8() -> FileRejected:
    """The refusal of a file in another encoding."""
    return FileRejected("the file is not UTF-8: files sent to the bureau must be UTF-8 (convert it, e.g. from "
                        "GBK or GB18030, and send it again)", code="FILE_NOT_UTF8", field="file")


def check_utf8_sample(handle: BinaryIO) -> None:
    """Refuse a file whose first MiB has non-ASCII records and none of them is UTF-8 (another encoding).

    One bad record among UTF-8 ones is that record's problem (MALFORMED_RECORD), not the file's.
    """
    sample = handle.read(UTF8_SAMPLE_BYTES)
    lines = sample.split(b"\n")
    non_ascii = valid = 0
    for i, line in enumerate(lines):
        if line.isascii():
            continue
        non_ascii += 1
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            decoder.decode(line, final=i < len(lines) - 1)  # the sample may cut its last line mid-character
            valid += 1
        except UnicodeDecodeError:
            continue
    if non_ascii and not valid:
        raise not_utf8()


def bounded_lines(handle: BinaryIO, *, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) of every line; None for a line longer than ``limit`` (skipped, not held)."""
    number = 0
    while line := handle.readline(limit + 1):
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := handle.readline(2**20)) and not rest.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, line


_FLAT = (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary, pa.types.is_large_binary,
         pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal, pa.types.is_date,
         pa.types.is_timestamp, pa.types.is_boolean, pa.types.is_null, pa.types.is_dictionary)


def checked_parquet(handle: BinaryIO, bounds: ReadLimits, *, known: Mapping[str, object] = standard.FIELD_BY_NAME
                    ) -> pq.ParquetFile:
    """A Parquet file whose footer and declared sizes are within bounds, checked before any data is read
    (``known``: the columns of its layout, which must be flat)."""
    size = handle.seek(0, 2)
    if size < 12:
        raise unreadable("parquet")
    handle.seek(size - 8)
    tail = handle.read(8)
    if tail[4:] != b"PAR1":
        raise unreadable("parquet")
    footer = int.from_bytes(tail[:4], "little")
    if footer > FOOTER_BYTES or footer > size - 12:
        raise FileRejected(f"the Parquet footer is {footer:,} bytes; at most {FOOTER_BYTES:,} are accepted",
                           code=FILE_HEADER_TOO_LARGE, field="file")
    handle.seek(0)
    parquet = pq.ParquetFile(handle)
    meta = parquet.metadata
    if meta.num_columns > bounds.max_columns:
        raise FileRejected(f"the file has {meta.num_columns:,} columns; at most {bounds.max_columns:,} are accepted",
                           code=FILE_TOO_MANY_COLUMNS, field="file")
    for column in parquet.schema_arrow:
        if column.name in known and not any(test(column.type) for test in _FLAT):
            raise FileRejected(f"column {column.name} has a nested type; the standard's fields are flat",
                               code=FILE_UNREADABLE, field=column.name)
    total = 0
    # A value is at most max_value_chars characters of at most 4 bytes; a column chunk declaring more than
    # that per row (plus page overhead) holds a value the bureau would refuse: refuse it before inflating it.
    per_row = 4 * bounds.max_value_chars + 16
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        total += group.total_byte_size
        for c in range(group.num_columns):
            chunk = group.column(c)
            if chunk.total_uncompressed_size > group.num_rows * per_row + 2**16:
                raise FileRejected(
                    f"a column of the file declares {chunk.total_uncompressed_size:,} bytes for {group.num_rows:,} "
                    f"records: more than values of at most {bounds.max_value_chars:,} characters can take",
                    code=FILE_DECOMPRESSED_TOO_LARGE, field="file")
    if total > bounds.max_decompressed_bytes:
        raise FileRejected(f"the file declares {total:,} bytes uncompressed; at most "
                           f"{bounds.max_decompressed_bytes:,} are accepted",
                           code=FILE_DECOMPRESSED_TOO_LARGE, field="file")
    return parquet


def masked_value(value: str | None) -> str | None:
    """A value as findings may show it: its first characters (``SHOWN_VALUE_CHARS``), masked in the middle."""
    if value is None:
        return None
    return mask(value[:SHOWN_VALUE_CHARS])


def masked_row(values: list[str | None]) -> str:
    """A record's values as a finding may show them: each masked, the whole cut to a bounded length."""
    shown = ",".join(mask(v[:SHOWN_VALUE_CHARS], keep_start=1, keep_end=1) or "" for v in values if v is not None)
    return shown[:SHOWN_VALUE_CHARS]
