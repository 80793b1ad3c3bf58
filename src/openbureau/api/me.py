"""HTTP endpoints of the person's own side (/v1/me): sign in with an identity document and a one-time code,
then read one's own report, who looked at it (lenders, and authorities once no non-disclosure order applies),
and the consents held about one; revoke a consent; object to the uses of one's file that need no consent;
erase what the jurisdiction allows; export everything held about one; sign out.

These routes take a person's session token (``Authorization: Bearer obp_...``), never a member's API key;
the sign-in routes are open to anyone and rate limited per client address (``api.edge``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from openbureau.api.deps import ApiKeyDep, IdPath, PersonDep, PolicyDep, RuntimeDep, SessionDep
from openbureau.authorities import service as authorities
from openbureau.authorities.schemas import AuthorityRequestRead
from openbureau.consent.schemas import ConsentRead
from openbureau.kit.db import session_scope
from openbureau.people import erasure, export, rights
from openbureau.people import service as people
from openbureau.people.schemas import (
    ConsentWallet,
    ErasureCreate,
    ErasureResult,
    ObjectionCreate,
    ObjectionRead,
    Objections,
    RevokeMine,
    SessionIssued,
    SigninStart,
    SigninStarted,
    SigninVerify,
)
from openbureau.reports.schemas import PersonInquiry, Report

router = APIRouter(prefix="/me", tags=["the person"])


@router.post("/signin", response_model=SigninStarted, status_code=202, summary="Ask for a sign-in code",
             responses={429: {"description": "SIGNIN_LOCKED or SIGNIN_RATE_LIMITED: wait and try again"}})
def signin(data: SigninStart, runtime: RuntimeDep) -> SigninStarted:
    """Name your identity document; a one-time code goes to the phone number on file for you. The answer is
    the same whether or not the bureau holds a file for the document."""
    with session_scope(runtime.engine, write=True) as session:
        started = people.start_signin(session, vault=runtime.vault, key=runtime.signin_key, document=data.document)
    return SigninStarted(challenge=started.challenge, expires_at=started.expires_at, message=started.message)


@router.post("/signin/verify", response_model=SessionIssued, summary="Enter the code: a session token",
             responses={401: {"description": "SIGNIN_FAILED: wrong, expired or used code"},
                        429: {"description": "SIGNIN_LOCKED: too many wrong codes"}})
def verify(data: SigninVerify, runtime: RuntimeDep) -> SessionIssued:
    """The code received and its challenge give a session token valid for 15 minutes."""
    with session_scope(runtime.engine, write=True) as session:  # a wrong code is counted even though refused
        outcome = people.verify_signin(session, vault=runtime.vault, key=runtime.signin_key,
                                       challenge=data.challenge, code=data.code)
    issued = outcome.result()
    return SessionIssued(token=issued.token, expires_at=issued.expires_at)


@router.post("/signout", status_code=204, summary="Sign out: the session token stops working at once")
def signout(session: SessionDep, person: PersonDep, token: ApiKeyDep) -> None:
    """End this session."""
    people.sign_out(session, principal=person, token=token or "")


@router.get("/report", response_model=Report, summary="Your own report and score",
            responses={429: {"description": "FREE_REPORTS_USED: the message says when the next free one is due"}})
async def report(runtime: RuntimeDep, person: PersonDep, policy: PolicyDep,
                 history_months: Annotated[int, Query(ge=1, le=60)] = 24) -> Report:
    """Everything in your file: accounts, who looked, risk signals, your score with its reasons and what
    would raise it. Free reports per period follow the bureau's jurisdiction (docs/rights.md)."""
    return await run_in_threadpool(_report, runtime, person, policy, history_months)


def _report(runtime, person, policy, history_months: int) -> Report:
    with session_scope(runtime.engine, write=True) as session:
        return rights.my_report(session, vault=runtime.vault, principal=person, policy=policy,
                                history_months=history_months)


@router.get("/inquiries", response_model=list[PersonInquiry], summary="Who looked at your file")
def inquiries(session: SessionDep, person: PersonDep, policy: PolicyDep) -> list[PersonInquiry]:
    """Every look at your file: who, when, for what purpose, on which consent (or exception)."""
    return rights.my_inquiries(session, principal=person, policy=policy)


@router.get("/authority-requests", response_model=list[AuthorityRequestRead],
            summary="Requests by authorities for your report")
def authority_requests(session: SessionDep, runtime: RuntimeDep, person: PersonDep) -> list[AuthorityRequestRead]:
    """Every request by an authority (a court, the police, a tax office) for your report: who, when, on what
    legal basis, and their reference. A request under a non-disclosure order is shown once the order ends."""
    return authorities.requests_about_me(session, vault=runtime.vault, principal=person)


@router.get("/consents", response_model=ConsentWallet, summary="Consents held about you")
def consents(session: SessionDep, runtime: RuntimeDep, person: PersonDep) -> ConsentWallet:
    """Every consent any member holds about you (grantee, purpose, scope, window, evidence, status), and the
    lenders holding records back because they hold no consent of yours to furnish them."""
    return rights.my_consents(session, vault=runtime.vault, principal=person)


@router.post("/consents/{consent_id}/revoke", response_model=ConsentRead, summary="Revoke one of your consents",
             responses={404: {"description": "CONSENT_NOT_FOUND: no consent of yours has this id"}})
def revoke(consent_id: IdPath, session: SessionDep, runtime: RuntimeDep, person: PersonDep,
           data: RevokeMine | None = None) -> ConsentRead:
    """Revoke at once: nothing further is furnished or queried on it. You are notified."""
    return rights.revoke_mine(session, vault=runtime.vault, principal=person, consent_id=consent_id,
                              reason=(data or RevokeMine()).reason)


@router.get("/objections", response_model=Objections, summary="What you may object to, and your objections")
def objections(session: SessionDep, person: PersonDep, policy: PolicyDep) -> Objections:
    """The uses of your file that need no consent of yours and that you may refuse under the bureau's
    jurisdiction (with the rule), and your objections."""
    return rights.my_objections(session, principal=person, policy=policy)


@router.post("/objections", response_model=ObjectionRead, status_code=201, summary="Object to a use of your file",
             responses={403: {"description": "OBJECTION_NOT_AVAILABLE: the jurisdiction gives no objection to it"}})
def object_to(data: ObjectionCreate, session: SessionDep, runtime: RuntimeDep, person: PersonDep,
              policy: PolicyDep) -> ObjectionRead:
    """In force at once: a lender asking for this purpose without your consent is refused
    (OBJECTION_IN_FORCE). Asking again returns the objection in force. You are notified."""
    return rights.object_mine(session, vault=runtime.vault, principal=person, policy=policy, purpose=data.purpose)


@router.post("/objections/{objection_id}/withdraw", response_model=ObjectionRead, summary="Withdraw an objection",
             responses={404: {"description": "OBJECTION_NOT_FOUND: no objection of yours has this id"}})
def withdraw_objection(objection_id: IdPath, session: SessionDep, runtime: RuntimeDep, person: PersonDep
                       ) -> ObjectionRead:
    """The use is allowed again as the law allows it."""
    return rights.withdraw_mine(session, vault=runtime.vault, principal=person, objection_id=objection_id)


@router.post("/erasure", response_model=ErasureResult, summary="Erase what your jurisdiction allows",
             responses={403: {"description": "ERASURE_NOT_AVAILABLE: the jurisdiction gives no right to it"},
                        409: {"description": "LOAD_IN_PROGRESS: a file is being loaded; ask again shortly"}})
def erase(data: ErasureCreate, runtime: RuntimeDep, person: PersonDep, policy: PolicyDep) -> ErasureResult:
    """Records held back for want of your consent, negative information past its retention period, or both
    (``all_allowed``): what was erased (counts) and what was kept and why. Erased records are never stored
    again. You are notified."""
    return erasure.erase(runtime.engine, vault=runtime.vault, principal=person, policy=policy, scope=data.scope)


@router.get("/export", summary="Everything the bureau holds about you, as a JSON file",
            response_class=Response,
            responses={200: {"content": {"application/json": {}},
                             "description": "The document (format openbureau.person-export, docs/rights.md)"},
                       413: {"description": "EXPORT_TOO_LARGE: ask the bureau's counter for it"}})
def export_mine(session: SessionDep, runtime: RuntimeDep, person: PersonDep, policy: PolicyDep) -> Response:
    """Your identity as held, every account record (held ones with their reason), inquiries, consents,
    objections, disputes, protections, the messages sent to you and who accessed your data; audited."""
    body = export.export_person(session, vault=runtime.vault, principal=person, policy=policy,
                                max_bytes=runtime.settings.export_max_bytes)
    return Response(content=body, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="openbureau-export.json"'})
