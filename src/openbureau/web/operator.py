"""The bureau operator's pages: members and their keys (issue, revoke), the identity review queue with each
pair's evidence side by side (link or keep apart), and the audit chain's verification.

Served only when the app is started with the operator's console on (``openbureau serve --operator-console``,
a loopback address only; otherwise every page is 404). The operator signs in with a one-time code issued at the
terminal (``openbureau members console-code``) and acts as the operator who issued it, through the services the
command line and the API call, so every decision is authorised and audited as theirs. Identifiers in clear
(the review's evidence) are shown on these pages only, never logged.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from openbureau.api.deps import IdPath, RuntimeDep, SessionDep
from openbureau.audit import service as audit
from openbureau.identity import service as identity
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError, NotFound
from openbureau.members import console, standing
from openbureau.members import service as members
from openbureau.principals import Action, authorize
from openbureau.web.console import (
    OPERATOR_COOKIE,
    SESSION_SECONDS,
    ConsoleFormDep,
    OperatorConsoleDep,
    count_failure,
    sign_out,
    signin_form,
)
from openbureau.web.i18n import N_
from openbureau.web.render import page
from openbureau.web.session import FormDep, set_cookie

router = APIRouter(prefix="/operator", include_in_schema=False)
REVIEWS_SHOWN = 20
DONE = {"accepted": N_("The pair is linked: the records are now in one file."),
        "rejected": N_("The pair is kept apart for good."),
        "revoked": N_("The key is revoked: it is refused from now on.")}


def _served(request: Request) -> None:
    if not request.app.state.operator_console:
        raise NotFound(N_("There is no such page."))


@router.get("/signin")
def signin_page(request: Request) -> Response:
    """Enter a code from the terminal."""
    _served(request)
    return signin_form(request, "operator")


@router.post("/signin")
async def signin(request: Request, form: FormDep, runtime: RuntimeDep) -> Response:
    """Spend the one-time code for a 15-minute session (a wrong code counts towards the address's failures as a
    wrong API key does)."""
    _served(request)

    def opened() -> str:
        with session_scope(runtime.engine, write=True) as session:
            return console.open_operator_session(session, code=str(form.get("code", ""))[:128])

    try:
        token = await run_in_threadpool(opened)
    except BureauError as exc:
        await count_failure(request)
        return signin_form(request, "operator", status_code=exc.status_code, error=exc.message)
    response = RedirectResponse("/operator", status_code=303)
    set_cookie(response, OPERATOR_COOKIE, token, max_age=SESSION_SECONDS)
    return response


@router.post("/signout")
def signout(request: Request, operator: OperatorConsoleDep, form: ConsoleFormDep) -> Response:
    """End the operator's session at once."""
    return sign_out(request, console.OPERATOR)


@router.get("")
def home(request: Request, operator: OperatorConsoleDep, session: SessionDep) -> Response:
    """What waits: pending reviews, members, and the way to the audit check."""
    pending = identity.list_reviews(session, principal=operator, limit=1000)
    return page(request, "operator.html.j2", console="operator", operator=operator.code, pending=len(pending),
                members=len(members.list_members(session)))


@router.get("/members")
def members_page(request: Request, operator: OperatorConsoleDep, session: SessionDep) -> Response:
    """Every member: roles, standing, keys (prefixes only)."""
    authorize(operator, Action.MANAGE_MEMBERS)
    rows = [(standing.membership(m), sorted(m.keys, key=lambda k: k.created_at)) for m in members.list_members(session)]
    return page(request, "members.html.j2", console="operator", rows=rows,
                done=DONE.get(request.query_params.get("done", "")))


@router.post("/members/{code}/keys")
def issue_key(code: str, request: Request, operator: OperatorConsoleDep, form: ConsoleFormDep,
              runtime: RuntimeDep) -> Response:
    """Issue a new key: shown on this answer once (it is stored hashed only), never again."""
    with session_scope(runtime.engine, write=True) as session:
        issued = members.issue_key(session, principal=operator, member=members.get_member(session, code=code[:32]))
    return page(request, "key_issued.html.j2", console="operator", issued=issued)


@router.post("/keys/{prefix}/revoke")
def revoke_key(prefix: str, request: Request, operator: OperatorConsoleDep, form: ConsoleFormDep,
               runtime: RuntimeDep) -> Response:
    """Revoke a key at once (this process forgets it now; others within the API's key cache time)."""
    with session_scope(runtime.engine, write=True) as session:
        members.revoke_key(session, principal=operator, prefix=prefix[:16])
    request.app.state.edge.keys.forget(prefix[:16])
    return RedirectResponse("/operator/members?done=revoked", status_code=303)


@router.get("/reviews")
def reviews(request: Request, operator: OperatorConsoleDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The oldest pending pairs, each with both persons' descriptions and the matcher's evidence side by side."""
    queued = identity.list_reviews(session, principal=operator, limit=REVIEWS_SHOWN)
    items = [identity.review_side_by_side(session, principal=operator, vault=runtime.vault, review_id=r.id)
             for r in queued]
    return page(request, "reviews.html.j2", console="operator", items=items,
                done=DONE.get(request.query_params.get("done", "")))


def _decide(review_id: int, operator, runtime, *, accept: bool) -> Response:
    with session_scope(runtime.engine, write=True) as session:
        identity.decide_review(session, principal=operator, review_id=review_id, accept=accept)
    return RedirectResponse(f"/operator/reviews?done={'accepted' if accept else 'rejected'}", status_code=303)


@router.post("/reviews/{review_id}/accept")
def accept(review_id: IdPath, operator: OperatorConsoleDep, form: ConsoleFormDep, runtime: RuntimeDep) -> Response:
    """Link the pair: the weak person's records join the candidate's file (audited as the operator's)."""
    return _decide(review_id, operator, runtime, accept=True)


@router.post("/reviews/{review_id}/reject")
def reject(review_id: IdPath, operator: OperatorConsoleDep, form: ConsoleFormDep, runtime: RuntimeDep) -> Response:
    """Keep the pair apart for good (audited as the operator's)."""
    return _decide(review_id, operator, runtime, accept=False)


@router.get("/audit")
def audit_page(request: Request, operator: OperatorConsoleDep, session: SessionDep) -> Response:
    """The whole audit chain recomputed now, with the signed checkpoints (``openbureau audit verify``)."""
    return page(request, "audit.html.j2", console="operator", result=audit.verify(session))
