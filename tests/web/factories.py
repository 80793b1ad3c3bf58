"""Factories of the portal's tests: read a page's CSRF token, sign a person in through the forms."""

from __future__ import annotations

import re

from openbureau.runtime import Runtime
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


def regulator_sign_in(client, key: str):
    """Sign a member in to the regulator's pages with its API key; the answer of the sign-in form."""
    return client.post("/regulator/signin", data={"csrf": csrf(client, "/regulator/signin"), "api_key": key},
                       follow_redirects=False)


def operator_sign_in(client, runtime: Runtime):
    """Sign the operator in to the console with a fresh code; the answer of the sign-in form."""
    return client.post("/operator/signin", data={"csrf": csrf(client, "/operator/signin"),
                                                  "code": console_code(runtime)}, follow_redirects=False)
