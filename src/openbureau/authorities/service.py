"""Rules of requests by authorities (a court, the police, a tax office) for a person's report.

- **Who:** members with the role ``authority`` only (``Action.REQUEST_AS_AUTHORITY``); every other principal is
  refused with 403 ``ROLE_REQUIRED``.
- **What each request carries:** its legal basis (a :class:`LegalBasis` and the provision cited), the
  authority's reference of the case and the hash of the order; the texts are encrypted.
- **Logged, not an inquiry:** the request is a row of its own and an audit entry (purpose
  ``authority_request``); it is never written to the inquiry log, so no lender sees it, it counts as no hard
  inquiry and it moves no score.
- **Shown to the person** (``GET /v1/me/authority-requests``) and notified to them, at once, or, under a
  non-disclosure order, when the order ends: the order names its reference and its end, in the future and at
  most :data:`MAX_NONDISCLOSURE` ahead; an order without an end is refused (422). The notice is written with the
  request, due at the order's end (``notifications.compose(not_before=...)``), so it is never forgotten.
- **Counted** in the published transparency report (:func:`transparency_report`): aggregates only, small cells
  suppressed (``authorities.transparency``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from openbureau.audit import service as audit
from openbureau.authorities.errors import (
    INVALID_NONDISCLOSURE_END,
    INVALID_REQUEST_TEXT,
    INVALID_YEAR,
    NONDISCLOSURE_END_REQUIRED,
    NONDISCLOSURE_REF_REQUIRED,
)
from openbureau.authorities.models import AuthorityRequest, LegalBasis
from openbureau.authorities.repository import AuthorityRepository
from openbureau.authorities.schemas import (
    MAX_CITATION,
    MAX_REFERENCE,
    AuthorityRequestAnswer,
    AuthorityRequestListed,
    AuthorityRequestRead,
    TransparencyReport,
)
from openbureau.authorities.transparency import build
from openbureau.consent.schemas import DOCUMENT_HASH_PATTERN, Subject
from openbureau.consent.service import subject_indexes
from openbureau.identity.errors import PERSON_NOT_FOUND
from openbureau.identity.repository import find_person_by_any
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import INVALID_LIMIT, NotFound, Unprocessable
from openbureau.members.service import members_by_id
from openbureau.notifications import service as notifications
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize
from openbureau.reports import service as reports

# The longest non-disclosure order the bureau accepts in one request: a longer one (or an extension) is a new
# request citing the renewed order, so that no request stays hidden from the person on one order for years.
MAX_NONDISCLOSURE = timedelta(days=366)
PURPOSE = "authority_request"  # the audit purpose of a request
NOTICE_KIND = "authority.request"
MAX_LIMIT = 1_000
REFUSAL = "only an authority (a court, the police, a tax office) requests a report on this route"
BASIS_TEXT = {
    LegalBasis.COURT_ORDER: "a court order",
    LegalBasis.CRIMINAL_INVESTIGATION: "a criminal investigation",
    LegalBasis.TAX_ASSESSMENT: "a tax assessment",
    LegalBasis.OTHER: "another power given by law",
}


def request_report(session: Session, *, vault: PiiVault, principal: Principal, subject: Subject,
                   basis: LegalBasis | str, citation: str, reference: str, order_hash: str, policy: Policy,
                   nondisclosure_until: datetime | None = None, nondisclosure_ref: str | None = None,
                   history_months: int = 24, now: datetime | None = None) -> AuthorityRequestAnswer:
    """An authority's request for a person's report: checked, recorded, audited and owed to the person (at
    once, or when its non-disclosure order ends); the person's report with everything shown.

    Args:
        principal: The authority asking (a member with the role ``authority``).
        subject: The person, by identity document (404 ``PERSON_NOT_FOUND`` when the bureau holds no file).
        basis: The kind of law the request rests on; ``citation`` names the provision (at most 500 characters).
        reference: The authority's reference of the case (at most 100 characters), encrypted.
        order_hash: Hash or signature of the order document, as consents' evidence is given.
        nondisclosure_until: When the non-disclosure order ends (with ``nondisclosure_ref``): in the future and
            at most :data:`MAX_NONDISCLOSURE` ahead.
        policy: The bureau's policy (the report is assembled under its profile).

    Returns:
        The request's id, when the person is shown it, and the report.
    """
    authorize(principal, Action.REQUEST_AS_AUTHORITY, message=REFUSAL)
    if principal.member_id is None:
        raise ValueError("an authority acts as a member of the bureau")
    now = now or datetime.now(UTC)
    try:
        basis = LegalBasis(basis)
    except ValueError:
        raise Unprocessable(f"basis must be one of {', '.join(LegalBasis)}", code="INVALID_BASIS",
                            field="basis") from None
    citation = _text(citation, field="citation", limit=MAX_CITATION)
    reference = _text(reference, field="reference", limit=MAX_REFERENCE)
    if not isinstance(order_hash, str) or not re.fullmatch(DOCUMENT_HASH_PATTERN, order_hash):
        raise Unprocessable("order_hash is the order document's hash (hex SHA-256/SM3/SHA-512) or signature "
                            "(sig:base64)", code="INVALID_ORDER_HASH", field="order_hash")
    nondisclosure_ref = _nondisclosure(nondisclosure_ref, nondisclosure_until, now=now)
    indexes = subject_indexes(vault, subject)
    person = find_person_by_any(session, id_type=subject.id_type, id_indexes=indexes)
    if person is None:
        raise NotFound("the bureau holds no file for this person", code=PERSON_NOT_FOUND, field="subject")
    report = reports.full_report(session, vault=vault, person=person, subject_indexes=indexes, policy=policy,
                                 history_months=history_months, now=now)
    request = AuthorityRequest(
        authority_id=principal.member_id, person_id=person.id, basis=basis.value,
        citation_enc=vault.encrypt(citation), reference_enc=vault.encrypt(reference), order_hash=order_hash,
        nondisclosure_ref_enc=None if nondisclosure_ref is None else vault.encrypt(nondisclosure_ref),
        nondisclosure_until=nondisclosure_until, requested_by=principal.code, created_at=now)
    AuthorityRepository(session).add(request)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="authority.request",
                 person_id=person.id, purpose=PURPOSE,
                 details={"request_id": request.id, "basis": basis.value, "order_hash": order_hash,
                          "nondisclosure_until": None if nondisclosure_until is None
                          else nondisclosure_until.isoformat()})
    authority = members_by_id(session, {principal.member_id}).get(principal.member_id)
    notifications.enqueue(session, [_notice(vault, request, person_id=person.id, basis=basis,
                                            authority=authority.name if authority else principal.code)])
    return AuthorityRequestAnswer(request_id=request.id, created_at=now,
                                  shown_to_person_from=nondisclosure_until or now, report=report)


def _text(value: str, *, field: str, limit: int) -> str:
    value = value.strip() if isinstance(value, str) else ""
    if not 0 < len(value) <= limit:
        raise Unprocessable(f"{field} must be 1 to {limit} characters", code=INVALID_REQUEST_TEXT, field=field)
    return value


def _nondisclosure(ref: str | None, until: datetime | None, *, now: datetime) -> str | None:
    """The order's reference, checked with its end; None when no order applies."""
    if ref is None and until is None:
        return None
    if until is None:
        raise Unprocessable("a non-disclosure order needs its end date (nondisclosure_until): an order without "
                            "one would hide the request from the person for ever", code=NONDISCLOSURE_END_REQUIRED,
                            field="nondisclosure_until")
    if ref is None:
        raise Unprocessable("an end of non-disclosure needs the order it ends (nondisclosure_ref)",
                            code=NONDISCLOSURE_REF_REQUIRED, field="nondisclosure_ref")
    if until.tzinfo is None or not now < until <= now + MAX_NONDISCLOSURE:
        raise Unprocessable(f"a non-disclosure order ends in the future, at most {MAX_NONDISCLOSURE.days} days "
                            "ahead, with its time zone", code=INVALID_NONDISCLOSURE_END, field="nondisclosure_until")
    return _text(ref, field="nondisclosure_ref", limit=MAX_REFERENCE)


def _notice(vault: PiiVault, request: AuthorityRequest, *, person_id: int, basis: LegalBasis, authority: str) -> dict:
    """The person's notice of a request, due at once or when its non-disclosure order ends. It names the
    authority, the date and the kind of basis, never the person nor the texts the authority wrote (those are
    shown after sign-in)."""
    kept = "" if request.nondisclosure_until is None else (
        f" A non-disclosure order kept this from you until {request.nondisclosure_until:%Y-%m-%d}.")
    return notifications.compose(
        vault, kind=NOTICE_KIND, person_id=person_id, now=request.created_at, not_before=request.nondisclosure_until,
        subject="An authority requested your credit report",
        body=f"{authority} requested your credit report on {request.created_at:%Y-%m-%d} on the basis of "
             f"{BASIS_TEXT[basis]}.{kept} Sign in to the bureau to see the provision it cited and its reference.")


def requests_about_me(session: Session, *, vault: PiiVault, principal: Principal, now: datetime | None = None
                      ) -> list[AuthorityRequestRead]:
    """The requests by authorities about the signed-in person that no non-disclosure order keeps from them at
    ``now``, newest first; audited."""
    authorize(principal, Action.READ_OWN_FILE)
    now = now or datetime.now(UTC)
    rows = AuthorityRepository(session).shown_to_person(principal.person_id, now)
    members = members_by_id(session, {r.authority_id for r in rows})
    audit.record(session, actor_member_id=None, actor_code=principal.code, action="person.authority_requests_read",
                 person_id=principal.person_id, details={"requests": len(rows)})
    return [AuthorityRequestRead(
        id=r.id, at=r.created_at, authority=members[r.authority_id].code if r.authority_id in members else
        str(r.authority_id), authority_name=members[r.authority_id].name if r.authority_id in members else "",
        basis=LegalBasis(r.basis), citation=vault.decrypt(r.citation_enc), reference=vault.decrypt(r.reference_enc),
        nondisclosure_ended_at=r.nondisclosure_until) for r in rows]


def list_requests(session: Session, *, principal: Principal, limit: int = 100, offset: int = 0,
                  now: datetime | None = None) -> list[AuthorityRequestListed]:
    """The operator: every request; an authority: its own. Ids, kinds and dates only (no citation, reference or
    person's identifier; the person's id for the operator only), newest first; audited."""
    action = authorize(principal, Action.READ_ALL_AUTHORITY_REQUESTS, Action.READ_OWN_AUTHORITY_REQUESTS)
    if not 1 <= limit <= MAX_LIMIT:
        raise Unprocessable(f"limit must be 1 to {MAX_LIMIT}", code=INVALID_LIMIT, field="limit")
    now = now or datetime.now(UTC)
    everyone = action is Action.READ_ALL_AUTHORITY_REQUESTS
    rows = AuthorityRepository(session).listed(authority_id=None if everyone else principal.member_id, limit=limit,
                                               offset=offset)
    members = members_by_id(session, {r.authority_id for r in rows})
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                 action="authority.requests_read", details={"requests": len(rows), "all": everyone})
    return [AuthorityRequestListed(
        id=r.id, at=r.created_at, authority=members[r.authority_id].code if r.authority_id in members
        else str(r.authority_id), person_id=r.person_id if everyone else None, basis=LegalBasis(r.basis),
        nondisclosure_until=r.nondisclosure_until,
        shown_to_person=r.nondisclosure_until is None or r.nondisclosure_until <= now) for r in rows]


def transparency_report(session: Session, *, year: int, now: datetime | None = None) -> TransparencyReport:
    """The published report of requests by authorities made in calendar ``year`` (UTC) up to ``now``:
    aggregates only, small cells suppressed. It reads no personal data and is published, so it asks for no
    principal: anyone may read it (``GET /v1/transparency/authority-requests``)."""
    now = now or datetime.now(UTC)
    if not 2000 <= year <= 9998:
        raise Unprocessable("year must be 2000 to 9998", code=INVALID_YEAR, field="year")
    rows = [r for r in AuthorityRepository(session).made_between(datetime(year, 1, 1, tzinfo=UTC),
                                                                  datetime(year + 1, 1, 1, tzinfo=UTC))
            if r.created_at <= now]
    members = members_by_id(session, {r.authority_id for r in rows})
    return build(rows, year=year, authorities={i: (m.code, m.name) for i, m in members.items()}, now=now)
