"""The lender's first page: look a borrower up with a purpose and the consent relied on, and read the printable
report, as ``POST /v1/inquiries?format=html`` answers it.

Members have no web session yet: the API key is typed into the form and used for that one request, exactly as
an API call uses it (authenticated by the same function as the edge's, the same failure and member rates), and
is never kept in a cookie or shown again. A member's web sign-in with a second factor is left for later
(docs/portal.md).
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from openbureau.api.deps import InquiryLogDep, RuntimeDep, authenticate_request
from openbureau.api.edge import SELF_CONTAINED, client_key
from openbureau.consent.profiles import QUERY_PURPOSES, Purpose
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError, Unauthenticated
from openbureau.members.models import Member
from openbureau.present.report import render_html
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.web.pages import DOCUMENT_TYPES, with_cookies
from openbureau.web.render import page
from openbureau.web.session import FormDep, nonce_for

router = APIRouter(prefix="/lender", include_in_schema=False)
PURPOSES = [p for p in QUERY_PURPOSES if p is not Purpose.SELF_INQUIRY]


class TooManyFailures(BureauError):
    """Too many wrong keys from one address."""

    status_code = 429
    code = "AUTH_RATE_LIMITED"


async def count_failure(request: Request) -> None:
    """Count a failed sign-in against the caller's address (the edge's failure rate, shared with wrong API
    keys); 429 once the address is over it."""
    failures = request.app.state.edge.failures
    wait = await failures.take(client_key(request.scope))
    if wait:
        raise TooManyFailures(f"over {failures.capacity} failed authentications a minute from this address; "
                              f"retry in {math.ceil(wait)} s") from None


async def member_of_form(request: Request, form: dict) -> Member | str:
    """The member whose API key was typed into the form (the edge's authentication, failure and member rates),
    or why the key was refused."""
    edge = request.app.state.edge
    try:
        member = await run_in_threadpool(authenticate_request, request.scope, form.get("api_key", "")[:256])
    except Unauthenticated as exc:
        await count_failure(request)
        return exc.message
    wait = await edge.members.take(str(member.id))
    if wait:
        raise BureauError(f"over {edge.members.capacity} calls a minute; retry in {math.ceil(wait)} s",
                          code="RATE_LIMITED", status_code=429)
    return member


def _form(request: Request, *, status_code: int = 200, error: str | None = None) -> Response:
    cookies: dict[str, str] = {}
    nonce_for(request, cookies)
    return with_cookies(page(request, "lender.html.j2", status_code=status_code, error=error, types=DOCUMENT_TYPES,
                              purposes=PURPOSES), cookies)


@router.get("")
def lookup_page(request: Request) -> Response:
    """The look-up form."""
    return _form(request)


@router.post("/report")
async def lookup(request: Request, form: FormDep, runtime: RuntimeDep, log: InquiryLogDep) -> Response:
    """Authenticate the key, ask for the report on the stated purpose and consent, and show it; the inquiry is
    logged (and committed) before the page is sent, as the API's is."""
    member = await member_of_form(request, form)
    if isinstance(member, str):
        return _form(request, status_code=401, error=member)
    try:
        data = InquiryCreate(subject={"id_type": form.get("id_type", ""), "id_number": form.get("id_number", "")},
                             purpose=form.get("purpose", ""), consent_ref=form.get("consent_ref") or None)
    except ValidationError as exc:  # by field, never echoing what was typed
        fields = sorted({str(e["loc"][0]) if e["loc"] else "form" for e in exc.errors()})
        return _form(request, status_code=422, error=f"Check these fields: {', '.join(fields)}.")
    principal = Principal.of_member(member)
    with session_scope(runtime.engine, read_only=True) as session:
        prepared = reports.prepare_inquiry(session, vault=runtime.vault, principal=principal, request=data,
                                           policy=runtime.policy)
    result = prepared.finish(await log.write_async(prepared.entry))
    body = await run_in_threadpool(render_html, result.report, inquiry_id=result.inquiry_id)
    return Response(body, status_code=201, media_type="text/html; charset=utf-8",
                    headers={SELF_CONTAINED: "1", "X-Inquiry-Id": str(result.inquiry_id)})
