"""The portal's open pages: the landing page, and signing in and out with an identity document and a one-time
code (``people.service``, the same sign-in as ``POST /v1/me/signin`` and ``/v1/me/signin/verify``)."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from openbureau.consent.schemas import Subject
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.people import service as people
from openbureau.web.i18n import N_, gettext_for
from openbureau.web.render import page
from openbureau.web.session import (
    CHALLENGE_COOKIE,
    NONCE_COOKIE,
    SESSION_COOKIE,
    FormDep,
    clear_cookie,
    nonce_for,
    person_or_none,
    read_form,
    runtime_of,
    session_token,
    set_cookie,
)

router = APIRouter(include_in_schema=False)
DOCUMENT_TYPES = {"CN_RESIDENT_ID": N_("Resident identity card"), "PASSPORT": N_("Passport"),
                  "OTHER": N_("Other document")}
# people.SENT, in the portal's catalogue
SENT = N_("If the bureau holds a file for this document and a phone number on file, a %(digits)s-digit code was "
          "sent to that phone. It expires in %(minutes)s minutes.")
NONCE_SECONDS = 3600
CHALLENGE_SECONDS = int(people.CODE_TTL.total_seconds())
SESSION_SECONDS = int(people.SESSION_TTL.total_seconds())


def with_cookies(response: Response, cookies: dict[str, str]) -> Response:
    for name, value in cookies.items():
        set_cookie(response, name, value, max_age=NONCE_SECONDS)
    return response


@router.get("/")
def landing(request: Request) -> Response:
    """What the bureau is, and the way into each area."""
    person_or_none(request)
    return page(request, "landing.html.j2", jurisdiction=runtime_of(request).policy.profile.code,
                year=datetime.now(UTC).year)


@router.get("/favicon.ico")
def favicon() -> Response:
    """The bureau's icon, where browsers look for it on pages that name none (the report's own page)."""
    return Response((resources.files("openbureau.web") / "static" / "favicon.svg").read_bytes(),
                    media_type="image/svg+xml")


@router.get("/signin")
def signin_page(request: Request) -> Response:
    """Name your identity document."""
    if person_or_none(request) is not None:
        return RedirectResponse("/me", status_code=303)
    cookies: dict[str, str] = {}
    nonce_for(request, cookies)
    return with_cookies(page(request, "signin.html.j2", types=DOCUMENT_TYPES), cookies)


@router.post("/signin")
def signin(request: Request, form: FormDep) -> Response:
    """Ask for a code: it goes to the phone on file; the answer is the same for a document the bureau does not
    hold."""
    nonce_for(request, {})
    try:
        document = Subject(id_type=form.get("id_type", ""), id_number=form.get("id_number", ""))
    except ValidationError:  # the message names no number: the page says only what is wrong
        return page(request, "signin.html.j2", status_code=422, types=DOCUMENT_TYPES,
                    error=N_("Choose a document type and enter its number as printed on the document."))
    runtime = runtime_of(request)
    try:
        with session_scope(runtime.engine, write=True) as session:
            started = people.start_signin(session, vault=runtime.vault, key=runtime.signin_key, document=document)
    except BureauError as exc:
        return page(request, "signin.html.j2", status_code=exc.status_code, types=DOCUMENT_TYPES, error=exc.message)
    response = RedirectResponse("/signin/code", status_code=303)
    set_cookie(response, CHALLENGE_COOKIE, started.challenge, max_age=CHALLENGE_SECONDS)
    return response


@router.get("/signin/code")
def code_page(request: Request) -> Response:
    """Enter the code you received."""
    if not request.cookies.get(CHALLENGE_COOKIE):
        return RedirectResponse("/signin", status_code=303)
    cookies: dict[str, str] = {}
    nonce_for(request, cookies)
    return with_cookies(page(request, "code.html.j2", message=gettext_for(request)(SENT) % {
        "digits": people.CODE_DIGITS, "minutes": CHALLENGE_SECONDS // 60}), cookies)


@router.post("/signin/code")
def verify(request: Request, form: FormDep) -> Response:
    """The code and the challenge give a session, kept in the session cookie."""
    nonce_for(request, {})
    challenge = request.cookies.get(CHALLENGE_COOKIE)
    if not challenge:
        return RedirectResponse("/signin", status_code=303)
    code = form.get("code", "")
    runtime = runtime_of(request)
    with session_scope(runtime.engine, write=True) as session:  # a wrong code is counted even though refused
        outcome = people.verify_signin(session, vault=runtime.vault, key=runtime.signin_key, challenge=challenge,
                                       code=code[:16])
    try:
        issued = outcome.result()
    except BureauError as exc:
        return page(request, "code.html.j2", status_code=exc.status_code, error=exc.message)
    response = RedirectResponse("/me", status_code=303)
    set_cookie(response, SESSION_COOKIE, issued.token, max_age=SESSION_SECONDS)
    clear_cookie(response, CHALLENGE_COOKIE)
    clear_cookie(response, NONCE_COOKIE)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    """End the session at once (the token stops working for the API too)."""
    person = person_or_none(request)
    response = RedirectResponse("/", status_code=303)
    if person is not None:  # an ended session has nothing left to end
        await read_form(request)
        await run_in_threadpool(_sign_out, request, person)
    clear_cookie(response, SESSION_COOKIE)
    return response


def _sign_out(request: Request, person) -> None:
    runtime = runtime_of(request)
    with session_scope(runtime.engine, write=True) as session:
        people.sign_out(session, principal=person, token=session_token(request))
