"""The opt-out register: a person keeps their file off every prescreened list (FCRA §604(e)).

An election made by phone or online lasts the profile's years (US: 5, §604(e)(4)(A)(i)); one made by a signed
notice of election lasts until the person withdraws it (§604(e)(4)(A)(ii)). Each is stored with when it starts
and when it ends (``expires_at``; NULL: permanent), and the person may opt back in at any time (§604(e)(4)(B)),
which ends it at once. A new election replaces the one in force. The person signs in and elects
(``/v1/me/prescreen-opt-out``), or the operator records the call or the signed notice at the bureau's counter
(``openbureau prescreen opt-out``). A profile that allows no prescreening (CN) has nothing to opt out of and
says why. Every step is audited and the person is told.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.consent.schemas import Subject
from openbureau.consent.service import subject_indexes
from openbureau.identity.errors import PERSON_NOT_FOUND
from openbureau.identity.repository import find_person_by_any, find_person_by_id
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import Forbidden, NotFound, Unprocessable
from openbureau.kit.periods import add_years
from openbureau.notifications import service as notifications
from openbureau.policy import Policy
from openbureau.prescreen import errors
from openbureau.prescreen.models import OptOutTerm, PrescreenOptOut
from openbureau.prescreen.repository import OptOutRepository
from openbureau.prescreen.schemas import OptOutRead, OptOutStatus
from openbureau.principals import Action, Kind, Principal, authorize

NOTICE_SUBJECT = "Prescreened offers of credit"


def available(policy: Policy) -> None:
    """403 ``PRESCREEN_NOT_AVAILABLE`` naming the law when the profile allows no prescreening."""
    profile = policy.profile
    if not profile.prescreen_basis:
        raise Forbidden(f"no prescreening under the {profile.code} profile: {profile.prescreen_note}",
                        code=errors.PRESCREEN_NOT_AVAILABLE)


def _person_id(session: Session, vault: PiiVault, principal: Principal, subject: Subject | None) -> int:
    """The person acting (signed in), or the one the operator at the counter names by their document."""
    if principal.is_a(Kind.PERSON):
        found = find_person_by_id(session, principal.person_id) if principal.person_id is not None else None
    elif subject is None:
        raise Unprocessable("name the person by their identity document", code="SUBJECT_REQUIRED", field="subject")
    else:
        found = find_person_by_any(session, id_type=subject.id_type, id_indexes=subject_indexes(vault, subject))
    if found is None:
        raise NotFound("the bureau holds no file for this person", code=PERSON_NOT_FOUND, field="subject")
    return found.id


def view(opt_out: PrescreenOptOut, now: datetime) -> OptOutRead:
    """An opt-out as the person reads it."""
    in_force = (opt_out.starts_at <= now and (opt_out.expires_at is None or opt_out.expires_at > now)
                and (opt_out.ended_at is None or opt_out.ended_at > now))
    return OptOutRead(id=opt_out.id, term=opt_out.term, channel=opt_out.channel, starts_at=opt_out.starts_at,
                      expires_at=opt_out.expires_at, ended_at=opt_out.ended_at, in_force=in_force)


def opt_out(session: Session, *, vault: PiiVault, policy: Policy, principal: Principal, term: str,
            subject: Subject | None = None, now: datetime | None = None) -> OptOutRead:
    """Record the person's election to be left off prescreened lists, in force at once; it replaces the one in
    force. ``term``: ``five_years`` (the profile's years) or ``permanent`` (until the person opts back in)."""
    authorize(principal, Action.OPT_OUT_OF_PRESCREEN)
    available(policy)
    if term not in OptOutTerm.ALL:
        raise Unprocessable("term is five_years or permanent", code="INVALID_TERM", field="term")
    now = now or datetime.now(UTC)
    person_id = _person_id(session, vault, principal, subject)
    repo = OptOutRepository(session)
    for current in repo.all_in_force(person_id, now):
        current.ended_at, current.ended_by = now, principal.code
    years = policy.profile.prescreen_opt_out_years
    expires = None if term == OptOutTerm.PERMANENT else datetime.combine(add_years(now.date(), years), now.timetz())
    row = PrescreenOptOut(person_id=person_id, term=term, channel="online" if principal.is_a(Kind.PERSON) else "counter",
                          starts_at=now, expires_at=expires, made_by=principal.code)
    repo.add(row)
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="prescreen.opt_out",
                 person_id=person_id, details={"opt_out_id": row.id, "term": term, "channel": row.channel})
    until = "until you opt back in" if expires is None else f"until {expires:%Y-%m-%d}"
    _notify(session, vault=vault, person_id=person_id, now=now,
            body=f"From {now:%Y-%m-%d %H:%M} UTC your file is left off every list of prescreened offers of credit "
                 f"{until}, as you asked (FCRA §604(e)). You may opt back in at any time.")
    return view(row, now)


def opt_in(session: Session, *, vault: PiiVault, policy: Policy, principal: Principal,
           subject: Subject | None = None, now: datetime | None = None) -> OptOutRead:
    """End the person's opt-out in force (§604(e)(4)(B)); 404 ``OPT_OUT_NOT_FOUND`` when none is."""
    authorize(principal, Action.OPT_OUT_OF_PRESCREEN)
    available(policy)
    now = now or datetime.now(UTC)
    person_id = _person_id(session, vault, principal, subject)
    ended = OptOutRepository(session).all_in_force(person_id, now)
    if not ended:
        raise NotFound("no opt-out from prescreened offers is in force", code=errors.OPT_OUT_NOT_FOUND)
    for row in ended:
        row.ended_at, row.ended_by = now, principal.code
    session.flush()
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="prescreen.opt_in",
                 person_id=person_id, details={"opt_out_ids": [r.id for r in ended]})
    _notify(session, vault=vault, person_id=person_id, now=now,
            body=f"From {now:%Y-%m-%d %H:%M} UTC lenders may again include you in prescreened offers of credit, as "
                 f"you asked. You may opt out again at any time.")
    return view(ended[0], now)


def status(session: Session, *, vault: PiiVault, policy: Policy, principal: Principal,
           subject: Subject | None = None, now: datetime | None = None) -> OptOutStatus:
    """Whether the person is off prescreened lists now, and every election they made; audited."""
    authorize(principal, Action.OPT_OUT_OF_PRESCREEN)
    now = now or datetime.now(UTC)
    profile = policy.profile
    if not profile.prescreen_basis:
        note = f"no prescreening under the {profile.code} profile: {profile.prescreen_note}"
    else:
        note = (f"lenders may select you for {profile.prescreen_basis}; opt out for {profile.prescreen_opt_out_years}"
                " years, or permanently, and opt back in at any time (FCRA §604(e))")
    person_id = _person_id(session, vault, principal, subject)
    repo = OptOutRepository(session)
    current = repo.in_force(person_id, now)
    history = [view(r, now) for r in repo.of_person(person_id)]
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="prescreen.opt_out_read",
                 person_id=person_id, details={"opt_outs": len(history)})
    return OptOutStatus(in_force=current is not None, current=view(current, now) if current else None,
                        history=history, note=note)


def _notify(session: Session, *, vault: PiiVault, person_id: int, now: datetime, body: str) -> None:
    notifications.enqueue(session, [notifications.compose(vault, kind="prescreen.opt_out", subject=NOTICE_SUBJECT,
                                                           body=body, now=now, person_id=person_id)])
