"""A member's monthly statement as a page (and its CSV): the API key typed into the form for that one request,
as on the lender's look-up page, never kept (docs/membership.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from openbureau.api.deps import RuntimeDep
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.metering import service as metering
from openbureau.principals import Principal
from openbureau.web.console import member_of_form
from openbureau.web.pages import with_cookies
from openbureau.web.render import page
from openbureau.web.session import FormDep, nonce_for

router = APIRouter(prefix="/lender", include_in_schema=False)


def _form(request: Request, *, status_code: int = 200, error: str | None = None, statement=None) -> Response:
    cookies: dict[str, str] = {}
    nonce_for(request, cookies)
    month = statement.month if statement is not None else f"{datetime.now(UTC):%Y-%m}"
    return with_cookies(page(request, "statement.html.j2", status_code=status_code, error=error, month=month,
                              statement=statement), cookies)


@router.get("/statement")
def statement_page(request: Request) -> Response:
    """The form: API key and month."""
    return _form(request)


@router.post("/statement")
async def statement(request: Request, form: FormDep, runtime: RuntimeDep) -> Response:
    """The calling member's statement of the month asked, as a page or (``format=csv``) a CSV download."""
    member = await member_of_form(request, form)
    if isinstance(member, str):
        return _form(request, status_code=401, error=member)
    try:
        with session_scope(runtime.engine, read_only=True) as session:
            read = metering.own_statement(session, principal=Principal.of_member(member),
                                          month=str(form.get("month", ""))[:7])
    except BureauError as exc:
        return _form(request, status_code=exc.status_code, error=exc.message)
    if form.get("format") == "csv":
        return Response(metering.statement_csv(read), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="statement-{read.member_code}-{read.month}.csv"'})
    return _form(request, statement=read)
