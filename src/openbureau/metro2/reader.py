"""Streaming Metro 2 reader: every error of every record, located to the byte, never a crash.

The file is read in blocks of a mebibyte, one record at a time, so memory stays bounded whatever its size.
Two framings are read:

* **line framing**: records separated by a line end (LF or CRLF), the usual form of files sent today;
  each line is one record and its record descriptor word (RDW) is checked against the line's length;
* **stream framing**: records back to back with no line end; the RDW says where the next record starts.

A file is in line framing when a line end appears within the first 10,001 bytes. Every byte of the file
belongs to exactly one record (the bytes of a record that cannot be read become an ``unreadable`` record),
and every error names a byte offset inside the file.

Example:
    >>> import io
    >>> [r.kind for r in read(io.BytesIO(b""))]
    []
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import polars as pl

from openbureau.metro2 import semantics
from openbureau.metro2.errors import Metro2Error
from openbureau.metro2.layout import APPENDED, BASE, HEADER, MAX_RECORD_LENGTH, RECORD_LENGTH, TRAILER
from openbureau.metro2.records import Record, read_segment
from openbureau.metro2.totals import Totals

BLOCK = 1 << 20
_LINE_PROBE = MAX_RECORD_LENGTH + 2


class _Input:
    """A window over a binary stream: at most one block plus one record is held at a time."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.buf = b""
        self.pos = 0
        self.base = 0  # file offset of buf[0]
        self.eof = False

    @property
    def offset(self) -> int:
        return self.base + self.pos

    def available(self) -> int:
        return len(self.buf) - self.pos

    def ensure(self, n: int) -> int:
        """Read until ``n`` bytes are available or the stream ends; the bytes available."""
        while self.available() < n and not self.eof:
            chunk = self.stream.read(max(BLOCK, n))
            if not chunk:
                self.eof = True
                break
            self.base += self.pos
            self.buf = self.buf[self.pos:] + chunk
            self.pos = 0
        return self.available()

    def find(self, byte: bytes, limit: int) -> int:
        """Distance to the next ``byte`` within ``limit`` bytes, or -1."""
        self.ensure(limit)
        i = self.buf.find(byte, self.pos, self.pos + limit)
        return -1 if i < 0 else i - self.pos

    def take(self, n: int) -> bytes:
        data = self.buf[self.pos:self.pos + n]
        self.pos += len(data)
        return data


def _open(source: str | Path | BinaryIO) -> tuple[BinaryIO, bool]:
    if isinstance(source, (str, Path)):
        return open(source, "rb"), True  # noqa: SIM115 - closed by the generator
    return source, False


def read(source: str | Path | BinaryIO, *, semantic: bool = True) -> Iterator[Record]:
    """Yield every record of a Metro 2 file with all of its errors (``Record.errors``).

    Args:
        source: a path, or a binary stream positioned at the file's first byte.
        semantic: also run the checks of Metro 2 meaning (``semantics.check_base``) on base segments.

    Returns:
        A generator of ``Record``; file-level errors (header, trailer, totals) are attached to the record
        they concern, ``TRAILER_MISSING`` to the last one.
    """
    stream, owned = _open(source)
    try:
        yield from _records(_Input(stream), semantic)
    finally:
        if owned:
            stream.close()


def _records(inp: _Input, semantic: bool) -> Iterator[Record]:
    line_framing = inp.find(b"\n", _LINE_PROBE) >= 0
    totals = Totals()
    pending: Record | None = None
    number = 0
    seen_trailer = False
    while inp.ensure(1):
        number += 1
        offset = inp.offset
        data, terminator, framing_error = _frame(inp, line_framing)
        record = _parse(data, offset, number, line_framing, framing_error, semantic)
        record.terminator = terminator
        errs = record.errors
        if number == 1 and record.kind != "header":
            errs.append(Metro2Error(number, "record", None, offset, "HEADER_MISSING"))
        elif number > 1 and record.kind == "header":
            errs.append(Metro2Error(number, "header", None, offset, "HEADER_NOT_FIRST"))
        if seen_trailer:
            errs.append(Metro2Error(number, "record", None, offset, "RECORD_AFTER_TRAILER"))
        if record.kind == "base":
            totals.add(record)
        elif record.kind == "trailer":
            seen_trailer = True
            for name in totals.mismatches(record.main):
                errs.append(Metro2Error(number, "trailer", name, offset + TRAILER.field(name).start,
                                        "TRAILER_TOTAL_MISMATCH", record.main[name]))
        if pending is not None:
            yield pending
        pending = record
    if pending is not None:
        if pending.kind != "trailer":
            last = pending.offset + pending.size + len(pending.terminator) - 1
            pending.errors.append(Metro2Error(pending.number, "record", None, max(pending.offset, last),
                                              "TRAILER_MISSING"))
        yield pending


def _frame(inp: _Input, line_framing: bool) -> tuple[bytes, bytes, str | None]:
    """The next record's bytes, its line end and a framing error code, if any."""
    if line_framing:
        end = inp.find(b"\n", _LINE_PROBE)
        if end < 0:
            if inp.eof and inp.available() <= MAX_RECORD_LENGTH + 1:
                data = inp.take(inp.available())
                if data.endswith(b"\r"):
                    return data[:-1], b"\r", None
                return data, b"", None
            return inp.take(MAX_RECORD_LENGTH), b"", "RECORD_TOO_LONG"
        data = inp.take(end)
        inp.take(1)
        if data.endswith(b"\r"):
            return data[:-1], b"\r\n", None
        return data, b"\n", None
    inp.ensure(4)
    head = inp.buf[inp.pos:inp.pos + 4]
    if len(head) == 4 and head.isdigit() and int(head) >= 4:
        length = int(head)
        inp.ensure(length)
        data = inp.take(length)
        return data, b"", "RECORD_TRUNCATED" if len(data) < length else None
    return inp.take(min(RECORD_LENGTH, inp.ensure(RECORD_LENGTH))), b"", "RDW_INVALID"


def _parse(data: bytes, offset: int, number: int, line_framing: bool, framing_error: str | None,
           semantic: bool) -> Record:
    text = data.decode("latin-1")  # one character per byte, so offsets stay byte offsets
    errors: list[Metro2Error] = []
    record = Record("unreadable", [], number, offset, raw=data, size=len(data), errors=errors)
    if framing_error in ("RDW_INVALID", "RECORD_TOO_LONG"):
        errors.append(Metro2Error(number, "record", None, offset, framing_error, text[:4]))
        return record
    rdw = text[:4]
    if not (len(rdw) == 4 and rdw.isascii() and rdw.isdigit() and int(rdw) >= 4):
        errors.append(Metro2Error(number, "record", "record_descriptor_word", offset, "RDW_INVALID", rdw))
    elif framing_error == "RECORD_TRUNCATED":
        errors.append(Metro2Error(number, "record", "record_descriptor_word", offset, framing_error, rdw))
    elif int(rdw) != len(text):
        errors.append(Metro2Error(number, "record", "record_descriptor_word", offset, "RDW_LENGTH_MISMATCH", rdw))
    if len(text) < 5:
        if not errors:
            errors.append(Metro2Error(number, "record", None, offset, "RECORD_TOO_SHORT", text))
        return record
    kind = "header" if text[4:10] == "HEADER" else "trailer" if text[4:11] == "TRAILER" else "base"
    layout = HEADER if kind == "header" else TRAILER if kind == "trailer" else BASE
    if len(text) < RECORD_LENGTH and framing_error != "RECORD_TRUNCATED":
        errors.append(Metro2Error(number, kind, None, offset, "RECORD_TOO_SHORT", ""))
    main = read_segment(layout, text, 0, offset, number, errors)
    if errors and errors[0].field == "record_descriptor_word" and errors[0].segment == "record":
        # the descriptor word's own mistake is reported once, by the framing check
        errors[1:] = [e for e in errors[1:] if e.field != "record_descriptor_word"]
    record.kind, record.segments, record.raw = kind, [main], b""
    pos = RECORD_LENGTH
    while pos < len(text):
        if kind != "base":
            segment = None
        else:
            segment = APPENDED.get(text[pos:pos + 2])
        if segment is None:
            errors.append(Metro2Error(number, kind, None, offset + pos, "SEGMENT_UNKNOWN", text[pos:pos + 2]))
            record.extra = text[pos:]
            break
        if pos + segment.length > len(text):
            errors.append(Metro2Error(number, segment.name, None, offset + pos, "SEGMENT_TRUNCATED", ""))
            record.extra = text[pos:]
            break
        record.segments.append(read_segment(segment, text, pos, offset, number, errors))
        pos += segment.length
    if kind == "base" and semantic:
        def report(code: str, name: str, at: int) -> None:
            errors.append(Metro2Error(number, "base", name, offset + at, code, main.values.get(name, "")))

        semantics.check_base(main.values, report)
    return record


def read_bytes(data: bytes, *, semantic: bool = True) -> list[Record]:
    """Every record of an in-memory Metro 2 file (tests and small files)."""
    return list(read(io.BytesIO(data), semantic=semantic))


def read_frames(source: str | Path | BinaryIO, *, chunk_size: int = 100_000,
                semantic: bool = True) -> Iterator[tuple[pl.DataFrame, list[Metro2Error]]]:
    """Base segments in Polars frames of at most ``chunk_size`` rows (raw field text, one column per base
    field, plus ``record_number``, ``offset`` and the appended segments' names), with the errors of every
    record of the chunk, header and trailer included."""
    rows: list[dict[str, object]] = []
    errors: list[Metro2Error] = []
    for record in read(source, semantic=semantic):
        errors.extend(record.errors)
        if record.kind == "base" and len(record.main) == len(BASE.fields):
            row: dict[str, object] = dict(record.main)
            row["record_number"], row["offset"] = record.number, record.offset
            row["segments"] = ",".join(s.name for s in record.segments[1:])
            rows.append(row)
        if len(rows) >= chunk_size:
            yield pl.DataFrame(rows), errors
            rows, errors = [], []
    if rows or errors:
        yield pl.DataFrame(rows) if rows else pl.DataFrame(), errors


