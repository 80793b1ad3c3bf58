"""Factories of the portal's tests: read a page's CSRF token, sign a person in through the forms."""

from __future__ import annotations

import re

import pyotp
from fastapi.testclient import TestClient

from openbureau.runtime import Runtime
from openbureau.web.i18n import LANG_COOKIE
from tests.people.factories import last_code


def csrf(client, path: str) -> str:
    """The CSRF token of the forms on the page at ``path``."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def sign_in(client, runtime: Runtime, number: str, id_type: str = "CN_RESIDENT_ID"):
    """Sign in through the portal's two forms, the code read from the outbox as the phone would; the answer
    of the code form (a redirect to /me)."""
    asked = client.post("/signin", data={"csrf": csrf(client, "/signin"), "id_type": id_type, "id_number": number},
                        follow_redirects=False)
    assert (asked.status_code, asked.headers["location"]) == (303, "/signin/code"), asked.text
    code, _ = last_code(runtime)
    entered = client.post("/signin/code", data={"csrf": csrf(client, "/signin/code"), "code": code},
                          follow_redirects=False)
    assert (entered.status_code, entered.headers["location"]) == (303, "/me"), entered.text
    return entered


def console_code(runtime: Runtime) -> str:
    """A one-time code for the operator's console, as `openbureau members console-code` issues it."""
    from openbureau.audit.service import terminal_operator
    from openbureau.kit.db import session_scope
    from openbureau.members import console

    with session_scope(runtime.engine, write=True) as session:
        return console.issue_operator_code(session, principal=terminal_operator())


def authenticator_code(runtime: Runtime, key: str) -> str:
    """Enrol the second factor of ``key`` afresh (as `openbureau members second-factor` does) and the code an
    authenticator app holding it shows now; a code of no use when the key is unknown or revoked."""
    from openbureau.audit.service import terminal_operator
    from openbureau.kit.db import session_scope
    from openbureau.kit.errors import NotFound
    from openbureau.members import second_factor

    try:
        with session_scope(runtime.engine, write=True) as session:
            enrolled = second_factor.enrol(session, vault=runtime.vault, principal=terminal_operator(),
                                           prefix=key.split("_")[1])
    except NotFound:
        return "000000"
    return pyotp.TOTP(enrolled.secret).now()


def member_sign_in(client, key: str, *, path: str = "/regulator/signin", code: str | None = None):
    """Sign a member's staff in at ``path`` with the member's API key and the key's second factor (enrolled
    afresh unless ``code`` is given); the answer of the sign-in form."""
    code = authenticator_code(client.app.state.runtime, key) if code is None else code
    return client.post(path, data={"csrf": csrf(client, path), "api_key": key, "code": code}, follow_redirects=False)


def regulator_sign_in(client, key: str):
    """Sign a member in to the regulator's pages with its API key and second factor; the sign-in's answer."""
    return member_sign_in(client, key)


def operator_sign_in(client, runtime: Runtime):
    """Sign the operator in to the console with a fresh code; the answer of the sign-in form."""
    return client.post("/operator/signin", data={"csrf": csrf(client, "/operator/signin"),
                                                  "code": console_code(runtime)}, follow_redirects=False)


def english(app) -> TestClient:
    """A browser of the portal over HTTPS that has chosen English (the test bureau's CN profile would otherwise
    answer in Chinese; ``test_i18n.py`` covers the Chinese pages)."""
    return TestClient(app, base_url="https://testserver", cookies={LANG_COOKIE: "en"})
