"""The portal's sign-in state and its defences: the session cookie, CSRF tokens, and bounded forms.

- The session cookie holds the same session token the API takes as a bearer token (``people.service``), so a
  page and an API call are one session: 15 minutes, signed out at once, every use authenticated against the
  database. The cookie is ``__Host-`` prefixed, ``Secure``, ``HttpOnly`` and ``SameSite=Strict``: scripts
  cannot read it, no other site's page sends it, and only this origin over HTTPS (or loopback) sets it.
- Every form that is posted carries a CSRF token: an HMAC under the bureau's sign-in key of the session token
  (signed in) or of a random nonce kept in its own cookie (before sign-in). A post without the right token is
  403, whatever its cookies, and so is one a browser marks as sent by another site (``Sec-Fetch-Site``).
- Forms are read with limits on fields and sizes (the edge bounds the whole body: ``max_form_bytes``); a file
  in a form is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError, Forbidden, Unauthenticated
from openbureau.people import service as people
from openbureau.principals import Principal
from openbureau.runtime import Runtime

SESSION_COOKIE = "__Host-obp_session"
NONCE_COOKIE = "__Host-obp_nonce"  # binds the CSRF token of the sign-in forms
CHALLENGE_COOKIE = "__Host-obp_challenge"  # the sign-in challenge between the two sign-in steps
MAX_FIELDS = 20
MAX_FIELD_CHARS = 4000


class SignInRequired(Exception):
    """A page for the signed-in person was asked for without a valid session: go to the sign-in page."""


class FormRefused(BureauError):
    """A form past its limits (fields, size, files)."""

    status_code = 413
    code = "FORM_TOO_LARGE"


def runtime_of(request: Request) -> Runtime:
    """The bureau this app serves."""
    return request.app.state.runtime


def csrf_for(runtime: Runtime, binding: str) -> str:
    """The CSRF token of forms bound to ``binding`` (a session token or a nonce)."""
    return hmac.new(runtime.signin_key, f"csrf\x1f{binding}".encode(), hashlib.sha256).hexdigest()


def set_cookie(response: Response, name: str, value: str, *, max_age: int) -> None:
    """A cookie only this origin's pages send back: Secure, HttpOnly, SameSite=Strict, the whole site."""
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict")


def clear_cookie(response: Response, name: str) -> None:
    """Forget a cookie (its attributes as when it was set, so that the browser drops it)."""
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


def person_or_none(request: Request) -> Principal | None:
    """The signed-in person of this request, or None (no cookie, or its session ended); kept on the request."""
    if hasattr(request.state, "person"):
        return request.state.person
    token = request.cookies.get(SESSION_COOKIE)
    person = None
    if token:
        runtime = runtime_of(request)
        try:
            with session_scope(runtime.engine, read_only=True) as session:
                person = people.authenticate(session, vault=runtime.vault, token=token)
        except Unauthenticated:
            person = None
    request.state.person = person
    if person is not None:
        request.state.csrf = csrf_for(runtime_of(request), token)
    return person


class PagesRateLimited(BureauError):
    """The person asked for more pages a minute than the API's rate allows them calls."""

    status_code = 429
    code = "RATE_LIMITED"


async def signed_in_person(request: Request) -> Principal:
    """The dependency of the person's pages: the signed-in person, within the same per-person rate as their
    API calls (``api.edge``: one bucket for both), else off to the sign-in page."""
    person = person_or_none(request)
    if person is None:
        raise SignInRequired
    buckets = request.app.state.edge.members
    wait = await buckets.take(f"person:{person.person_id}")
    if wait:
        raise PagesRateLimited(f"over {buckets.capacity} pages a minute; try again in {math.ceil(wait)} s")
    return person


def session_token(request: Request) -> str:
    """The session token of a signed-in request."""
    return request.cookies.get(SESSION_COOKIE, "")


def nonce_for(request: Request, response_cookies: dict[str, str]) -> None:
    """Before sign-in: the CSRF token of the sign-in forms, bound to a nonce cookie (made when missing; the
    caller sets what lands in ``response_cookies``). A signed-in person's forms are bound to their session."""
    if person_or_none(request) is not None:
        return
    nonce = request.cookies.get(NONCE_COOKIE)
    if not nonce or len(nonce) > 64:
        nonce = secrets.token_urlsafe(24)
        response_cookies[NONCE_COOKIE] = nonce
    request.state.csrf = csrf_for(runtime_of(request), nonce)


async def read_bounded_form(request: Request) -> FormData:
    """The posted form within its limits, refused when a browser says another site sent it; its CSRF token is
    the caller's to check (``read_form``, and the consoles' ``web.console.read_console_form``)."""
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_CHARS)
    except (BureauError, HTTPException):  # the edge's 413 or 408 for the body
        raise
    except Exception:  # multipart past its limits, or not a form at all
        raise FormRefused("the form is larger than this page accepts") from None
    if any(not isinstance(v, str) or len(v) > MAX_FIELD_CHARS for v in form.values()):
        raise FormRefused("the form is larger than this page accepts")
    if request.headers.get("sec-fetch-site") == "cross-site":  # a browser says another site sent it
        raise Forbidden("the form did not come from this site", code="CSRF_FAILED")
    return form


async def read_form(request: Request) -> FormData:
    """The posted form, bounded, once its CSRF token is checked (403 ``CSRF_FAILED`` otherwise)."""
    form = await read_bounded_form(request)
    binding = session_token(request) if person_or_none(request) is not None else request.cookies.get(NONCE_COOKIE)
    sent = form.get("csrf")
    if not binding or not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_for(runtime_of(request),
                                                                                           binding)):
        raise Forbidden("the form has expired or did not come from this site: reload the page and try again",
                        code="CSRF_FAILED")
    return form


FormDep = Annotated[FormData, Depends(read_form)]
PagePersonDep = Annotated[Principal, Depends(signed_in_person)]
