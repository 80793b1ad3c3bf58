"""The monthly statement of what a member used: inquiries by purpose (hard and soft), rows of batch jobs,
webhook deliveries and attempts, files and records furnished.

Nothing is counted on the inquiry's path: every figure is one grouped count over a log the bureau keeps
anyway, asked of the domain that owns it (``inquiries.repository``, ``batches.service``,
``monitoring.webhooks``, ``intake.service``) for the calendar month in UTC. A member reads its own statement;
the operator reads anyone's (docs/membership.md).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from openbureau.batches import service as batches
from openbureau.inquiries.repository import member_use
from openbureau.intake import service as intake
from openbureau.kit.errors import NotFound, Unprocessable
from openbureau.kit.spreadsheet import csv_writer
from openbureau.members.errors import MEMBER_NOT_FOUND
from openbureau.members.models import Member
from openbureau.members.service import get_member, members_by_id
from openbureau.metering.errors import MONTH_INVALID, MONTH_NOT_STARTED
from openbureau.metering.schemas import Statement, StatementLine
from openbureau.monitoring import webhooks
from openbureau.principals import Action, Principal, authorize

MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
CSV_COLUMNS = ("member", "month", "product", "measure", "purpose", "kind", "quantity")


def month_bounds(month: str, *, now: datetime) -> tuple[datetime, datetime]:
    """The first moment of ``month`` (YYYY-MM, UTC) and of the next; 422 for a malformed or future month."""
    found = MONTH.match(month or "")
    if found is None:
        raise Unprocessable("the month is YYYY-MM, from 2000-01", code=MONTH_INVALID, field="month")
    year, number = int(found[1]), int(found[2])
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    if start > now:
        raise Unprocessable(f"{month} has not started", code=MONTH_NOT_STARTED, field="month")
    return start, end


def own_statement(session: Session, *, principal: Principal, month: str, now: datetime | None = None) -> Statement:
    """The calling member's statement of ``month``."""
    authorize(principal, Action.READ_OWN_STATEMENT)
    member = members_by_id(session, {principal.member_id}).get(principal.member_id) if principal.member_id else None
    if member is None:
        raise NotFound("no member is calling", code=MEMBER_NOT_FOUND)
    return _statement(session, member, month, now or datetime.now(UTC))


def member_statement(session: Session, *, principal: Principal, code: str, month: str,
                     now: datetime | None = None) -> Statement:
    """Any member's statement of ``month`` (the operator)."""
    authorize(principal, Action.READ_ALL_STATEMENTS)
    return _statement(session, get_member(session, code=code), month, now or datetime.now(UTC))


def _statement(session: Session, member: Member, month: str, now: datetime) -> Statement:
    start, end = month_bounds(month, now=now)
    lines = [StatementLine(product="report", measure="inquiries", purpose=purpose, kind="hard" if hard else "soft",
                           quantity=n)
             for purpose, hard, n in member_use(session, member_id=member.id, start=start, end=end)]
    rows = batches.rows_used(session, member_id=member.id, start=start, end=end)
    attempts = webhooks.attempts_used(session, member_id=member.id, start=start, end=end)
    files, records = intake.furnished_use(session, member_id=member.id, start=start, end=end)
    delivered, tried = attempts.get("delivered", 0), sum(attempts.values())
    lines += [StatementLine(product="batch", measure="rows", quantity=rows),
              StatementLine(product="monitoring", measure="webhook_deliveries", kind="delivered", quantity=delivered),
              StatementLine(product="monitoring", measure="webhook_attempts", kind="all", quantity=tried),
              StatementLine(product="furnishing", measure="files", quantity=files),
              StatementLine(product="furnishing", measure="records", quantity=records)]
    hard = sum(line.quantity for line in lines if line.measure == "inquiries" and line.kind == "hard")
    soft = sum(line.quantity for line in lines if line.measure == "inquiries" and line.kind == "soft")
    return Statement(member_code=member.code, member_name=member.name, month=month, period_start=start,
                     period_end=end, complete=now >= end, generated_at=now, inquiries=hard + soft,
                     hard_inquiries=hard, soft_inquiries=soft, batch_rows=rows, webhook_deliveries=delivered,
                     webhook_attempts=tried, files_furnished=files, records_furnished=records, lines=lines)


def statement_csv(statement: Statement) -> str:
    """The statement as CSV, one line per measure, through the bureau's spreadsheet-safe writer."""
    out = io.StringIO(newline="")
    writer = csv_writer(out)
    writer.writerow(CSV_COLUMNS)
    for line in statement.lines:
        writer.writerow((statement.member_code, statement.month, line.product, line.measure, line.purpose or "",
                         line.kind or "", line.quantity))
    return out.getvalue()
