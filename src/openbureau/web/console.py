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
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from openbureau.api.deps import authenticate_request
from openbureau.api.edge import client_key
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError, Forbidden, NotFound, Unauthenticated
from openbureau.members import console
from openbureau.members.models import Member
from openbureau.principals import Principal
from openbureau.web.i18n import N_
from openbureau.web.pages import with_cookies
from openbureau.web.render import page
from openbureau.web.session import PagesRateLimited as RateLimited
from openbureau.web.session import (
    clear_cookie,
    csrf_for,
    nonce_for,
    read_bounded_form,
    runtime_of,
    set_cookie,
)

MEMBER_COOKIE = "__Host-obm_session"
OPERATOR_COOKIE = "__Host-obo_session"
SESSION_SECONDS = int(console.SESSION_TTL.total_seconds())
COOKIES = {console.MEMBER: MEMBER_COOKIE, console.OPERATOR: OPERATOR_COOKIE}
SIGNIN = {console.MEMBER: "/regulator/signin", console.OPERATOR: "/operator/signin"}
LENDER_SIGNIN = "/lender/signin"  # a member's pages under /lender: the workspace's own sign-in


class ConsoleSignInRequired(Exception):
    """A console page without a live console session: off to that console's sign-in page."""

    def __init__(self, kind: str, path: str = "") -> None:
        super().__init__(kind)
        self.location = LENDER_SIGNIN if kind == console.MEMBER and path.startswith("/lender") else SIGNIN[kind]


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
        raise ConsoleSignInRequired(kind, request.url.path)
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
        raise NotFound(N_("There is no such page."))
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


async def member_sign_in(request: Request, form: dict, *, may: Callable[[Principal], bool]) -> str | tuple[int, str | None]:
    """A member's staff signs in with the member's API key and the key's second factor: the key checked as the
    edge checks it (failure and member rates), then ``may`` (403 when it refuses the member), then the code
    (``members.second_factor``; a wrong one counts as a failed sign-in). The new session's token, or the status
    and message to answer with (None: the caller's own refusal)."""
    member = await member_of_form(request, form)
    if isinstance(member, str):
        return 401, member
    if not may(Principal.of_member(member)):
        return 403, None
    runtime = runtime_of(request)

    def opened() -> str | console.SecondFactorRefused:
        with session_scope(runtime.engine, write=True) as session:
            try:
                return console.open_member_session(session, vault=runtime.vault, member=member,
                                                   api_key=str(form.get("api_key")),
                                                   code=str(form.get("code", ""))[:16])
            except console.SecondFactorRefused as refused:
                return refused  # committed: the wrong code is counted on the key

    token = await run_in_threadpool(opened)
    if isinstance(token, console.SecondFactorRefused):
        await count_failure(request)
        return 401, token.message
    return token


def signin_form(request: Request, console_name: str, *, status_code: int = 200, error: str | None = None) -> Response:
    """The sign-in page of a console (``lender``, ``regulator`` or ``operator``), posting to ``/<console>/signin``,
    its CSRF token bound to a nonce cookie."""
    cookies: dict[str, str] = {}
    nonce_for(request, cookies)
    return with_cookies(page(request, "console_signin.html.j2", status_code=status_code, error=error,
                             action=f"/{console_name}/signin", console=console_name), cookies)


def signed_in(token: str, location: str) -> Response:
    """The answer to a member's sign-in: its console cookie set, on to ``location``."""
    response = RedirectResponse(location, status_code=303)
    set_cookie(response, MEMBER_COOKIE, token, max_age=SESSION_SECONDS)
    return response


def sign_out(request: Request, kind: str) -> Response:
    """End the ``kind`` console session of the request at once (its row ended, its cookie cleared), back home."""
    with session_scope(runtime_of(request).engine, write=True) as session:
        console.end(session, token=request.cookies.get(COOKIES[kind]))
    response = RedirectResponse("/", status_code=303)
    clear_cookie(response, COOKIES[kind])
    return response
