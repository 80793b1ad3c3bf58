"""The answer of a batch, one line per row: the lender's reference, the outcome and its code, a summary of
the report, the score with its reason codes, and the codes of the signals that triggered.

Nothing identifies the person beyond what the lender sent: no identity number, name, account number or
other lender's name, only the lender's own row reference (docs/batch.md, The results).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from openbureau.batches.rows import Row
from openbureau.kit.errors import BureauError
from openbureau.kit.spreadsheet import csv_writer
from openbureau.reports.schemas import InquiryResult

ANSWERED, REFUSED, INVALID = "answered", "refused", "invalid"
COLUMNS = ("row", "reference", "outcome", "code", "field", "message", "inquiry_id", "person_found",
           "identity_confirmation_required", "currency", "credit_accounts", "open_accounts", "total_balance",
           "past_due_amount", "monthly_obligations", "worst_status_12m", "worst_status_24m", "hard_inquiries_12m",
           "score", "score_band", "score_model", "reason_codes", "signals")
LISTS = ("reason_codes", "signals")
MAX_MESSAGE = 200


def _empty(row: Row, outcome: str) -> dict[str, Any]:
    return {column: None for column in COLUMNS} | {"row": row.number, "reference": row.reference, "outcome": outcome}


def invalid(row: Row) -> dict[str, Any]:
    """A row whose fields could not be asked: the field at fault and why."""
    finding = row.finding
    return _empty(row, INVALID) | {"code": finding.code, "field": finding.field, "message": finding.message}


def refused(row: Row, exc: BureauError) -> dict[str, Any]:
    """A row refused by the inquiry's own rules (no lawful basis, a freeze, ...): its code and message."""
    return _empty(row, REFUSED) | {"code": exc.code, "field": exc.field, "message": str(exc.message)[:MAX_MESSAGE]}


def answered(row: Row, result: InquiryResult) -> dict[str, Any]:
    """A row answered: the inquiry logged and what the report says, in summary."""
    line = _empty(row, ANSWERED) | {"inquiry_id": result.inquiry_id, "person_found": result.person_found,
                                    "identity_confirmation_required": result.identity_confirmation_required}
    report = result.report
    if report is None:
        return line
    summary = report.summary
    line |= {"currency": summary.currency, "credit_accounts": summary.credit_accounts,
             "open_accounts": summary.open_accounts, "total_balance": summary.total_balance,
             "past_due_amount": summary.past_due_amount, "monthly_obligations": summary.monthly_obligations,
             "worst_status_12m": summary.worst_status_12m, "worst_status_24m": summary.worst_status_24m,
             "hard_inquiries_12m": summary.hard_inquiries_12m,
             "signals": [s.code.value for s in report.signals if s.triggered]}
    if report.score is not None:
        score = report.score
        line |= {"score": score.score, "score_band": score.band, "score_model": score.model_version,
                 "reason_codes": [r.code for r in score.reasons]}
        if not score.scorable:
            line["reason_codes"] = [score.unscorable_reason] if score.unscorable_reason else []
    return line


def to_jsonl(line: dict[str, Any]) -> bytes:
    """One result as a JSON line (the form parts are kept in)."""
    return json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def csv_header() -> bytes:
    """The CSV results' header line."""
    return (",".join(COLUMNS) + "\r\n").encode()


def to_csv(lines: Iterable[dict[str, Any]]) -> bytes:
    """Results as CSV lines (lists joined by ``;``, booleans as true/false, nothing as an empty field), every
    text cell made safe for a spreadsheet (a lender's own reference may start with ``=``)."""
    out = io.StringIO()
    writer = csv_writer(out)
    for line in lines:
        writer.writerow([_cell(line.get(c)) for c in COLUMNS])
    return out.getvalue().encode()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return value  # numbers stay numbers (a negative amount is not a formula)


def render(parts: Iterable[Iterator[bytes]], fmt: str) -> Iterator[bytes]:
    """The results file in ``fmt`` (csv or jsonl) from the parts' JSON lines, a part at a time."""
    if fmt == "csv":
        yield csv_header()
    for part in parts:
        if fmt == "jsonl":
            yield b"".join(part)
        else:
            yield to_csv(json.loads(line) for line in part)
