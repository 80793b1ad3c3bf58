"""A batch file's rows: the two formats (CSV with a header line, JSON Lines), the scan that refuses a malformed
file before anything is stored, and each row checked into an inquiry or a finding.

One row is one line in both formats (a CSV field may not span lines), so a job can resume at the byte offset
of its next row (``rows_from``) without reading what it answered already. Every limit is a constant here
(docs/batch.md, Limits).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from openbureau.batches import errors
from openbureau.consent.profiles import Purpose
from openbureau.consent.schemas import Subject
from openbureau.documents import ID_TYPES, id_problem, normalise_id
from openbureau.kit.errors import BureauError
from openbureau.reports.schemas import InquiryCreate

FORMATS = ("csv", "jsonl")
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
COLUMNS = ("reference", "id_type", "id_number", "name", "birth_date", "purpose", "consent_ref",
           "declared_monthly_income")
REQUIRED = ("reference", "id_type", "id_number", "purpose")
MAX_LINE_BYTES = 4_096  # a row (or the header); a longer line makes the file malformed
MAX_CHARS = {"reference": 64, "id_type": 16, "id_number": 64, "name": 100, "birth_date": 10, "purpose": 32,
             "consent_ref": 64, "declared_monthly_income": 16}
MAX_INCOME = 10**15  # minor units, as online
REFERENCE = re.compile(r"^[A-Za-z0-9._:/-]+$")
BOM = b"\xef\xbb\xbf"
COLUMN_NAME = re.compile(r"^[A-Za-z_]{1,40}$")


class FileMalformed(BureauError):
    """The whole file is refused; nothing of it is stored."""

    status_code = 422
    code = errors.BATCH_FILE_MALFORMED


def file_format(filename: str, declared: str | None = None) -> str:
    """The format the sender named (``?format=``, ``--format``), else the one its name's suffix says."""
    if declared:
        if declared.lower() not in FORMATS:
            raise FileMalformed("unknown format: use csv or jsonl", field="format")
        return declared.lower()
    suffix = filename[filename.rfind("."):].lower() if "." in filename else ""
    if suffix not in SUFFIXES:
        raise FileMalformed("cannot tell the format from the file's name: use .csv, .jsonl or .ndjson, or name "
                            "the format", field="file")
    return SUFFIXES[suffix]


@dataclass(frozen=True, slots=True)
class Layout:
    """How a file's rows are read: its format, its CSV header's columns, and where its first row starts."""

    file_format: str
    columns: tuple[str, ...] | None
    first_row: int


def _lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(offset of the next line, line without its end) for every line of ``stream`` from where it stands;
    a line longer than ``MAX_LINE_BYTES`` makes the file malformed."""
    offset = stream.tell()
    while True:
        line = stream.readline(MAX_LINE_BYTES + 2)
        if not line:
            return
        offset += len(line)
        body = line.rstrip(b"\r\n")
        if len(body) > MAX_LINE_BYTES:
            raise FileMalformed(f"a line is longer than {MAX_LINE_BYTES:,} bytes", field="file")
        yield offset, body


def _text(line: bytes, number: int) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise FileMalformed(f"row {number:,} is not UTF-8 text", field="file") from None


def read_layout(stream: BinaryIO, file_format: str) -> Layout:
    """The layout of the file ``stream`` reads (at its start): a CSV's header is checked here."""
    start = 3 if stream.read(3) == BOM else 0
    stream.seek(start)
    if file_format == "jsonl":
        return Layout("jsonl", None, start)
    for offset, line in _lines(stream):
        if not line.strip():
            continue
        columns = tuple(c.strip() for c in next(csv.reader([_text(line, 0)])))
        _check_columns(columns)
        return Layout("csv", columns, offset)
    raise BureauError("the file holds no header and no row", code=errors.BATCH_FILE_EMPTY, field="file",
                      status_code=422)


def _check_columns(columns) -> None:
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        # Only names that can be nothing but names are repeated: a file without its header line has a row
        # where the header should be, and its values (an identity number, a name) must not reach a message.
        shown = [c for c in unknown if COLUMN_NAME.match(c)][:5]
        more = len(unknown) - len(shown)
        raise BureauError(f"unknown columns (the format has {', '.join(COLUMNS)}): "
                          f"{', '.join(shown) or 'none named'}{f' and {more} not shown' if more else ''}; is the "
                          "header line missing?", code=errors.BATCH_COLUMNS, field="file", status_code=422)
    if len(set(columns)) != len(columns):
        raise BureauError("a column is named twice", code=errors.BATCH_COLUMNS, field="file",
                          status_code=422)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise BureauError(f"required columns missing: {', '.join(missing)}", code=errors.BATCH_COLUMNS,
                          field=missing[0], status_code=422)


def rows_from(stream: BinaryIO, layout: Layout, *, offset: int, number: int
              ) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """(row number, offset of the next row, raw values) of each row from byte ``offset`` on, ``number`` being
    the number of the row found there (1 for the first). Blank lines are no rows."""
    stream.seek(max(offset, layout.first_row))
    width = len(layout.columns) if layout.columns is not None else 0
    for next_offset, line in _lines(stream):
        if not line.strip():
            continue
        text = _text(line, number)
        if layout.columns is not None:
            try:
                fields = next(csv.reader([text], strict=True))
            except csv.Error:
                raise FileMalformed(f"row {number:,} is not a CSV line", field="file") from None
            if len(fields) != width:
                raise FileMalformed(f"row {number:,} has {len(fields)} fields; the header has {width}", field="file")
            values: dict[str, Any] = dict(zip(layout.columns, fields, strict=True))
        else:
            try:
                values = json.loads(text)
            except ValueError:
                raise FileMalformed(f"row {number:,} is not a JSON object", field="file") from None
            if not isinstance(values, dict):
                raise FileMalformed(f"row {number:,} is not a JSON object", field="file")
            unknown = [k for k in values if k not in COLUMNS]
            if unknown:
                raise BureauError(f"row {number:,} has a field the format does not have "
                                  f"(it has {', '.join(COLUMNS)})", code=errors.BATCH_COLUMNS, field="file",
                                  status_code=422)
        yield number, next_offset, values
        number += 1


def scan(stream: BinaryIO, file_format: str, *, max_rows: int) -> tuple[Layout, int]:
    """Read the whole file once, as a job will, and count its rows; refuse it when malformed, empty or over
    ``max_rows`` (413). Rows' values are not judged here: a bad row is a finding of the job, not a refusal."""
    layout = read_layout(stream, file_format)
    rows = 0
    for rows, _, _ in rows_from(stream, layout, offset=layout.first_row, number=1):  # noqa: B007
        if rows > max_rows:
            raise BureauError(f"the file has more than {max_rows:,} rows, the most one batch takes: split it",
                              code=errors.BATCH_TOO_MANY_ROWS, field="file", status_code=413)
    if rows == 0:
        raise BureauError("the file holds no row", code=errors.BATCH_FILE_EMPTY, field="file", status_code=422)
    return layout, rows


@dataclass(frozen=True, slots=True)
class Finding:
    """Why a row cannot be asked: the field at fault and a stable code (never the value)."""

    field: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Row:
    """A row checked: its number, the lender's reference (when well formed), and its inquiry or finding."""

    number: int
    reference: str | None
    request: InquiryCreate | None = None
    finding: Finding | None = None


def _value(values: dict[str, Any], name: str) -> str | None | Finding:
    raw = values.get(name)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return Finding(name, errors.INVALID_VALUE, f"{name} must be text")
    text = str(raw).strip()
    if len(text) > MAX_CHARS[name]:
        return Finding(name, errors.VALUE_TOO_LONG, f"{name} is longer than {MAX_CHARS[name]} characters")
    return text or None


def check_row(number: int, values: dict[str, Any]) -> Row:
    """The inquiry a row asks for, or the first problem of its fields (row number, field, code)."""
    got: dict[str, str | None] = {}
    reference = None
    for name in COLUMNS:
        value = _value(values, name)
        if isinstance(value, Finding):
            return Row(number, reference, finding=value)
        if value is None and name in REQUIRED:
            return Row(number, reference, finding=Finding(name, errors.MISSING_VALUE, f"{name} is required"))
        if name == "reference":
            if not REFERENCE.match(value):
                return Row(number, None, finding=Finding(name, errors.INVALID_REFERENCE, "reference may hold only "
                                                         "A-Z a-z 0-9 . _ : / -"))
            reference = value
        got[name] = value
    if got["id_type"] not in ID_TYPES:
        return Row(number, reference, finding=Finding("id_type", errors.INVALID_ID_TYPE,
                                                      f"id_type must be one of {', '.join(ID_TYPES)}"))
    id_number = normalise_id(got["id_number"])
    problem = id_problem(got["id_type"], id_number)
    if problem is not None:
        return Row(number, reference, finding=Finding("id_number", errors.INVALID_ID_NUMBER,
                                                      f"{problem[0]}: {problem[1]}"))
    if got["birth_date"] is not None:
        try:
            date.fromisoformat(got["birth_date"])
        except ValueError:
            return Row(number, reference, finding=Finding("birth_date", errors.INVALID_DATE,
                                                          "birth_date must be a date YYYY-MM-DD"))
    try:
        purpose = Purpose(got["purpose"])
    except ValueError:
        return Row(number, reference, finding=Finding("purpose", errors.INVALID_PURPOSE, "purpose must be one of "
                                                      + ", ".join(p.value for p in Purpose)))
    income = None
    if got["declared_monthly_income"] is not None:
        if not got["declared_monthly_income"].isdigit() or int(got["declared_monthly_income"]) > MAX_INCOME:
            return Row(number, reference, finding=Finding(
                "declared_monthly_income", errors.INVALID_AMOUNT,
                f"declared_monthly_income must be a whole number of minor units, 0 to {MAX_INCOME:,}"))
        income = int(got["declared_monthly_income"])
    # Built without validating again: every field was checked above, as the online request's schema checks it.
    request = InquiryCreate.model_construct(
        subject=Subject.model_construct(id_type=got["id_type"], id_number=id_number), purpose=purpose,
        consent_ref=got["consent_ref"], declared_monthly_income=income, history_months=24)
    return Row(number, reference, request=request)
