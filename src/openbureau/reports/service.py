"""Rules of inquiries: check the lawful basis, log the inquiry, audit the read, answer with the file."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.consent.profiles import HARD_PURPOSES, JurisdictionProfile
from openbureau.consent.service import subject_index
from openbureau.identity.repository import find_person
from openbureau.intake.models import AccountState
from openbureau.intake.repository import AccountRepository
from openbureau.kit.crypto import PiiVault
from openbureau.members.models import Member
from openbureau.members.repository import MemberRepository
from openbureau.reports.access import check_member, lawful_basis
from openbureau.reports.models import Inquiry
from openbureau.reports.schemas import AccountView, InquiryCreate, InquiryResult


def inquire(session: Session, *, vault: PiiVault, actor: Member, request: InquiryCreate,
            profile: JurisdictionProfile, reciprocity: bool, now: datetime | None = None) -> InquiryResult:
    """A subscriber's look at a person's file: allowed only on a lawful basis; logged and audited."""
    now = now or datetime.now(UTC)
    check_member(session, actor=actor, purpose=request.purpose, reciprocity=reciprocity)
    id_index = subject_index(vault, request.subject)
    person = find_person(session, id_type=request.subject.id_type, id_index=id_index)
    basis = lawful_basis(session, actor=actor, purpose=request.purpose, id_type=request.subject.id_type,
                         id_index=id_index, consent_ref=request.consent_ref, person=person, profile=profile,
                         moment=now)
    inquiry = Inquiry(
        subscriber_id=actor.id, person_id=person.id if person else None, purpose=request.purpose.value,
        hard=int(request.purpose in HARD_PURPOSES), basis=basis.kind,
        consent_id=basis.consent.id if basis.consent else None, basis_note=basis.note or None,
        declared_monthly_income=request.declared_monthly_income, created_at=now,
    )
    session.add(inquiry)
    session.flush()
    accounts: list[AccountView] = []
    if person is not None:
        accounts = subscriber_view(session, viewer_id=actor.id,
                                   states=AccountRepository(session).current_states(person_id=person.id))
        audit.record(session, actor_member_id=actor.id, actor_code=actor.code, action="inquiry.read",
                     person_id=person.id, purpose=request.purpose.value,
                     details={"inquiry_id": inquiry.id, "basis": basis.describe()})
    return InquiryResult(inquiry_id=inquiry.id, purpose=inquiry.purpose, hard=bool(inquiry.hard),
                         basis=basis.describe(), person_found=person is not None, accounts=accounts,
                         created_at=now)


def subscriber_view(session: Session, *, viewer_id: int, states: list[AccountState]) -> list[AccountView]:
    """Accounts as a lender sees them: its own under its code, other lenders' names masked (as the PBoC's
    bank version of the report does), negative status furnished without a notice held back."""
    codes = {m.id: m.code for m in MemberRepository(session).all()}
    others: dict[int, str] = {}
    views = []
    for s in sorted(states, key=lambda s: (s.opened_on, s.furnisher_id, s.furnisher_account_id)):
        own = s.furnisher_id == viewer_id
        lender = codes.get(s.furnisher_id, "?") if own else others.setdefault(
            s.furnisher_id, f"Lender {len(others) + 1}")
        held = bool(s.negative_held)
        views.append(AccountView(
            lender=lender, own_account=own, product_type=s.product_type, opened_on=s.opened_on,
            currency=s.currency, credit_limit=s.credit_limit, original_amount=s.original_amount,
            balance=s.balance, amount_due=s.amount_due, past_due_amount=0 if held else s.past_due_amount,
            days_past_due=0 if held else s.days_past_due, payment_status="#" if held else s.payment_status,
            account_status=s.account_status, reporting_period=s.reporting_period,
        ))
    return views
