"""The signed-in person's rights over their own file: their report (within the free quota), who looked at
it, the consents held about them (and revoking one), what lenders hold back for want of their consent, and
their objections to the uses of their file that need no consent (erasure: ``people.erasure``; the export of
everything held: ``people.export``).

Each is a thin rule over the owning domain's service, called with the person's principal: reports
(``prepare_person_report``, ``person_inquiries``), consent (``list_for_person``, ``revoke``) and accounts
(``held_by_furnisher``). Every call is audited under ``PERSON:<person id>``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from openbureau.accounts.service import held_by_furnisher
from openbureau.audit import service as audit
from openbureau.consent import service as consents
from openbureau.consent.models import Consent
from openbureau.consent.profiles import Purpose
from openbureau.inquiries import objections
from openbureau.inquiries.log import SessionLog
from openbureau.kit.crypto import PiiVault
from openbureau.members.service import members_by_id
from openbureau.people.repository import PeopleRepository
from openbureau.people.schemas import ConsentWallet, HeldByLender, ObjectionRead, Objections
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize
from openbureau.reports import service as reports
from openbureau.reports.schemas import PersonInquiry, Report

HELD_FOR_CONSENT = "no_consent"  # the consent gate's held reason (intake.quarantine.NO_CONSENT)


def my_report(session: Session, *, vault: PiiVault, principal: Principal, policy: Policy, history_months: int = 24,
              now: datetime | None = None) -> Report:
    """The person's own report within the profile's free reports (429 ``FREE_REPORTS_USED`` past them),
    logged as a self-inquiry in this write transaction with the person's rows locked, so that two requests
    at once cannot both take the last free one."""
    authorize(principal, Action.READ_OWN_FILE)
    PeopleRepository(session).lock_person(principal.person_id)
    prepared = reports.prepare_person_report(session, vault=vault, principal=principal, policy=policy,
                                             history_months=history_months, now=now)
    return prepared.finish(SessionLog(session).write(prepared.entry))


def my_inquiries(session: Session, *, principal: Principal, policy: Policy, now: datetime | None = None
                 ) -> list[PersonInquiry]:
    """Who looked at the person's file, when, why and on what basis."""
    return reports.person_inquiries(session, principal=principal, policy=policy, now=now)


def my_consents(session: Session, *, vault: PiiVault, principal: Principal, now: datetime | None = None
                ) -> ConsentWallet:
    """Every consent about the person, and per lender the records held back for want of the consent to
    furnish; audited."""
    found = consents.list_for_person(session, principal=principal)
    held = held_by_furnisher(session, principal.person_id, reason=HELD_FOR_CONSENT)
    members = members_by_id(session, {c.grantee_member_id for c in found} | set(held))
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="person.consents_read",
                 person_id=principal.person_id, details={"consents": len(found), "held_lenders": len(held)})
    return ConsentWallet(
        consents=[_read(c, vault=vault, members=members, now=now) for c in found],
        held_for_consent=[HeldByLender(lender=members[f].code if f in members else str(f),
                                       lender_name=members[f].name if f in members else None, records=n)
                          for f, n in sorted(held.items(), key=lambda item: -item[1])])


def revoke_mine(session: Session, *, vault: PiiVault, principal: Principal, consent_id: int, reason: str,
                now: datetime | None = None):
    """Revoke one of the person's consents at once (another's, or an unknown id, answers 404); the consent
    as it now stands."""
    consent = consents.revoke(session, vault=vault, principal=principal, consent_id=consent_id, reason=reason,
                              now=now)
    members = members_by_id(session, {consent.grantee_member_id})
    return _read(consent, vault=vault, members=members, now=now)


def _read(consent: Consent, *, vault: PiiVault, members: dict, now: datetime | None):
    grantee = members.get(consent.grantee_member_id)
    return consents.to_read(consent, vault=vault, grantee_code=grantee.code if grantee else str(consent.grantee_member_id),
                            now=now)


def my_objections(session: Session, *, principal: Principal, policy: Policy) -> Objections:
    """The purposes the person may object to under the profile (with the rule), and their objections."""
    found = objections.list_mine(session, principal=principal)
    profile = policy.profile
    return Objections(jurisdiction=profile.code, objectable={p.value: g for p, g in profile.objection_grounds.items()},
                      note=profile.objection_note, objections=[ObjectionRead.model_validate(o) for o in found])


def object_mine(session: Session, *, vault: PiiVault, principal: Principal, policy: Policy, purpose: Purpose,
                now: datetime | None = None) -> ObjectionRead:
    """Refuse one use of the person's file that needs no consent of theirs, at once (``inquiries.objections``)."""
    return ObjectionRead.model_validate(objections.object_to(session, vault=vault, principal=principal, policy=policy,
                                                             purpose=purpose, now=now))


def withdraw_mine(session: Session, *, vault: PiiVault, principal: Principal, objection_id: int,
                  now: datetime | None = None) -> ObjectionRead:
    """Withdraw one of the person's objections (another's, or an unknown id, answers 404)."""
    return ObjectionRead.model_validate(objections.withdraw(session, vault=vault, principal=principal,
                                                            objection_id=objection_id, now=now))
