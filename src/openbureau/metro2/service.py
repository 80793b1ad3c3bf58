"""Whole-file operations behind the CLI: a summary of a file as read, and a file from standard columns."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import BinaryIO

from openbureau.metro2.errors import Metro2Error, Metro2ValueError
from openbureau.metro2.mapping import from_standard
from openbureau.metro2.reader import read
from openbureau.metro2.records import Record
from openbureau.metro2.writer import formatted as _formatted
from openbureau.metro2.writer import header, with_trailer, write


@dataclass(slots=True)
class Summary:
    """What a file holds and what is wrong with it."""

    records: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    segments: Counter[str] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    records_with_errors: int = 0
    bytes: int = 0


def summarize(source: str | Path | BinaryIO, *, on_error: object = None) -> Summary:
    """Read a whole file once; ``on_error(error)`` is called for every error as it is found."""
    summary = Summary()
    for record in read(source):
        summary.records += 1
        summary.kinds[record.kind] += 1
        summary.bytes += record.size + len(record.terminator)
        for seg in record.segments[1:]:
            summary.segments[seg.name] += 1
        if record.errors:
            summary.records_with_errors += 1
        for error in record.errors:
            summary.codes[error.code] += 1
            if callable(on_error):
                on_error(error)
    return summary


def errors_of(source: str | Path | BinaryIO) -> Iterator[Metro2Error]:
    """Every error of a file, in file order."""
    for record in read(source):
        yield from record.errors


def write_standard(rows: Iterable[Mapping[str, object]], out: str | Path | BinaryIO, *, furnisher: str,
                   reporter_name: str, activity_date: date, reporter_address: str = "",
                   on_bad_row: Callable[[Metro2ValueError], None] | None = None) -> int:
    """A Metro 2 file (header, one base record per row, trailer) from rows of standard columns; records
    written, header and trailer included. A row whose values cannot be written raises, or, with
    ``on_bad_row``, is left out and passed to it."""
    def records() -> Iterator[Record]:
        yield header(activity_date=activity_date, date_created=date.today(), reporter_name=reporter_name[:40],
                     reporter_address=(reporter_address or "UNKNOWN")[:96])
        for number, row in enumerate(rows, start=1):
            try:
                try:
                    record = from_standard(row, identification_number=furnisher)
                    yield _formatted(record)  # format now, so a bad value names its row
                except Metro2ValueError as exc:
                    raise Metro2ValueError(f"row {number}: {exc.message}", field=exc.field) from exc
                except (ValueError, TypeError) as exc:
                    raise Metro2ValueError(f"row {number}: {exc}") from exc
            except Metro2ValueError as exc:
                if on_bad_row is None:
                    raise
                on_bad_row(exc)

    return write(with_trailer(records()), out)
