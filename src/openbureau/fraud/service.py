"""Rules of the fraud domain: what the fraud tables say about one person (read on every inquiry), and the
fraud list (a lender reports confirmed fraud, reads and withdraws its own reports; the person disputes one
through the disputes domain).

A lender may report only a person it has a relationship with (an account in the person's file, or an
inquiry about the person in the last two years): the list is not a place to name strangers. The report's
evidence is kept encrypted; every filing, read and withdrawal is audited; other lenders learn that a lender
reported fraud, never which one (unless the policy says so, ``fraud_list_disclose_reporter``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from openbureau.accounts.service import accounts_of
from openbureau.audit import service as audit
from openbureau.consent.service import subject_indexes
from openbureau.disputes.service import fraud_report_disputes
from openbureau.fraud import repository
from openbureau.fraud.errors import NO_RELATIONSHIP, REPORT_NOT_FOUND, REPORT_WITHDRAWN
from openbureau.fraud.models import ReportStatus
from openbureau.fraud.repository import FraudRepository
from openbureau.fraud.schemas import FraudReportCreate, FraudReportRead
from openbureau.fraud.signals import FraudFacts, ListedReport, RingFacts
from openbureau.identity.errors import PERSON_NOT_FOUND
from openbureau.identity.repository import find_person_by_any
from openbureau.inquiries.repository import InquiryRepository
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from openbureau.principals import Action, Principal, authorize

MAX_PAGE = 500
RELATIONSHIP_DAYS = 730  # an inquiry this recent makes the lender one the person dealt with
_GONE = ("deleted", "corrected")  # dispute outcomes that take a report off the list


def facts_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether the fraud tables name the person of ``person_id`` (a column or parameter of another domain's
    statement) at all: when not, :func:`facts_of` is empty."""
    return repository.facts_exist(person_id)


def facts_of(session: Session, *, person_id: int, now: datetime) -> FraudFacts:
    """The person's ring and the fraud reports in force on their file: one indexed statement, and a second
    only when reports exist (their disputes). A report is left out once withdrawn, once a dispute of it
    ended deleted or corrected, and while a dispute of it is past its deadline unanswered (as any disputed
    item is: docs/disputes.md)."""
    ring, reports = None, []
    for row in FraudRepository.of(session).facts(person_id):
        if row.kind == "ring":
            ring = RingFacts(size=row.a, lenders=row.b, delinquent=row.c, shared_attributes=row.d,
                             linked_by=row.s1, first_seen=row.s2, built_at=row.at)
        else:
            reports.append(ListedReport(id=row.a, furnisher_id=row.b, category=row.s1,
                                        occurred_on=date.fromisoformat(row.s2[:10]), reported_at=row.at))
    if reports:
        disputes = fraud_report_disputes(session, person_id=person_id, report_ids=[r.id for r in reports])
        shown = []
        for r in sorted(reports, key=lambda r: r.id):
            status, outcome, due_at = disputes.get(r.id, (None, None, None))
            if outcome in _GONE or (status == "open" and due_at <= now):
                continue
            shown.append(ListedReport(r.id, r.furnisher_id, r.category, r.occurred_on, r.reported_at,
                                      disputed_until=due_at if status == "open" else None))
        reports = shown
    return FraudFacts(ring=ring, reports=tuple(reports))


def report_fraud(session: Session, *, vault: PiiVault, principal: Principal, data: FraudReportCreate,
                 now: datetime | None = None) -> FraudReportRead:
    """Put confirmed fraud about a person on the fraud list; 404 when the bureau holds no file of the person,
    403 when the lender has no relationship with them; audited."""
    authorize(principal, Action.REPORT_FRAUD, message="fraud is reported by a lender")
    now = now or datetime.now(UTC)
    if data.occurred_on > now.date():
        raise Unprocessable("occurred_on is in the future", code="OCCURRED_IN_FUTURE", field="occurred_on")
    person = find_person_by_any(session, id_type=data.subject.id_type, id_indexes=subject_indexes(vault, data.subject))
    if person is None:
        raise NotFound("the bureau holds no file of this person", code=PERSON_NOT_FOUND, field="subject")
    lender = principal.member_id
    since = now - timedelta(days=RELATIONSHIP_DAYS)
    related = (any(f == lender for f, _ in accounts_of(session, person.id))
               or any(r.subscriber_id == lender for r in InquiryRepository(session).of_person_since(person.id, since)))
    if not related:
        raise Forbidden("you hold no account of this person and made no inquiry about them: only a lender that "
                        "dealt with the person may report fraud", code=NO_RELATIONSHIP, field="subject")
    values = dict(person_id=person.id, furnisher_id=lender, category=data.category.value, occurred_on=data.occurred_on,
                  reference=data.reference, evidence_enc=vault.encrypt_json(data.evidence()),
                  status=ReportStatus.ACTIVE.value, reported_at=now)
    report_id = FraudRepository.of(session).add_report(values)
    audit.record(session, actor_member_id=lender, actor_code=principal.code, action="fraud.report",
                 person_id=person.id, purpose="fraud_prevention",
                 details={"report_id": report_id, "category": data.category.value, "reference": data.reference})
    return FraudReportRead(id=report_id, category=data.category.value, occurred_on=data.occurred_on,
                           reference=data.reference, status=ReportStatus.ACTIVE.value, reported_at=now)


def list_reports(session: Session, *, principal: Principal, after_id: int = 0, limit: int = 100
                 ) -> list[FraudReportRead]:
    """A page of the lender's own reports, in id order; audited."""
    authorize(principal, Action.REPORT_FRAUD)
    if not 1 <= limit <= MAX_PAGE:
        raise Unprocessable(f"limit must be 1 to {MAX_PAGE}", code="INVALID_LIMIT", field="limit")
    rows = FraudRepository.of(session).reports_of(furnisher_id=principal.member_id, after_id=after_id, limit=limit)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="fraud.reports_read",
                 purpose="fraud_prevention", details={"after_id": after_id, "reports": len(rows)})
    return [FraudReportRead(id=r.id, category=r.category, occurred_on=r.occurred_on, reference=r.reference,
                            status=r.status, reported_at=r.reported_at, withdrawn_at=r.withdrawn_at) for r in rows]


def withdraw_report(session: Session, *, principal: Principal, report_id: int, reason: str,
                    now: datetime | None = None) -> FraudReportRead:
    """Withdraw one of the lender's own reports (another lender's is not found); 409 when withdrawn already;
    audited."""
    authorize(principal, Action.REPORT_FRAUD)
    now = now or datetime.now(UTC)
    repo = FraudRepository.of(session)
    row = repo.report(report_id)
    if row is None or row.furnisher_id != principal.member_id:
        raise NotFound(f"no fraud report {report_id} of yours", code=REPORT_NOT_FOUND, field="report_id")
    if not repo.withdraw(report_id=report_id, at=now, reason=reason):
        raise Conflict(f"fraud report {report_id} is withdrawn already", code=REPORT_WITHDRAWN)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="fraud.withdraw",
                 person_id=row.person_id, purpose="fraud_prevention", details={"report_id": report_id})
    return FraudReportRead(id=row.id, category=row.category, occurred_on=row.occurred_on, reference=row.reference,
                           status=ReportStatus.WITHDRAWN.value, reported_at=row.reported_at, withdrawn_at=now)


def reporter_of(session: Session, person_id: int, report_id: int) -> int | None:
    """The lender that reported ``report_id`` about ``person_id`` while it is in force, else None (what the
    disputes domain asks before it files a dispute of a fraud report)."""
    row = FraudRepository.of(session).report(report_id)
    if row is None or row.person_id != person_id or row.status != ReportStatus.ACTIVE.value:
        return None
    return row.furnisher_id
