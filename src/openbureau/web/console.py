"""Sign-in state of the consoles: the regulator's pages (a member's staff, signed in with the member's API key)
and the operator's (the bureau's operator, signed in with a one-time code from the command line).

A console session lives in the database (``members.console``): the cookie holds a random token whose hash is
stored, never the API key. Each cookie is ``__Host-`` prefixed, ``Secure``, ``HttpOnly``, ``SameSite=Strict``,
15 minutes. Every request reads the session, and for a member the key's row (revoked, suspended) again. Forms
carry a CSRF token bound to the console session (an HMAC under the bureau's sign-in key), checked as the
person's forms are (``web.session``).
"""

from __future__ import annotations

import hmac
import math
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from openbureau.kit.db import session_scope
from openbureau.kit.errors import Forbidden, NotFound, Unauthenticated
from openbureau.members import console
from openbureau.principals import Principal
from openbureau.web.session import PagesRateLimited as RateLimited
from openbureau.web.session import clear_cookie, csrf_for, read_bounded_form, runtime_of

MEMBER_COOKIE = "__Host-obm_session"
OPERATOR_COOKIE = "__Host-obo_session"
SESSION_SECONDS = int(console.SESSION_TTL.total_seconds())
COOKIES = {console.MEMBER: MEMBER_COOKIE, console.OPERATOR: OPERATOR_COOKIE}
SIGNIN = {console.MEMBER: "/regulator/signin", console.OPERATOR: "/operator/signin"}


class ConsoleSignInRequired(Exception):
    """A console page without a live console session: off to that console's sign-in page."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.location = SIGNIN[kind]


def console_principal(request: Request, kind: str) -> Principal | None:
    """The principal of the request's console session of ``kind``, or None; its CSRF token set on the request."""
    cached = getattr(request.state, f"console_{kind}", False)
    if cached is not False:
        return cached
    token = request.cookies.get(COOKIES[kind])
    principal = None
    if token:
        runtime = runtime_of(request)
        try:
            with session_scope(runtime.engine, read_only=True) as session:
                principal = console.authenticate(session, token=token, kind=kind)
        except Unauthenticated:
            principal = None
    setattr(request.state, f"console_{kind}", principal)
    if principal is not None:
        request.state.csrf = csrf_for(runtime_of(request), f"console\x1f{token}")
        request.state.console = kind
    return principal


async def _signed_in(request: Request, kind: str) -> Principal:
    principal = console_principal(request, kind)
    if principal is None:
        raise ConsoleSignInRequired(kind)
    buckets = request.app.state.edge.members
    wait = await buckets.take(str(principal.member_id) if principal.member_id else principal.code)
    if wait:
        raise RateLimited(f"over {buckets.capacity} pages a minute; try again in {math.ceil(wait)} s")
    return principal


async def member_console(request: Request) -> Principal:
    """The dependency of the regulator's pages: the signed-in member (its roles decide what the services allow)."""
    return await _signed_in(request, console.MEMBER)


async def operator_console(request: Request) -> Principal:
    """The dependency of the operator's pages: 404 unless the app serves them, else the signed-in operator."""
    if not request.app.state.operator_console:
        raise NotFound("There is no such page.")
    return await _signed_in(request, console.OPERATOR)


async def read_console_form(request: Request) -> FormData:
    """A console page's posted form, bounded, once its CSRF token (bound to the console session) is checked."""
    kind = getattr(request.state, "console", None)
    token = request.cookies.get(COOKIES[kind]) if kind else None
    if not token:
        raise Forbidden("the form has expired or did not come from this site", code="CSRF_FAILED")
    form = await read_bounded_form(request)
    sent = form.get("csrf")
    expected = csrf_for(runtime_of(request), f"console\x1f{token}")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise Forbidden("the form has expired or did not come from this site: reload the page and try again",
                        code="CSRF_FAILED")
    return form


MemberConsoleDep = Annotated[Principal, Depends(member_console)]
OperatorConsoleDep = Annotated[Principal, Depends(operator_console)]
ConsoleFormDep = Annotated[FormData, Depends(read_console_form)]


def sign_out(request: Request, kind: str) -> Response:
    """End the ``kind`` console session of the request at once (its row ended, its cookie cleared), back home."""
    with session_scope(runtime_of(request).engine, write=True) as session:
        console.end(session, token=request.cookies.get(COOKIES[kind]))
    response = RedirectResponse("/", status_code=303)
    clear_cookie(response, COOKIES[kind])
    return response
