"""Metro 2 writer: records to the character format, driven by the same field table as the reader.

A record read without errors writes back to the same bytes: its values are the raw field text and its
line end is kept. Values given as ``int`` or ``date`` are formatted (numbers zero-filled on the left,
dates MMDDYYYY, text blank-filled on the right); a value too long for its field raises ``Metro2ValueError``.

Example:
    >>> from openbureau.metro2.errors import Metro2ValueError
from openbureau.metro2.layout import K1
    >>> format_segment(K1, {"segment_identifier": "K1", "original_creditor_name": "ACME", "creditor_classification": 2})
    'K1ACME                          02'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from openbureau.metro2.errors import Metro2ValueError
from openbureau.metro2.layout import APPENDED, BASE, HEADER, TRAILER, Field, Kind, Segment
from openbureau.metro2.records import Record, SegmentValues
from openbureau.metro2.totals import Totals

_MAIN = {"header": HEADER, "base": BASE, "trailer": TRAILER}


def format_field(spec: Field, value: object) -> str:
    """One field's characters."""
    if type(value) is str and len(value) == spec.length:
        return value
    if value is None or value == "":
        text = "" if spec.kind is Kind.ALPHANUMERIC else "0" * spec.length
    elif isinstance(value, date):
        text = f"{value.month:02d}{value.day:02d}{value.year:04d}"
        if spec.kind is Kind.TIMESTAMP:
            text += value.strftime("%H%M%S") if isinstance(value, datetime) else "000000"
    elif isinstance(value, bool):
        raise Metro2ValueError(f"{spec.name}: a flag is written as its code, not as a bool", field=spec.name)
    elif isinstance(value, int):
        if value < 0:
            raise Metro2ValueError(f"{spec.name}: Metro 2 amounts are never negative ({value})", field=spec.name)
        text = str(value).zfill(spec.length)
    else:
        text = str(value)
        if spec.kind is not Kind.ALPHANUMERIC and len(text) < spec.length and text.strip():
            text = text.zfill(spec.length)
    if len(text) > spec.length:
        raise Metro2ValueError(f"{spec.name}: {text!r} is longer than {spec.length} characters", field=spec.name)
    return text.ljust(spec.length)


def format_segment(segment: Segment, values: Mapping[str, object]) -> str:
    """A whole segment's characters."""
    return "".join(format_field(f, values.get(f.name)) for f in segment.fields)


def format_record(record: Record) -> str:
    """A record's characters without its line end; the descriptor word is set to the record's length."""
    if record.kind == "unreadable":
        return record.raw.decode("latin-1")
    main, *appended = record.segments
    parts = [format_segment(_MAIN[record.kind], main.values)]
    for seg in appended:
        values = seg.values if "segment_identifier" in seg.values else {**seg.values, "segment_identifier": seg.name}
        parts.append(format_segment(APPENDED[seg.name], values))
    parts.append(record.extra)
    text = "".join(parts)
    if main.values.get("record_descriptor_word") in (None, ""):
        text = f"{len(text):04d}" + text[4:]
    return text


def write(records: Iterable[Record], out: str | Path | BinaryIO, *, newline: bytes = b"\n") -> int:
    """Write records to a path or binary stream; the number written.

    A record read from a file keeps its own line end (or none, in stream framing); a record built in
    memory (``offset == -1``) ends with ``newline`` (``b""`` for stream framing).
    """
    if isinstance(out, (str, Path)):
        with open(out, "wb") as stream:
            return write(records, stream, newline=newline)
    count = 0
    buffer: list[bytes] = []
    for record in records:
        ending = record.terminator if record.offset >= 0 else newline
        buffer.append(format_record(record).encode("latin-1") + ending)
        count += 1
        if len(buffer) >= 4096:
            out.write(b"".join(buffer))
            buffer.clear()
    out.write(b"".join(buffer))
    return count


def header(**values: object) -> Record:
    """A header record (``record_identifier`` HEADER); the descriptor word is computed."""
    return Record("header", [SegmentValues("header", {"record_identifier": "HEADER", **values})])


def base(values: Mapping[str, object], *appended: tuple[str, Mapping[str, object]]) -> Record:
    """A base record with appended segments given as (``"J1"``, values) pairs, in order."""
    segments = [SegmentValues("base", dict(values))]
    segments += [SegmentValues(name, dict(v)) for name, v in appended]
    return Record("base", segments)


def with_trailer(records: Iterable[Record], **trailer_values: object) -> Iterator[Record]:
    """The records followed by a trailer whose totals count them (streamed: nothing is held)."""
    totals = Totals()
    for record in records:
        if record.kind == "base":
            record = formatted(record)
            totals.add(record)
        yield record
    values: dict[str, object] = {"record_identifier": "TRAILER", **trailer_values, **totals.trailer_values()}
    yield Record("trailer", [SegmentValues("trailer", values)])


def formatted(record: Record) -> Record:
    """The record with every value formatted (counts of ints and dates then match what is written)."""
    segments = []
    for seg in record.segments:
        layout = _MAIN.get(seg.name) or APPENDED[seg.name]
        values = seg.values if seg.name in _MAIN else {"segment_identifier": seg.name, **seg.values}
        formatted = {f.name: format_field(f, values.get(f.name)) for f in layout.fields
                     if f.name != "record_descriptor_word" or values.get(f.name) not in (None, "")}
        segments.append(SegmentValues(seg.name, formatted, seg.offset))
    return Record(record.kind, segments, record.number, record.offset, record.extra, record.terminator)
