"""Metro 2 files at intake: the codec's records as chunks of the standard's columns, its errors as findings.

The file is streamed through ``openbureau.metro2.read`` (one block and one record in memory) and each base
segment that reads without an error is mapped by ``metro2.mapping.to_standard``, the one map between the two
formats; the ``metro2_*`` columns it adds are not part of the standard and are not stored, but for the payment
history profile, handed on as ``_history_profile`` and stored with the account state. Every error the
codec reports becomes a finding on the record's number (its ``line``) with the Metro 2 code, the segment and
field, and the byte offset in the file; a record with an error is rejected, warnings leave it to load.
Problems of the file itself (header missing, trailer missing, a trailer total that does not match, an error
in the header or trailer record) are findings of the file that reject no record. Values that could name a
person are masked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import polars as pl

from openbureau.intake import limits, standard
from openbureau.metro2 import read
from openbureau.metro2.errors import Metro2Error
from openbureau.metro2.layout import BASE
from openbureau.metro2.mapping import to_standard
from openbureau.metro2.records import Record

# Codes about the file as a whole: reported on the record they are attached to, which they do not reject.
FILE_LEVEL_CODES = frozenset({"HEADER_MISSING", "TRAILER_MISSING", "TRAILER_TOTAL_MISMATCH"})
# Fields whose value could name or reach a person: shown masked in findings, like the standard's
# personal columns (base, J1 and J2 consumers; the N1 employer).
PERSONAL_FIELDS = frozenset({
    "surname", "first_name", "middle_name", "generation_code", "social_security_number", "date_of_birth",
    "telephone_number", "first_line_of_address", "second_line_of_address", "city", "postal_zip_code",
    "employer_name", "first_line_of_employer_address", "second_line_of_employer_address", "employer_city",
    "employer_postal_zip_code", "occupation", "new_consumer_account_number",
})
_WHOLE_BASE = len(BASE.fields)
# The payment history profile as furnished, handed to the preparer beside the standard's columns and stored
# with the account state (account_states.history_profile); null when it holds no history (all B).
HISTORY_COLUMN = "_history_profile"
NO_HISTORY = "B" * 24
NEGATIVE_HISTORY = "[1-6GLHJK]"  # profile characters that are negative information (past due, collection, ...)


@dataclass(frozen=True, slots=True)
class Metro2Finding:
    """One Metro 2 error as intake reports it."""

    line: int  # the record number (1-based, the header being 1)
    code: str
    severity: str
    field: str | None  # "<segment>.<field>", or the segment when the error concerns it whole
    value: str | None
    message: str
    rejects: bool
    account: str | None  # the base segment's consumer account number, when it has one


def check_start(handle: BinaryIO) -> None:
    """Refuse a file that is not Metro 2 at all: its first four bytes are not a record descriptor word."""
    head = handle.read(4)
    if len(head) < 4 or not (head.isascii() and head.isdigit()):
        raise limits.unreadable("metro2")


def _shown(error: Metro2Error) -> str | None:
    value = error.value
    if value is None or not value.strip():
        return None
    if error.field is None or error.field in PERSONAL_FIELDS:
        return limits.masked_value(value)
    return value.strip()[: limits.SHOWN_VALUE_CHARS]


def finding_of(error: Metro2Error, *, rejects: bool, account: str | None) -> Metro2Finding:
    """An error of the codec as a finding: located to the record, segment, field and byte."""
    where = f"{error.segment}.{error.field}" if error.field else error.segment
    message = f"Metro 2 record {error.record_number}, {where} at byte {error.offset:,}: {error.message}"
    return Metro2Finding(error.record_number, error.code, error.severity, where[:64], _shown(error), message,
                         rejects, account)


def _account(record: Record) -> str | None:
    value = record.main.get("consumer_account_number", "").strip() if record.kind == "base" else ""
    return value[:64] or None


def _report(record: Record, report: Callable[[Metro2Finding], None]) -> bool:
    """Report the record's errors; whether it loads (a whole base segment with no error, warnings aside).

    The first error that rejects a record counts it as rejected; errors of the file, and of its header
    and trailer records, reject none."""
    account = _account(record)
    loads = record.kind == "base" and len(record.main) == _WHOLE_BASE
    counted = False
    for error in record.errors:
        file_level = error.code in FILE_LEVEL_CODES or record.kind in ("header", "trailer")
        rejecting = error.severity == "error" and not file_level
        report(finding_of(error, rejects=rejecting and not counted, account=account))
        if rejecting:
            loads, counted = False, True
    return loads


def frames(handle: BinaryIO, *, chunk_size: int, report: Callable[[Metro2Finding], None]) -> Iterator[pl.DataFrame]:
    """Frames of at most ``chunk_size`` base records in the standard's columns (as text) with ``_line``,
    the record number; every error is passed to ``report`` as it is found. A frame (possibly empty) is
    also yielded after every ``chunk_size`` findings, so that a file of errors is held in bounded memory."""
    handle.seek(0)
    columns = standard.COLUMNS
    rows: list[dict[str, object]] = []
    findings = 0

    def counted(finding: Metro2Finding) -> None:
        nonlocal findings
        findings += 1
        report(finding)

    for record in read(handle):
        if _report(record, counted):
            row = to_standard(record)
            profile = record.main["payment_history_profile"]
            rows.append({"_line": record.number, **{c: row.get(c) for c in columns},  # v1.1 business columns: empty
                         HISTORY_COLUMN: None if profile == NO_HISTORY else profile})
        if len(rows) >= chunk_size or findings >= chunk_size:
            yield _frame(rows)
            rows, findings = [], 0
    if rows or findings:
        yield _frame(rows)


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    schema = {"_line": pl.Int64, **{c: pl.String for c in standard.COLUMNS}, HISTORY_COLUMN: pl.String}
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
