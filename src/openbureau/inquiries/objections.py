"""The person's objections: refusing the uses of their file that need no consent of theirs (PIPL Art. 44).

The jurisdiction profile names the purposes a person may object to (``objection_grounds``). The CN profile
has one: a lender's post-loan review of an existing account (``account_review``), the only query it allows
without the person's consent (the existing-customer exception, Credit Reporting Regulation Art. 18 and the
PBoC rules); every other purpose needs a consent, which the person revokes instead, and the CN profile allows
no prescreening to object to. The US profile has none: the FCRA gives no right to object to a permissible
purpose; its one opt-out, from prescreened offers of credit (§604(e)), is the prescreen domain's opt-out
register (``prescreen.optouts``), not an objection.

An objection is in force from the moment it is recorded until the person withdraws it. While it is, the
lawful-basis check (``inquiries.access.lawful_basis``) refuses the exception for that purpose with 403
``OBJECTION_IN_FORCE``; an inquiry on a consent of the person is still answered (the consent is theirs to
revoke). Each step is audited and the person is notified.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.consent.profiles import Purpose
from openbureau.identity.errors import PERSON_NOT_FOUND
from openbureau.identity.repository import find_person_by_id, person_ids
from openbureau.inquiries.errors import OBJECTION_NOT_AVAILABLE, OBJECTION_NOT_FOUND
from openbureau.inquiries.models import Objection
from openbureau.inquiries.repository import ObjectionRepository
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import Conflict, Forbidden, NotFound
from openbureau.notifications import service as notifications
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize

NOTICE_SUBJECT = "Your objections at the credit bureau"


def _person_id(session: Session, principal: Principal) -> int:
    """The signed-in person as they stand now (a merge since the sign-in moved their file to another id)."""
    found = find_person_by_id(session, principal.person_id) if principal.person_id is not None else None
    if found is None:
        raise NotFound("the bureau holds no file for you", code=PERSON_NOT_FOUND)
    return found.id


def object_to(session: Session, *, vault: PiiVault, principal: Principal, policy: Policy, purpose: Purpose,
              now: datetime | None = None) -> Objection:
    """Record the person's objection to ``purpose`` (in force at once); the one in force already, if any.
    403 ``OBJECTION_NOT_AVAILABLE`` naming the rule when the profile gives no objection to it."""
    authorize(principal, Action.OBJECT_TO_PROCESSING)
    now = now or datetime.now(UTC)
    profile = policy.profile
    if purpose not in profile.objection_grounds:
        raise Forbidden(f"no objection to {purpose.value} under the {profile.code} profile: {profile.objection_note}",
                        code=OBJECTION_NOT_AVAILABLE, field="purpose")
    person_id = _person_id(session, principal)
    repo = ObjectionRepository(session)
    current = repo.in_force(person_id=person_id, purpose=purpose.value, moment=now)
    if current is not None:
        return repo.get(current.id)
    objection = Objection(person_id=person_id, purpose=purpose.value, objected_by=principal.code, objected_at=now)
    repo.add(objection)
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="objection.record",
                 person_id=person_id, purpose=purpose.value, details={"objection_id": objection.id})
    _notify(session, vault=vault, person_id=person_id, now=now,
            body=f"From {now:%Y-%m-%d %H:%M} UTC no lender may look at your credit file for {purpose.value} "
                 f"without your consent, as you asked. You may withdraw this objection at any time.")
    return objection


def withdraw(session: Session, *, vault: PiiVault, principal: Principal, objection_id: int,
             now: datetime | None = None) -> Objection:
    """Withdraw one of the person's objections (another's, or an unknown id, answers 404)."""
    authorize(principal, Action.OBJECT_TO_PROCESSING)
    now = now or datetime.now(UTC)
    person_id = _person_id(session, principal)
    objection = ObjectionRepository(session).get(objection_id)
    if objection is None or objection.person_id not in person_ids(session, person_id):
        raise NotFound(f"no objection {objection_id}", code=OBJECTION_NOT_FOUND, field="objection_id")
    if objection.withdrawn_at is not None:
        raise Conflict(f"objection {objection_id} was withdrawn on {objection.withdrawn_at:%Y-%m-%d}",
                       code="OBJECTION_WITHDRAWN")
    objection.withdrawn_at, objection.withdrawn_by = now, principal.code
    session.flush()
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="objection.withdraw",
                 person_id=person_id, purpose=objection.purpose, details={"objection_id": objection.id})
    _notify(session, vault=vault, person_id=person_id, now=now,
            body=f"Your objection to {objection.purpose} was withdrawn on {now:%Y-%m-%d}: a lender that holds an "
                 f"account of yours may again review it as the law allows.")
    return objection


def list_mine(session: Session, *, principal: Principal) -> list[Objection]:
    """Every objection of the signed-in person, newest first; audited."""
    authorize(principal, Action.OBJECT_TO_PROCESSING)
    person_id = _person_id(session, principal)
    found = objections_of(session, person_id=person_id)
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="objection.list",
                 person_id=person_id, details={"objections": len(found)})
    return found


def objections_of(session: Session, *, person_id: int) -> list[Objection]:
    """Every objection of a person, newest first (no principal: the caller checked and audits)."""
    return ObjectionRepository(session).of_person(person_id)


def objected_at(session: Session, *, person_id: int, purpose: Purpose, moment: datetime) -> datetime | None:
    """When the person's objection to ``purpose`` in force at ``moment`` was made; None when there is none."""
    found = ObjectionRepository(session).in_force(person_id=person_id, purpose=purpose.value, moment=moment)
    return None if found is None else found.objected_at


def _notify(session: Session, *, vault: PiiVault, person_id: int, now: datetime, body: str) -> None:
    notifications.enqueue(session, [notifications.compose(vault, kind="objection.changed", subject=NOTICE_SUBJECT,
                                                           body=body, now=now, person_id=person_id)])
