"""Who may look at a person's file, for what purpose, on what basis.

Order of checks (each failure is a 403 whose code names what is missing): the subscriber role
(``principals.authorize``); the member's standing (vetted and approved, its licence in force, the product and
the purpose permitted to it: ``members.standing.check_use``); the policy's reciprocity when switched on (only members that furnish may query); a purpose a member may query for; then a consent
of the person to this subscriber for this purpose that is in force, or the profile's documented lawful
exception (CN: post-loan management of an existing account, Art. 18), which needs an account of the
member in the person's file (see ``EXISTING_ACCOUNT_STATUSES``) and no objection of the person to that
purpose in force (PIPL Art. 44; ``inquiries.objections``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Row
from sqlalchemy.orm import Session

from openbureau.accounts.service import has_released_account
from openbureau.consent.errors import CONSENT_NOT_FOUND
from openbureau.consent.models import ConsentStatus, status_at
from openbureau.consent.profiles import Purpose
from openbureau.consent.repository import ConsentRepository
from openbureau.identity.repository import PersonRef
from openbureau.inquiries.errors import OBJECTION_IN_FORCE
from openbureau.inquiries.objections import objected_at
from openbureau.intake.service import has_loaded_submission
from openbureau.kit.errors import Forbidden
from openbureau.members.models import Product
from openbureau.members.standing import check_use
from openbureau.policy import Policy
from openbureau.principals import Action, Kind, Principal, authorize

# The existing-account exception rests only on an account of the member that is part of the person's file
# (released, not held for want of consent), opened before the inquiry, and still in a state the purpose
# concerns: an open account for its review (CN Art. 18 post-loan management; FCRA §604(a)(3)(A)), an open
# or charged-off one for collection.
EXISTING_ACCOUNT_STATUSES: dict[Purpose, tuple[str, ...]] = {
    Purpose.ACCOUNT_REVIEW: ("open",),
    Purpose.COLLECTIONS: ("open", "charged_off"),
}


@dataclass(frozen=True, slots=True)
class Basis:
    """Why an inquiry is lawful."""

    kind: str  # consent | exception
    consent: Row | None  # the consent's terms (consent.repository.TERMS)
    note: str

    def describe(self) -> str:
        """``consent:<ref>`` or the exception relied on."""
        return f"consent:{self.consent.consent_ref}" if self.consent is not None else f"exception: {self.note}"


def check_member(session: Session, *, principal: Principal, purpose: Purpose, policy: Policy,
                 product: Product = Product.REPORT, day: date | None = None) -> None:
    """Role, standing, reciprocity and purpose checks that need no person; ``product`` is what is asked for
    (an online report, a batch's row, a monitoring registration) and ``day`` the inquiry's (default: today)."""
    authorize(principal, Action.INQUIRE)
    check_use(principal, product=product, purpose=purpose.value, day=day or datetime.now(UTC).date())
    if policy.reciprocity and not (principal.is_a(Kind.FURNISHER)
                                   and has_loaded_submission(session, furnisher_id=principal.member_id)):
        raise Forbidden(f"{principal.code} does not furnish data; reciprocity is on: only members that furnish "
                        "may query", code="RECIPROCITY_REQUIRED")
    if policy.grantee_role.get(purpose) != Kind.SUBSCRIBER:
        raise Forbidden(f"a member may not query for {purpose.value}", code="PURPOSE_NOT_ALLOWED", field="purpose")


def lawful_basis(session: Session, *, principal: Principal, purpose: Purpose, id_type: str,
                 id_indexes: tuple[bytes, ...], consent_ref: str | None, person: PersonRef | None, policy: Policy,
                 moment: datetime) -> Basis:
    """The consent (or exception) that makes this inquiry lawful; 403 naming what is missing otherwise.

    ``id_indexes`` are the subject's blind indexes (two during an index key rotation: either may be stored).
    """
    repo = ConsentRepository(session)
    if consent_ref is not None:
        consent = repo.by_ref(grantee_member_id=principal.member_id, consent_ref=consent_ref)
        if consent is None:
            raise Forbidden(f"you hold no consent {consent_ref}", code=CONSENT_NOT_FOUND, field="consent_ref")
        if consent.subject_id_type != id_type or consent.subject_id_index not in id_indexes:
            raise Forbidden(f"consent {consent_ref} is not this person's", code="CONSENT_SUBJECT_MISMATCH",
                            field="consent_ref")
        if consent.purpose != purpose:
            raise Forbidden(f"consent {consent_ref} is for {consent.purpose}, not {purpose.value}",
                            code="CONSENT_PURPOSE_MISMATCH", field="purpose")
        status = status_at(consent, moment)
        if status is not ConsentStatus.ACTIVE:
            raise Forbidden(f"consent {consent_ref} is {status.value}", code=f"CONSENT_{status.value.upper()}",
                            field="consent_ref")
        return Basis("consent", consent, "")
    for id_index in id_indexes:
        consent = repo.in_force(id_type=id_type, id_index=id_index, grantee_member_id=principal.member_id,
                                purpose=purpose, moment=moment)
        if consent is not None:
            return Basis("consent", consent, "")
    exception = policy.profile.existing_customer_exceptions.get(purpose)
    if exception and person is not None and has_released_account(
            session, furnisher_id=principal.member_id, person_id=person.id, moment=moment,
            statuses=EXISTING_ACCOUNT_STATUSES[purpose]):
        # PIPL Art. 44: the person may refuse the uses of their file that need no consent of theirs. Asked only
        # here, so that a member learns of an objection only when it holds an account of the person.
        objected = objected_at(session, person_id=person.id, purpose=purpose, moment=moment)
        if objected is not None:
            raise Forbidden(f"the person objected on {objected:%Y-%m-%d} to {purpose.value} of their file without "
                            "their consent (PIPL Art. 44): ask for their consent", code=OBJECTION_IN_FORCE,
                            field="purpose")
        return Basis("exception", None, exception)
    raise Forbidden(f"no consent of this person to {principal.code} for {purpose.value} is in force",
                    code="CONSENT_REQUIRED", field="consent_ref")
