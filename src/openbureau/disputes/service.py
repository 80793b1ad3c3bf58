"""Rules of disputes: file one against an item of the person's own file, list them, resolve them.

The deadline is the profile's (CN: 20 days, Credit Reporting Regulation Art. 25; US: 30 days, FCRA
§611(a)(1)). A dispute of an account (or one month of it) makes an investigation task for its furnisher
(``disputes.investigation``), which answers it. Every filing and resolution is audited, and the person is
owed a notice of each (``notices.notify_person``). Open disputes appear in the person's report and in the
lender's view of the disputed account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from openbureau.accounts.service import account_history
from openbureau.audit import service as audit
from openbureau.consent.schemas import Subject
from openbureau.consent.service import subject_indexes
from openbureau.disputes.models import (
    BlockReason,
    Dispute,
    DisputeKind,
    DisputeOutcome,
    DisputeStatus,
    DisputeTask,
    ItemBlock,
    TaskStatus,
)
from openbureau.disputes.repository import DisputeRepository
from openbureau.disputes.schemas import DisputeCreate
from openbureau.identity.errors import PERSON_NOT_FOUND
from openbureau.identity.repository import PersonRef, find_person_by_any, find_person_by_id
from openbureau.inquiries.repository import InquiryRepository
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import (
    ACCOUNT_NOT_FOUND,
    INVALID_LIMIT,
    PERIOD_NOT_FOUND,
    Conflict,
    Forbidden,
    NotFound,
    Unprocessable,
)
from openbureau.members.repository import MemberRepository
from openbureau.notices import Milestone, notify_person
from openbureau.policy import Policy
from openbureau.principals import Action, Kind, Principal, authorize

MAX_LIMIT = 1_000
NOT_YOUR_FILE = "NOT_YOUR_FILE"
# Who reported fraud report ``report_id`` about person ``person_id`` (its lender's member id), or None when no
# such report in force is on the person's file: the fraud domain's answer (``fraud.service.reporter_of``),
# handed in by the adapter because the fraud domain sits above this one.
FraudReports = Callable[[Session, int, int], int | None]


def file_dispute(session: Session, *, vault: PiiVault, data: DisputeCreate, principal: Principal,
                 policy: Policy, now: datetime | None = None, fraud_reports: FraudReports | None = None) -> Dispute:
    """Record a person's dispute of an item of their own file (the person, identified by ``data.subject``, or
    the operator at the bureau's counter); its deadline follows the policy's profile. Filed and audited under
    ``principal.code``. A fraud report is disputed only where the caller says whose it is (``fraud_reports``)."""
    authorize(principal, Action.FILE_DISPUTE, message="a dispute is the person's, filed by them or at the counter")
    now = now or datetime.now(UTC)
    person = whose_file(session, vault=vault, principal=principal, subject=data.subject)
    furnisher_id = None
    if data.kind is DisputeKind.ACCOUNT:
        if not (data.lender and data.furnisher_account_id):
            raise Unprocessable("an account dispute names the lender and its account number",
                                code="ACCOUNT_REQUIRED", field="furnisher_account_id")
        lender = MemberRepository(session).by_code(data.lender)
        states = [] if lender is None else account_history(
            session, furnisher_id=lender.id, furnisher_account_id=data.furnisher_account_id)
        if not any(s.person_id == person.id for s in states):
            raise NotFound(f"no account {data.furnisher_account_id} of {data.lender} in this person's file",
                           code=ACCOUNT_NOT_FOUND, field="furnisher_account_id")
        if data.reporting_period and not any(s.reporting_period == data.reporting_period for s in states):
            raise NotFound(f"the account has no record for {data.reporting_period}", code=PERIOD_NOT_FOUND,
                           field="reporting_period")
        furnisher_id = lender.id
    elif data.kind is DisputeKind.INQUIRY:
        inquiry = InquiryRepository(session).get(data.inquiry_id) if data.inquiry_id else None
        if inquiry is None or inquiry.person_id != person.id:
            raise NotFound("no such inquiry of this person's file", code="INQUIRY_NOT_FOUND", field="inquiry_id")
        furnisher_id = inquiry.subscriber_id
    elif data.kind is DisputeKind.FRAUD_REPORT:
        if fraud_reports is None:
            raise Unprocessable("a fraud report is disputed at the counter or in the person's own disputes",
                                code="FRAUD_REPORT_DISPUTE_UNAVAILABLE", field="kind")
        furnisher_id = fraud_reports(session, person.id, data.fraud_report_id) if data.fraud_report_id else None
        if furnisher_id is None:
            raise NotFound("no such fraud report on this person's file", code="FRAUD_REPORT_NOT_FOUND",
                           field="fraud_report_id")
    dispute = Dispute(
        person_id=person.id, kind=data.kind.value, furnisher_id=furnisher_id,
        furnisher_account_id=data.furnisher_account_id if data.kind is DisputeKind.ACCOUNT else None,
        reporting_period=data.reporting_period if data.kind is DisputeKind.ACCOUNT else None,
        inquiry_id=data.inquiry_id if data.kind is DisputeKind.INQUIRY else None,
        fraud_report_id=data.fraud_report_id if data.kind is DisputeKind.FRAUD_REPORT else None,
        statement_enc=vault.encrypt(data.statement), status=DisputeStatus.OPEN, channel=data.channel,
        filed_by=principal.code, filed_at=now, due_at=now + timedelta(days=policy.profile.dispute_days),
    )
    repo = DisputeRepository(session)
    repo.add(dispute)
    details = {"dispute_id": dispute.id, "kind": dispute.kind, "due_at": dispute.due_at.isoformat()}
    if data.kind is DisputeKind.ACCOUNT:  # the furnisher investigates its own data (FCRA §611(a)(2))
        task = DisputeTask(dispute_id=dispute.id, furnisher_id=furnisher_id, person_id=person.id,
                           furnisher_account_id=dispute.furnisher_account_id,
                           reporting_period=dispute.reporting_period, due_at=dispute.due_at,
                           status=TaskStatus.OPEN, created_at=now)
        repo.add_task(task)
        details["task_id"] = task.id
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="dispute.file",
                 person_id=person.id, purpose="dispute_handling", details=details)
    notify_person(session, vault=vault, person_id=person.id, milestone=Milestone.DISPUTE_FILED,
                  details={"dispute_id": dispute.id, "due_at": dispute.due_at.isoformat()}, now=now)
    return dispute


def resolve_dispute(session: Session, *, vault: PiiVault, principal: Principal, dispute_id: int,
                    outcome: DisputeOutcome, now: datetime | None = None) -> Dispute:
    """Close an open dispute with its outcome (the operator); audited under ``principal.code``.

    The furnisher's open task, if any, is closed with it; ``deleted`` blocks the item from every report, as
    the furnisher's own ``deleted`` answer does."""
    authorize(principal, Action.MANAGE_DISPUTES, message="disputes are resolved by the bureau's operator")
    now = now or datetime.now(UTC)
    repo = DisputeRepository(session)
    dispute = repo.get(dispute_id)
    if dispute is None:
        raise NotFound(f"no dispute {dispute_id}", code="DISPUTE_NOT_FOUND", field="dispute_id")
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict(f"dispute {dispute_id} is already {dispute.status}", code="DISPUTE_CLOSED")
    dispute.status, dispute.outcome, dispute.resolved_at = DisputeStatus.RESOLVED, outcome.value, now
    task = repo.task_of(dispute.id)
    if task is not None and task.status == TaskStatus.OPEN:
        task.status, task.outcome, task.answered_by, task.answered_at = (TaskStatus.CLOSED, outcome.value,
                                                                         principal.code, now)
    if outcome is DisputeOutcome.DELETED and dispute.kind == DisputeKind.ACCOUNT:
        block_item(session, dispute=dispute, principal=principal, now=now)
    session.flush()
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="dispute.resolve",
                 person_id=dispute.person_id, purpose="dispute_handling",
                 details={"dispute_id": dispute.id, "outcome": outcome.value})
    notify_person(session, vault=vault, person_id=dispute.person_id, milestone=Milestone.DISPUTE_ANSWERED,
                  details={"dispute_id": dispute.id, "outcome": outcome.value}, now=now)
    return dispute


def block_item(session: Session, *, dispute: Dispute, principal: Principal, now: datetime) -> None:
    """Keep a disputed account (or its disputed month) out of every report from ``now``."""
    DisputeRepository(session).add_blocks([ItemBlock(
        person_id=dispute.person_id, furnisher_id=dispute.furnisher_id,
        furnisher_account_id=dispute.furnisher_account_id, reporting_period=dispute.reporting_period,
        reason=BlockReason.DISPUTE_DELETED, source_id=dispute.id, blocked_by=principal.code, blocked_at=now)])


def list_disputes(session: Session, *, principal: Principal, status: DisputeStatus | None = None,
                  overdue_at: datetime | None = None, limit: int = 100, offset: int = 0) -> list[Dispute]:
    """Disputes by status, or open ones past their deadline at ``overdue_at``; oldest deadline first (the
    operator's queue)."""
    authorize(principal, Action.MANAGE_DISPUTES, message="the dispute queue is the bureau's operator's")
    if not 1 <= limit <= MAX_LIMIT:
        raise Unprocessable(f"limit must be 1 to {MAX_LIMIT}", code=INVALID_LIMIT, field="limit")
    return DisputeRepository(session).search(status=status.value if status else None, overdue_at=overdue_at,
                                             limit=limit, offset=offset)


def person_of(session: Session, *, vault: PiiVault, subject: Subject) -> PersonRef:
    """The person the subject names; 404 when the bureau holds no file for them."""
    person = find_person_by_any(session, id_type=subject.id_type, id_indexes=subject_indexes(vault, subject))
    if person is None:
        raise NotFound("the bureau holds no file for this person", code=PERSON_NOT_FOUND, field="subject")
    return person


def whose_file(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject | None) -> PersonRef:
    """The person a step of the person's rights concerns: a signed-in person's own file, always (they name no
    subject, and naming one is refused: nobody acts on another's file); the operator names the person."""
    if principal.is_a(Kind.PERSON):
        if subject is not None:
            raise Forbidden("a person acts on their own file only: name no subject", code=NOT_YOUR_FILE)
        person = find_person_by_id(session, principal.person_id) if principal.person_id is not None else None
        if person is None:
            raise NotFound("the bureau holds no file for you", code=PERSON_NOT_FOUND)
        return person
    if subject is None:
        raise Unprocessable("name the person (subject)", code="SUBJECT_REQUIRED", field="subject")
    return person_of(session, vault=vault, subject=subject)


def disputes_of_person(session: Session, *, person_id: int, limit: int = MAX_LIMIT) -> list[Dispute]:
    """The person's disputes (and those of persons merged into them), newest first (no principal: the caller
    checked who asks and audits)."""
    return DisputeRepository(session).of_person(person_id, limit=limit, offset=0)


def fraud_report_disputes(session: Session, *, person_id: int, report_ids: list[int]
                          ) -> dict[int, tuple[str, str | None, datetime]]:
    """The latest dispute of each of the person's fraud reports ``report_ids``: report id -> (status, outcome,
    due_at). No principal: the caller (report assembly) decided who reads the file."""
    return DisputeRepository(session).fraud_report_disputes(person_id=person_id, report_ids=report_ids)
