"""Membership as the bureau runs it: a member's licence or registration, its vetting, the purposes and products
it may use, and its suspension by the operator (docs/membership.md).

The gate (:func:`check_use`) reads only the principal: its standing travels with the authenticated key
(``members.service.authenticate``), so an inquiry asks no extra query for it. A suspension is not a gate here:
a suspended member's keys are refused at authentication, and the batch and webhook workers leave its work
waiting (``members.repository.not_suspended``). Every change is the operator's and audited; none deletes
anything the member furnished or asked.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.kit.errors import Conflict, Forbidden, Unprocessable
from openbureau.members.errors import (
    ALREADY_SUSPENDED,
    LICENCE_NOT_IN_FORCE,
    MEMBER_NOT_VETTED,
    NOT_SUSPENDED,
    PRODUCT_NOT_PERMITTED,
    PURPOSE_NOT_PERMITTED,
    UNKNOWN_PURPOSE,
)
from openbureau.members.models import LicenceKind, Member, Product, Vetting
from openbureau.members.schemas import (
    Licence,
    LicenceUpdate,
    MembershipRead,
    Permissions,
    SuspensionCreate,
    VettingDecision,
)
from openbureau.members.service import get_member
from openbureau.principals import ANY, Action, Principal, Standing, authorize


def check_use(principal: Principal, *, product: Product, day: date, purpose: str | None = None) -> None:
    """Refuse (403, the code names why) a member that may not use ``product`` (for ``purpose``) on ``day``:
    not vetted and approved, its licence not in force, or the product or purpose not permitted to it.

    A principal that is no member (the operator at the terminal, a person) has no standing to check: its roles
    decide (``principals.authorize``). A member's principal always carries its standing.
    """
    if principal.member_id is None:
        return
    standing = principal.standing
    if standing is None or not standing.approved:
        raise Forbidden(f"{principal.code} is not vetted and approved by the bureau: it may use no product yet",
                        code=MEMBER_NOT_VETTED)
    if not standing.licence_in_force(day):
        raise Forbidden(f"the licence or registration of {principal.code} is not in force on {day:%Y-%m-%d}",
                        code=LICENCE_NOT_IN_FORCE)
    if not standing.permits_product(product.value):
        raise Forbidden(f"{principal.code} is not permitted the {product.value} product", code=PRODUCT_NOT_PERMITTED,
                        field="product")
    if purpose is not None and not standing.permits_purpose(purpose):
        raise Forbidden(f"{principal.code} is not permitted to query for {purpose}", code=PURPOSE_NOT_PERMITTED,
                        field="purpose")


def permits(principal: Principal, product: Product) -> bool:
    """Whether a member's principal is permitted ``product`` (a part of another: the score, the signals)."""
    standing = principal.standing
    return principal.member_id is None or (standing is not None and standing.permits_product(product.value))


def _today() -> date:
    return datetime.now(UTC).date()


def membership(member: Member, *, day: date | None = None) -> MembershipRead:
    """What the bureau holds about a member's standing."""
    standing: Standing = member.standing
    day = day or _today()
    licence = None if member.licence_kind is None else Licence(
        kind=member.licence_kind, number=member.licence_number or "", authority=member.licence_authority or "",
        valid_from=member.licence_valid_from, valid_until=member.licence_valid_until)
    in_force = standing.licence_in_force(day)
    suspended = member.suspended_at is not None
    return MembershipRead(
        code=member.code, name=member.name, roles=sorted(member.roles), vetting=Vetting(member.vetting),
        vetted_by=member.vetted_by, vetted_at=member.vetted_at, vetting_notes=member.vetting_notes, licence=licence,
        licence_in_force=in_force, purposes=sorted(standing.purposes), products=sorted(standing.products),
        may_query=standing.approved and in_force and not suspended, suspended=suspended,
        suspended_at=member.suspended_at, suspended_by=member.suspended_by,
        suspension_reason=member.suspension_reason)


def read_membership(session: Session, *, principal: Principal, code: str) -> MembershipRead:
    """A member's standing (the operator)."""
    authorize(principal, Action.MANAGE_MEMBERS)
    return membership(get_member(session, code=code))


def _record(session: Session, principal: Principal, action: str, member: Member, details: dict) -> None:
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action=action,
                 details={"member_id": member.id, "code": member.code, **details})


def record_licence(session: Session, *, principal: Principal, code: str, licence: LicenceUpdate) -> MembershipRead:
    """Record the member's licence or registration (the operator); it replaces the one recorded before."""
    authorize(principal, Action.MANAGE_MEMBERS)
    member = get_member(session, code=code)
    member.licence_kind = LicenceKind(licence.kind).value
    member.licence_number = licence.number
    member.licence_authority = licence.authority
    member.licence_valid_from = licence.valid_from
    member.licence_valid_until = licence.valid_until
    session.flush()
    _record(session, principal, "member.licence", member, {
        "kind": member.licence_kind, "number": licence.number, "authority": licence.authority,
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None})
    return membership(member)


def vet(session: Session, *, principal: Principal, code: str, decision: VettingDecision) -> MembershipRead:
    """Record the operator's vetting decision (approved, rejected, or back to pending), with who, when and notes."""
    authorize(principal, Action.MANAGE_MEMBERS)
    member = get_member(session, code=code)
    member.vetting = decision.status.value
    member.vetted_by = principal.code
    member.vetted_at = datetime.now(UTC)
    member.vetting_notes = decision.notes or None
    session.flush()
    _record(session, principal, "member.vet", member, {"status": decision.status.value, "notes": decision.notes})
    return membership(member)


def permit(session: Session, *, principal: Principal, code: str, permissions: Permissions,
           known_purposes: Collection[str]) -> MembershipRead:
    """Set the purposes the member may query for and the products it may use (the operator).

    ``known_purposes`` are the purposes the bureau's policy lets members query for (the adapter hands them in:
    the policy sits above this domain); ``*`` permits every one of them, and every product.
    """
    authorize(principal, Action.MANAGE_MEMBERS)
    member = get_member(session, code=code)
    changes: dict[str, list[str]] = {}
    if permissions.purposes is not None:
        purposes = sorted(set(permissions.purposes))
        unknown = [p for p in purposes if p != ANY and p not in known_purposes]
        if unknown:
            raise Unprocessable(f"not a purpose members may query for: {', '.join(unknown)[:200]}; use "
                                f"{', '.join(sorted(known_purposes))} or *", code=UNKNOWN_PURPOSE, field="purposes")
        member.purposes_text = ANY if ANY in purposes else ",".join(purposes)
        changes["purposes"] = purposes
    if permissions.products is not None:
        products = sorted({p.value for p in permissions.products})
        member.products_text = ",".join(products)
        changes["products"] = products
    session.flush()
    _record(session, principal, "member.permit", member, changes)
    return membership(member)


def suspend(session: Session, *, principal: Principal, code: str, suspension: SuspensionCreate,
            now: datetime | None = None) -> MembershipRead:
    """Suspend a member (the operator): every key of it is refused (docs/membership.md: at once in the process
    that forgets its keys, within ``OPENBUREAU_API_KEY_CACHE_SECONDS`` elsewhere), its batch jobs and webhook
    deliveries wait; nothing it furnished or asked is deleted."""
    authorize(principal, Action.MANAGE_MEMBERS)
    member = get_member(session, code=code)
    if member.suspended_at is not None:
        raise Conflict(f"{code} is suspended already", code=ALREADY_SUSPENDED)
    member.suspended_at = now or datetime.now(UTC)
    member.suspended_by = principal.code
    member.suspension_reason = suspension.reason
    session.flush()
    _record(session, principal, "member.suspend", member, {"reason": suspension.reason})
    return membership(member)


def reinstate(session: Session, *, principal: Principal, code: str, notes: str = "") -> MembershipRead:
    """Lift a member's suspension (the operator): its keys work again, its waiting work resumes."""
    authorize(principal, Action.MANAGE_MEMBERS)
    member = get_member(session, code=code)
    if member.suspended_at is None:
        raise Conflict(f"{code} is not suspended", code=NOT_SUSPENDED)
    _record(session, principal, "member.reinstate", member, {
        "suspended_at": member.suspended_at.isoformat(), "reason": member.suspension_reason, "notes": notes[:500]})
    member.suspended_at = member.suspended_by = member.suspension_reason = None
    session.flush()
    return membership(member)
