"""Rules of disputes: file one against an item of the person's own file, list them, resolve them.

The deadline is the profile's (CN: 20 days, Credit Reporting Regulation Art. 25; US: 30 days, FCRA
§611(a)(1)). Every filing and resolution is audited. Open disputes appear in the person's report and in the
lender's view of the disputed account.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from openbureau.accounts.service import account_history
from openbureau.audit import service as audit
from openbureau.consent.service import subject_indexes
from openbureau.disputes.models import Dispute, DisputeKind, DisputeOutcome, DisputeStatus
from openbureau.disputes.repository import DisputeRepository
from openbureau.disputes.schemas import DisputeCreate
from openbureau.identity.errors import PERSON_NOT_FOUND
from openbureau.identity.repository import find_person_by_any
from openbureau.inquiries.repository import InquiryRepository
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import (
    ACCOUNT_NOT_FOUND,
    INVALID_LIMIT,
    PERIOD_NOT_FOUND,
    Conflict,
    NotFound,
    Unprocessable,
)
from openbureau.members.repository import MemberRepository
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize

MAX_LIMIT = 1_000


def file_dispute(session: Session, *, vault: PiiVault, data: DisputeCreate, principal: Principal,
                 policy: Policy, now: datetime | None = None) -> Dispute:
    """Record a person's dispute of an item of their own file (the operator at the bureau's counter); its
    deadline follows the policy's profile. Filed and audited under ``principal.code``."""
    authorize(principal, Action.FILE_DISPUTE, message="disputes are recorded by the bureau's operator")
    now = now or datetime.now(UTC)
    person = find_person_by_any(session, id_type=data.subject.id_type,
                                id_indexes=subject_indexes(vault, data.subject))
    if person is None:
        raise NotFound("the bureau holds no file for this person", code=PERSON_NOT_FOUND, field="subject")
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
    dispute = Dispute(
        person_id=person.id, kind=data.kind.value, furnisher_id=furnisher_id,
        furnisher_account_id=data.furnisher_account_id if data.kind is DisputeKind.ACCOUNT else None,
        reporting_period=data.reporting_period if data.kind is DisputeKind.ACCOUNT else None,
        inquiry_id=data.inquiry_id if data.kind is DisputeKind.INQUIRY else None,
        statement_enc=vault.encrypt(data.statement), status=DisputeStatus.OPEN, channel=data.channel,
        filed_by=principal.code, filed_at=now, due_at=now + timedelta(days=policy.profile.dispute_days),
    )
    DisputeRepository(session).add(dispute)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="dispute.file",
                 person_id=person.id, purpose="dispute_handling", details={"dispute_id": dispute.id, "kind": dispute.kind,
                                                      "due_at": dispute.due_at.isoformat()})
    return dispute


def resolve_dispute(session: Session, *, principal: Principal, dispute_id: int, outcome: DisputeOutcome,
                    now: datetime | None = None) -> Dispute:
    """Close an open dispute with its outcome (the operator); audited under ``principal.code``."""
    authorize(principal, Action.MANAGE_DISPUTES, message="disputes are resolved by the bureau's operator")
    dispute = DisputeRepository(session).get(dispute_id)
    if dispute is None:
        raise NotFound(f"no dispute {dispute_id}", code="DISPUTE_NOT_FOUND", field="dispute_id")
    if dispute.status != DisputeStatus.OPEN:
        raise Conflict(f"dispute {dispute_id} is already {dispute.status}", code="DISPUTE_CLOSED")
    dispute.status, dispute.outcome, dispute.resolved_at = DisputeStatus.RESOLVED, outcome.value, now or datetime.now(UTC)
    session.flush()
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="dispute.resolve",
                 person_id=dispute.person_id, purpose="dispute_handling",
                 details={"dispute_id": dispute.id, "outcome": outcome.value})
    return dispute


def list_disputes(session: Session, *, principal: Principal, status: DisputeStatus | None = None,
                  overdue_at: datetime | None = None, limit: int = 100, offset: int = 0) -> list[Dispute]:
    """Disputes by status, or open ones past their deadline at ``overdue_at``; oldest deadline first (the
    operator's queue)."""
    authorize(principal, Action.MANAGE_DISPUTES, message="the dispute queue is the bureau's operator's")
    if not 1 <= limit <= MAX_LIMIT:
        raise Unprocessable(f"limit must be 1 to {MAX_LIMIT}", code=INVALID_LIMIT, field="limit")
    return DisputeRepository(session).search(status=status.value if status else None, overdue_at=overdue_at,
                                             limit=limit, offset=offset)
