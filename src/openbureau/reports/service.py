"""Rules of inquiries and reports: check the lawful basis, read and assemble the file, log the look.

Every look at a file is logged as an inquiry, with an audit entry when personal data was read, and the log
is written before the answer is returned: in the caller's transaction (``SessionLog``, the default) or by
the serving process's group-commit thread, which returns only once the inquiry is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.audit.service import AuditNote
from openbureau.consent.profiles import HARD_PURPOSES, JurisdictionProfile, Purpose
from openbureau.consent.schemas import Subject
from openbureau.consent.service import subject_indexes
from openbureau.identity.errors import PERSON_NOT_FOUND
from openbureau.identity.repository import PersonRef, find_person_by_any, find_person_by_id
from openbureau.inquiries.access import check_member, lawful_basis
from openbureau.inquiries.log import InquiryLog, LogEntry, SessionLog
from openbureau.inquiries.repository import InquiryRepository
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import INVALID_LIMIT, BureauError, Forbidden, NotFound, Unprocessable
from openbureau.kit.periods import add_years
from openbureau.members.models import Product
from openbureau.members.service import members_by_id
from openbureau.members.standing import permits
from openbureau.notifications import service as notifications
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize
from openbureau.reports.assembly import assemble, read_file
from openbureau.reports.repository import find_person_with_sections
from openbureau.reports.schemas import InquiryCreate, InquiryRead, InquiryResult, PersonInquiry, Report, View
from openbureau.rights.service import FROZEN
from openbureau.signals.schemas import SignalCode

# A freeze refuses reports for new credit only; account reviews, collections and the person's own report go
# on (FCRA §605A(i)(4)).
FROZEN_PURPOSES = frozenset({Purpose.LOAN_ORIGINATION})

MAX_LIMIT = 1_000
ENTERPRISE_BASIS = "enterprise"  # an enterprise's report in the inquiry log (reports.enterprise)


@dataclass(frozen=True, slots=True)
class Prepared:
    """An answer ready to go once its inquiry is logged: ``finish`` it with the logged inquiry's id."""

    entry: LogEntry
    answer: InquiryResult | Report

    def finish(self, inquiry_id: int):
        """The answer, carrying the inquiry's id where it has one."""
        if isinstance(self.answer, InquiryResult):
            return self.answer.model_copy(update={"inquiry_id": inquiry_id})
        return self.answer


def prepare_inquiry(session: Session, *, vault: PiiVault, principal: Principal, request: InquiryCreate,
                    policy: Policy, now: datetime | None = None, product: Product = Product.REPORT) -> Prepared:
    """Check the lawful basis and assemble the subscriber's view; nothing is written (see :func:`inquire`).

    ``product`` is what asks (an online report, a batch's row); the score and the risk signals are left out of
    the report of a member not permitted them (docs/membership.md).
    """
    now = now or datetime.now(UTC)
    check_member(session, principal=principal, purpose=request.purpose, policy=policy, product=product, day=now.date())
    subscriber_id = principal.member_id
    id_indexes = subject_indexes(vault, request.subject)
    person, sections = find_person_with_sections(session, id_type=request.subject.id_type, id_indexes=id_indexes)
    basis = lawful_basis(session, principal=principal, purpose=request.purpose, id_type=request.subject.id_type,
                         id_indexes=id_indexes, consent_ref=request.consent_ref, person=person, policy=policy,
                         moment=now)
    report, confirm = None, False
    if person is not None:
        file = read_file(session, vault=vault, person=person, now=now, policy=policy, subject_indexes=id_indexes,
                         sections=sections)
        if request.purpose in FROZEN_PURPOSES and file.protections.frozen:
            raise Forbidden("the person has frozen their file: no report for new credit until they lift the freeze "
                            "(FCRA §605A(i))", code=FROZEN)
        confirm = file.protections.confirm_identity
        report = assemble(file, view=View.SUBSCRIBER, viewer_id=subscriber_id, vault=vault, now=now, policy=policy,
                          history_months=request.history_months, declared_income=request.declared_monthly_income,
                          session=session)
        report = _permitted_parts(report, principal)
    hard = request.purpose in HARD_PURPOSES
    notices = ()
    if hard and person is not None:  # the person is told of every hard inquiry (docs/rights.md)
        consent = f" on your consent {basis.consent.consent_ref}" if basis.consent else ""
        notices = (notifications.compose(
            vault, kind="inquiry.hard", person_id=person.id, now=now, subject="A lender looked at your credit file",
            body=f"{principal.code} looked at your credit file on {now:%Y-%m-%d %H:%M} UTC for "
                 f"{request.purpose.value}{consent}. If you did not apply for credit, tell the bureau."),)
    entry = LogEntry(
        values=dict(subscriber_id=subscriber_id, person_id=person.id if person else None,
                    purpose=request.purpose.value, hard=int(hard), basis=basis.kind,
                    consent_id=basis.consent.id if basis.consent else None, basis_note=basis.note or None,
                    declared_monthly_income=request.declared_monthly_income, actor_code=principal.code,
                    created_at=now),
        audit=AuditNote(subscriber_id, principal.code, "inquiry.read", person.id, request.purpose.value,
                        _audit_details(basis.describe(), report)) if person is not None else None,
        notices=notices)
    return Prepared(entry, InquiryResult(inquiry_id=0, purpose=request.purpose.value, hard=hard,
                                         basis=basis.describe(), person_found=person is not None,
                                         identity_confirmation_required=confirm, created_at=now, report=report))


def _permitted_parts(report: Report, principal: Principal) -> Report:
    """The report without the parts (scores, signals) the member is not permitted: the credit and fraud-risk
    scores go with the score product."""
    score, signals = permits(principal, Product.SCORE), permits(principal, Product.SIGNALS)
    if score and signals:
        return report
    left_out = [name for name, ok in (("score", score), ("risk signals", signals)) if not ok]
    return report.model_copy(update={
        "score": report.score if score else None, "fraud_score": report.fraud_score if score else None,
        "signals": report.signals if signals else [],
        "notes": [*report.notes, f"Not shown: {' and '.join(left_out)} (not among your permitted products)."]})


def _audit_details(basis: str, report: Report | None) -> dict:
    """What the inquiry's audit entry says: its basis, and how many fraud-list reports it showed (a read of
    the fraud list is audited with the look that made it)."""
    listed = next((s.values.get("reports") for s in report.signals if s.code is SignalCode.FRAUD_LIST and s.triggered),
                  0) if report is not None else 0
    return {"basis": basis, "fraud_list_reports": listed} if listed else {"basis": basis}


def inquire(session: Session, *, vault: PiiVault, principal: Principal, request: InquiryCreate, policy: Policy,
            log: InquiryLog | None = None, now: datetime | None = None) -> InquiryResult:
    """A subscriber's look at a person's file: allowed only on a lawful basis; logged before it is answered.

    Args:
        principal: The subscriber asking.
        policy: The bureau's policy (jurisdiction profile, reciprocity, signal thresholds).
        request: Who, for what purpose, on which consent, with which declared income.
        log: Where the inquiry is logged (default: the caller's transaction).
        now: The moment of the inquiry (default: the clock).

    Returns:
        The inquiry's id and basis, and the subscriber's view of the report (None when no file matched).
    """
    prepared = prepare_inquiry(session, vault=vault, principal=principal, request=request, policy=policy, now=now)
    return prepared.finish((log or SessionLog(session)).write(prepared.entry))


def prepare_own_report(session: Session, *, vault: PiiVault, subject: Subject, principal: Principal,
                       policy: Policy, history_months: int = 24, now: datetime | None = None) -> Prepared:
    """The person's own report and its log entry; nothing is written (see :func:`own_report`)."""
    authorize(principal, Action.SERVE_OWN_REPORT)
    actor_code = principal.code
    if not 1 <= history_months <= 60:
        raise Unprocessable("history_months must be 1 to 60", code="INVALID_HISTORY_MONTHS", field="history_months")
    now = now or datetime.now(UTC)
    indexes = subject_indexes(vault, subject)
    person = find_person_by_any(session, id_type=subject.id_type, id_indexes=indexes)
    if person is None:
        raise NotFound("the bureau holds no file for this person", code=PERSON_NOT_FOUND, field="subject")
    report = full_report(session, vault=vault, person=person, subject_indexes=indexes, policy=policy,
                         history_months=history_months, now=now)
    return Prepared(LogEntry(
        values=dict(subscriber_id=None, person_id=person.id, purpose=Purpose.SELF_INQUIRY.value, hard=0,
                    basis="self", consent_id=None, basis_note=None, declared_monthly_income=None,
                    actor_code=actor_code, created_at=now),
        audit=AuditNote(None, actor_code, "report.self_view", person.id, Purpose.SELF_INQUIRY.value, {"view": "consumer"})),
        report)


def full_report(session: Session, *, vault: PiiVault, person: PersonRef, subject_indexes: tuple[bytes, ...],
                policy: Policy, history_months: int, now: datetime) -> Report:
    """A person's file with everything shown (every lender named, every inquiry with its basis, the records
    linked by probabilistic matching), as the counter serves it; neither authorised nor logged here: the
    caller checked who asks and logs the look (the person's own report, an authority's request)."""
    if not 1 <= history_months <= 60:
        raise Unprocessable("history_months must be 1 to 60", code="INVALID_HISTORY_MONTHS", field="history_months")
    return assemble(read_file(session, vault=vault, person=person, now=now, policy=policy, with_links=True,
                              subject_indexes=subject_indexes),
                    view=View.CONSUMER, viewer_id=None, vault=vault, now=now, policy=policy,
                    history_months=history_months, session=session)


def own_report(session: Session, *, vault: PiiVault, subject: Subject, principal: Principal, policy: Policy,
               history_months: int = 24, log: InquiryLog | None = None, now: datetime | None = None) -> Report:
    """The person's own report, everything shown, requested at the bureau (counter, portal) and served by
    ``principal`` (the operator) once the person's identity was checked; logged as a soft self-inquiry and
    audited."""
    prepared = prepare_own_report(session, vault=vault, subject=subject, principal=principal, policy=policy,
                                  history_months=history_months, now=now)
    return prepared.finish((log or SessionLog(session)).write(prepared.entry))


def list_inquiries(session: Session, *, principal: Principal, limit: int = 100, offset: int = 0) -> list[InquiryRead]:
    """The subscriber's own inquiries, newest first."""
    authorize(principal, Action.LIST_OWN_INQUIRIES)
    if not 1 <= limit <= MAX_LIMIT:
        raise Unprocessable(f"limit must be 1 to {MAX_LIMIT}", code=INVALID_LIMIT, field="limit")
    return [InquiryRead(id=i.id, person_found=i.person_id is not None, enterprise=i.basis == ENTERPRISE_BASIS,
                        purpose=i.purpose, hard=bool(i.hard),
                        basis=i.basis, created_at=i.created_at)
            for i in InquiryRepository(session).of_subscriber(principal.member_id, limit=limit, offset=offset)]


class FreeReportsUsed(BureauError):
    """The person has had every free report of the period; the next one is due when the next period begins."""

    status_code = 429
    code = "FREE_REPORTS_USED"


def free_report_period(profile: JurisdictionProfile, now: datetime) -> tuple[datetime, datetime]:
    """The calendar period of the profile's free-report quota holding ``now``: (its start, the next's start).
    A year runs from 1 January, a week from Monday, 00:00 UTC."""
    now = now.astimezone(UTC)
    if profile.free_report_period == "week":
        start = datetime(now.year, now.month, now.day, tzinfo=UTC) - timedelta(days=now.weekday())
        return start, start + timedelta(days=7)
    if profile.free_report_period == "year":
        return datetime(now.year, 1, 1, tzinfo=UTC), datetime(now.year + 1, 1, 1, tzinfo=UTC)
    raise ValueError(f"unknown free-report period {profile.free_report_period!r}")


def prepare_person_report(session: Session, *, vault: PiiVault, principal: Principal, policy: Policy,
                          history_months: int = 24, now: datetime | None = None) -> Prepared:
    """The signed-in person's own report (everything shown, with the score and what would raise it) within
    the profile's free reports per period, else 429 ``FREE_REPORTS_USED`` naming when the next is due; its
    log entry (a soft self-inquiry, audited) is returned to write, nothing is written here. Run it in the
    transaction that writes the entry, the person's row locked (``people.rights``), so two requests at once
    cannot both take the last free report."""
    authorize(principal, Action.READ_OWN_FILE)
    if not 1 <= history_months <= 60:
        raise Unprocessable("history_months must be 1 to 60", code="INVALID_HISTORY_MONTHS", field="history_months")
    now = now or datetime.now(UTC)
    profile = policy.profile
    start, next_free = free_report_period(profile, now)
    used = InquiryRepository(session).self_inquiries_since(principal.person_id, start)
    if used >= profile.free_reports:
        period = "this year" if profile.free_report_period == "year" else "this week"
        raise FreeReportsUsed(f"you have had your {profile.free_reports} free report(s) {period}; the next free "
                              f"one is due on {next_free:%Y-%m-%d %H:%M} UTC",
                              details={"free_reports": profile.free_reports, "period": profile.free_report_period,
                                       "used": used, "next_free_at": next_free.isoformat()})
    person = find_person_by_id(session, principal.person_id)
    if person is None:
        raise NotFound("the bureau holds no file for you", code=PERSON_NOT_FOUND)
    indexes = tuple(index for id_type, index in sorted(principal.documents) if id_type == person.id_type)
    report = assemble(read_file(session, vault=vault, person=person, now=now, policy=policy, with_links=True,
                                subject_indexes=indexes),
                      view=View.CONSUMER, viewer_id=None, vault=vault, now=now, policy=policy,
                      history_months=history_months, session=session)
    return Prepared(LogEntry(
        values=dict(subscriber_id=None, person_id=person.id, purpose=Purpose.SELF_INQUIRY.value, hard=0,
                    basis="self", consent_id=None, basis_note=None, declared_monthly_income=None,
                    actor_code=principal.code, created_at=now),
        audit=AuditNote(None, principal.code, "report.self_view", person.id, Purpose.SELF_INQUIRY.value,
                        {"view": "consumer", "channel": "portal", "free_report": used + 1})), report)


def person_inquiries(session: Session, *, principal: Principal, policy: Policy, now: datetime | None = None
                     ) -> list[PersonInquiry]:
    """Who looked at the signed-in person's file, when, why and on what basis, over the profile's display
    years, newest first; audited."""
    authorize(principal, Action.READ_OWN_FILE)
    now = now or datetime.now(UTC)
    since = datetime.combine(add_years(now.date(), -policy.profile.inquiry_display_years), now.timetz())
    seen = inquiries_of(session, person_ids=[principal.person_id], since=since)
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="person.inquiries_read",
                 person_id=principal.person_id, details={"inquiries": len(seen)})
    return seen


def inquiries_of(session: Session, *, person_ids: list[int], since: datetime) -> list[PersonInquiry]:
    """Every look at the files of ``person_ids`` since ``since`` as the person sees it, newest first (no
    principal: the caller checked who asks and audits)."""
    repo = InquiryRepository(session)
    rows = sorted((r for p in person_ids for r in repo.of_person_since(p, since)),
                  key=lambda r: (r.created_at, r.id), reverse=True)
    members = members_by_id(session, {r.subscriber_id for r in rows if r.subscriber_id is not None})
    return [PersonInquiry(at=r.created_at, by=members[r.subscriber_id].code if r.subscriber_id else "the bureau",
                          by_name=members[r.subscriber_id].name if r.subscriber_id else None, purpose=r.purpose,
                          hard=bool(r.hard), basis=r.basis, consent_ref=r.consent_ref, note=r.basis_note)
            for r in rows]
