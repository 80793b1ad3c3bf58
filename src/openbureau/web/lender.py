"""The lender's look-up page: a borrower's report for a purpose on the consent relied on, the printable report as
``POST /v1/inquiries?format=html`` answers it.

Two ways in. A member's staff signed in to the workspace (``web.workspace``: the API key and the key's second
factor, a console session) get the form without a key field (``POST /lender/lookup``). Without a session, the
API key is typed into the form and used for that one request (``POST /lender/report``), exactly as an API call
uses it (authenticated by the edge's own function, the same failure and member rates), and is never kept in a
cookie or shown again. Either way the inquiry is logged and committed before the page is sent.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from openbureau.api.deps import InquiryLogDep, RuntimeDep
from openbureau.api.edge import SELF_CONTAINED
from openbureau.consent.profiles import QUERY_PURPOSES, Purpose
from openbureau.kit.db import session_scope
from openbureau.members import console
from openbureau.present.report import render_html
from openbureau.principals import Principal
from openbureau.reports import service as reports
from openbureau.reports.schemas import InquiryCreate
from openbureau.runtime import Runtime
from openbureau.web.console import ConsoleFormDep, MemberConsoleDep, console_principal, member_of_form
from openbureau.web.i18n import check_fields
from openbureau.web.pages import DOCUMENT_TYPES, with_cookies
from openbureau.web.render import page
from openbureau.web.session import FormDep, nonce_for

router = APIRouter(prefix="/lender", include_in_schema=False)
PURPOSES = [p for p in QUERY_PURPOSES if p is not Purpose.SELF_INQUIRY]


def _form(request: Request, *, status_code: int = 200, error: str | None = None) -> Response:
    cookies: dict[str, str] = {}
    signed_in = console_principal(request, console.MEMBER)
    if signed_in is None:
        nonce_for(request, cookies)
    return with_cookies(page(request, "lender.html.j2", status_code=status_code, error=error, types=DOCUMENT_TYPES,
                              purposes=PURPOSES, member=signed_in, console="lender" if signed_in else None),
                        cookies)


@router.get("")
def lookup_page(request: Request) -> Response:
    """The look-up form (no key field for a signed-in member)."""
    return _form(request)


@router.post("/report")
async def lookup(request: Request, form: FormDep, runtime: RuntimeDep, log: InquiryLogDep) -> Response:
    """Authenticate the typed key, then answer as ``lookup_signed_in``."""
    member = await member_of_form(request, form)
    if isinstance(member, str):
        return _form(request, status_code=401, error=member)
    return await _report(request, form, runtime=runtime, log=log, principal=Principal.of_member(member))


@router.post("/lookup")
async def lookup_signed_in(request: Request, principal: MemberConsoleDep, form: ConsoleFormDep, runtime: RuntimeDep,
                           log: InquiryLogDep) -> Response:
    """Ask for the report on the stated purpose and consent as the signed-in member, and show it."""
    return await _report(request, form, runtime=runtime, log=log, principal=principal)


async def _report(request: Request, form, *, runtime: Runtime, log, principal: Principal) -> Response:
    """The report asked for in ``form``; the inquiry is logged (and committed) before the page is sent, as the
    API's is."""
    try:
        data = InquiryCreate(subject={"id_type": form.get("id_type", ""), "id_number": form.get("id_number", "")},
                             purpose=form.get("purpose", ""), consent_ref=form.get("consent_ref") or None)
    except ValidationError as exc:  # by field, never echoing what was typed
        fields = sorted({str(e["loc"][0]) if e["loc"] else "form" for e in exc.errors()})
        return _form(request, status_code=422, error=check_fields(request, fields))
    with session_scope(runtime.engine, read_only=True) as session:
        prepared = reports.prepare_inquiry(session, vault=runtime.vault, principal=principal, request=data,
                                           policy=runtime.policy)
    result = prepared.finish(await log.write_async(prepared.entry))
    body = await run_in_threadpool(render_html, result.report, inquiry_id=result.inquiry_id)
    return Response(body, status_code=201, media_type="text/html; charset=utf-8",
                    headers={SELF_CONTAINED: "1", "X-Inquiry-Id": str(result.inquiry_id)})
