"""The portal's open pages: the landing page, sign-in and sign-out, and the defences every page shares
(the session cookie's attributes, CSRF tokens, bounded forms, the content security policy)."""

from __future__ import annotations

import re

from openbureau.api.edge import PAGE_POLICY
from openbureau.web.app import create_app
from tests.intake.factories import PEOPLE
from tests.people.factories import bearer
from tests.security.helpers import with_settings
from tests.web.factories import csrf, english, sign_in

ID = PEOPLE[0][0]


def test_the_landing_page_explains_the_bureau_and_links_each_area_and_the_api_docs(portal) -> None:
    client, _, _ = portal
    page = client.get("/")
    assert page.status_code == 200 and "consumer credit bureau" in page.text
    links = set(re.findall(r'href="([^"]+)"', page.text))
    assert {"/me", "/signin", "/v1/docs", "/v1/redoc", "/static/portal.css"} <= links
    assert all(link.startswith("/") or link.startswith("#") for link in links), links  # nothing from elsewhere
    assert page.headers["content-security-policy"] == PAGE_POLICY and "'unsafe-inline'" not in PAGE_POLICY
    assert "<script" not in page.text
    assert client.get("/static/portal.css").status_code == 200
    assert client.get("/v1/docs").status_code == 200


def test_signing_in_sets_a_strict_session_cookie_that_is_the_apis_session(portal) -> None:
    client, runtime, _ = portal
    entered = sign_in(client, runtime, ID)
    cookie = next(c for c in entered.headers.get_list("set-cookie") if c.startswith("__Host-obp_session="))
    attributes = {a.strip().lower() for a in cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= attributes
    assert "max-age=900" in attributes  # the session's 15 minutes
    token = client.cookies["__Host-obp_session"]
    assert client.get("/v1/me/consents", headers=bearer(token)).status_code == 200  # one session for both
    home = client.get("/me")
    assert home.status_code == 200 and "Your file" in home.text and ID not in home.text

    signed_out = client.post("/signout", data={"csrf": csrf(client, "/me")}, follow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/")
    assert client.get("/v1/me/consents", headers=bearer(token)).status_code == 401  # ended for the API too
    client.cookies.set("__Host-obp_session", token)  # a kept copy of the cookie is worth nothing now
    assert client.get("/me", follow_redirects=False).headers["location"] == "/signin"


def test_a_wrong_code_gives_no_session_and_says_nothing_of_the_document(portal) -> None:
    client, runtime, _ = portal
    asked = client.post("/signin", data={"csrf": csrf(client, "/signin"), "id_type": "CN_RESIDENT_ID",
                                         "id_number": ID}, follow_redirects=False)
    assert asked.status_code == 303
    wrong = client.post("/signin/code", data={"csrf": csrf(client, "/signin/code"), "code": "000000"},
                        follow_redirects=False)
    assert wrong.status_code == 401 and "wrong, expired or already used" in wrong.text
    assert "__Host-obp_session" not in client.cookies and ID not in wrong.text
    malformed = client.post("/signin", data={"csrf": csrf(client, "/signin"), "id_type": "CN_RESIDENT_ID",
                                             "id_number": "<b>zqxw</b>"})
    assert malformed.status_code == 422 and "zqxw" not in malformed.text  # what was typed is not echoed


def test_an_unknown_document_is_answered_as_a_known_one(portal) -> None:
    client, _, _ = portal
    known = client.post("/signin", data={"csrf": csrf(client, "/signin"), "id_type": "CN_RESIDENT_ID",
                                         "id_number": ID}, follow_redirects=False)
    unknown = client.post("/signin", data={"csrf": csrf(client, "/signin"), "id_type": "CN_RESIDENT_ID",
                                           "id_number": PEOPLE[3][0]}, follow_redirects=False)
    assert known.status_code == unknown.status_code == 303
    assert known.headers["location"] == unknown.headers["location"] == "/signin/code"


def test_a_post_without_its_csrf_token_is_refused(portal) -> None:
    client, runtime, _ = portal
    form = {"id_type": "CN_RESIDENT_ID", "id_number": ID}
    assert client.post("/signin", data=form).status_code == 403
    assert client.post("/signin", data={**form, "csrf": "0" * 64}).status_code == 403
    sign_in(client, runtime, ID)
    before = csrf(client, "/me")
    refused = client.post("/me/protections/freezes", data={}, follow_redirects=False)
    assert refused.status_code == 403 and "CSRF_FAILED" in refused.text
    other = english(create_app(runtime))  # another browser's token
    other_token = csrf(other, "/signin")
    assert client.post("/me/protections/freezes", data={"csrf": other_token}).status_code == 403
    cross = client.post("/me/protections/freezes", data={"csrf": before}, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403  # the right token, but the browser says another site posted it
    assert "not frozen" in client.get("/me/protections").text
    assert client.post("/me/protections/freezes", data={"csrf": before}, follow_redirects=False).status_code == 303


def test_an_oversize_form_is_refused_413(portal) -> None:
    client, runtime, _ = portal
    token = csrf(client, "/signin")
    huge = client.post("/signin", data={"csrf": token, "id_type": "CN_RESIDENT_ID", "id_number": "1" * 20_000})
    assert huge.status_code == 413
    field = client.post("/signin", data={"csrf": token, "id_type": "CN_RESIDENT_ID", "id_number": "1" * 5_000})
    assert field.status_code == 413  # one field past its limit, within the body's
    many = client.post("/signin", data={"csrf": token, **{f"f{i}": "x" for i in range(50)}})
    assert many.status_code == 413


def test_pages_of_the_person_redirect_to_sign_in_without_a_session(portal) -> None:
    client, _, _ = portal
    for path in ("/me", "/me/report", "/me/inquiries", "/me/consents", "/me/disputes", "/me/protections",
                 "/me/export"):
        answer = client.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/signin"), path
    for path in ("/me/report/view", "/me/consents/1/revoke", "/me/disputes", "/me/protections/freezes"):
        answer = client.post(path, data={"csrf": "x"}, follow_redirects=False)
        assert (answer.status_code, answer.headers.get("location")) == (303, "/signin"), path
    assert client.get("/nowhere").status_code == 404 and "no such page" in client.get("/nowhere").text
    assert client.get("/v1/nowhere").json()["code"] == "UNAUTHENTICATED"  # the API's answers stay the API's


def test_the_persons_pages_share_the_rate_of_their_api_calls(market) -> None:
    runtime, _ = market
    with english(create_app(with_settings(runtime, rate_limit_per_minute=3))) as client:
        sign_in(client, runtime, ID)
        token = client.cookies["__Host-obp_session"]
        assert [client.get("/me").status_code for _ in range(2)] == [200, 200]
        assert client.get("/v1/me/consents", headers=bearer(token)).status_code == 200
        limited = client.get("/me/consents")
        assert limited.status_code == 429 and "RATE_LIMITED" in limited.text
