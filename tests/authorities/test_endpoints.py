"""Requests by authorities over HTTP: only an authority's key may ask (403 for every other role, 401 without a
key or with a person's token), every input bounded (422), an unknown person 404; the person sees the request
after signing in, not while a non-disclosure order runs; the transparency report is open to anyone, rate
limited per address. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.runtime import Runtime
from tests.adapters import embedded_runtime  # noqa: F401
from tests.authorities.factories import CITATION, ORDER_HASH, REFERENCE
from tests.intake.factories import PEOPLE
from tests.people.factories import last_code

ID, UNKNOWN = PEOPLE[0][0], PEOPLE[3][0]
URL = "/v1/authority-requests"
PUBLISHED = "/v1/transparency/authority-requests"


def body(**fields) -> dict:
    return {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}, "basis": "court_order", "citation": CITATION,
            "reference": REFERENCE, "order_hash": ORDER_HASH, **fields}


@pytest.fixture
def api(bureau):
    runtime, keys = bureau
    with TestClient(create_app(runtime)) as client:
        yield client, runtime, keys


def _key(key: str | None) -> dict:
    return {"X-API-Key": key} if key else {}


def _sign_in(client: TestClient, runtime: Runtime) -> dict:
    started = client.post("/v1/me/signin", json={"document": {"id_type": "CN_RESIDENT_ID", "id_number": ID}})
    code, _ = last_code(runtime)
    token = client.post("/v1/me/signin/verify", json={"challenge": started.json()["challenge"], "code": code})
    return {"Authorization": f"Bearer {token.json()['token']}"}


def test_an_authority_requests_and_every_other_caller_is_refused(api) -> None:
    client, runtime, keys = api
    assert client.get("/v1/members/me", headers=_key(keys["COURT"])).json()["roles"] == ["authority"]
    made = client.post(URL, headers=_key(keys["COURT"]), json=body())
    assert made.status_code == 201, made.text
    answer = made.json()
    assert answer["request_id"] >= 1 and answer["report"]["person"]["id_number"] == ID
    assert answer["shown_to_person_from"] == answer["created_at"] and made.headers["cache-control"] == "no-store"
    for caller in ("LENDER", "BANK_A", "TELCO", "REG", "OPS"):
        refused = client.post(URL, headers=_key(keys[caller]), json=body())
        assert (refused.status_code, refused.json()["code"]) == (403, "ROLE_REQUIRED"), caller
    assert client.post(URL, json=body()).status_code == 401
    person = _sign_in(client, runtime)
    assert client.post(URL, headers=person, json=body()).status_code == 401  # a person's token is no member's key
    unknown = client.post(URL, headers=_key(keys["POLICE"]), json=body(subject={"id_type": "CN_RESIDENT_ID",
                                                                                 "id_number": UNKNOWN}))
    assert (unknown.status_code, unknown.json()["code"]) == (404, "PERSON_NOT_FOUND")


@pytest.mark.parametrize(("fields", "field"), [
    ({"citation": "x" * 501}, "citation"),
    ({"citation": ""}, "citation"),
    ({"reference": "r" * 101}, "reference"),
    ({"nondisclosure_ref": "n" * 101, "nondisclosure_until": "2027-01-01T00:00:00Z"}, "nondisclosure_ref"),
    ({"nondisclosure_ref": "ND", "nondisclosure_until": "2027-01-01T00:00:00"}, "nondisclosure_until"),
    ({"order_hash": "ab" * 70}, "order_hash"),
    ({"order_hash": "zz" * 32}, "order_hash"),
    ({"basis": "curiosity"}, "basis"),
    ({"history_months": 61}, "history_months"),
    ({"subject": {"id_type": "CN_RESIDENT_ID", "id_number": "1" * 65}}, "subject.id_number"),
])
def test_every_input_is_bounded(api, fields, field) -> None:
    client, _, keys = api
    refused = client.post(URL, headers=_key(keys["COURT"]), json=body(**fields))
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (422, "INVALID_REQUEST", field)


def test_a_nondisclosure_order_without_its_end_is_a_clear_422(api) -> None:
    client, _, keys = api
    refused = client.post(URL, headers=_key(keys["POLICE"]), json=body(nondisclosure_ref="ND-1"))
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["field"]) == ("NONDISCLOSURE_END_REQUIRED", "nondisclosure_until")
    assert "end date" in refused.json()["message"]
    far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    too_far = client.post(URL, headers=_key(keys["POLICE"]), json=body(nondisclosure_ref="ND-1",
                                                                       nondisclosure_until=far))
    assert (too_far.status_code, too_far.json()["code"]) == (422, "INVALID_NONDISCLOSURE_END")


def test_the_person_sees_requests_after_sign_in_but_not_under_an_order(api) -> None:
    client, runtime, keys = api
    open_request = client.post(URL, headers=_key(keys["TAX"]), json=body(basis="tax_assessment")).json()
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    hidden = client.post(URL, headers=_key(keys["POLICE"]), json=body(
        basis="criminal_investigation", nondisclosure_ref="ND-9", nondisclosure_until=until))
    assert hidden.status_code == 201 and hidden.json()["shown_to_person_from"] > hidden.json()["created_at"]
    person = _sign_in(client, runtime)
    seen = client.get("/v1/me/authority-requests", headers=person)
    assert seen.status_code == 200
    assert [(r["id"], r["authority"], r["authority_name"], r["basis"], r["citation"], r["reference"])
            for r in seen.json()] == [(open_request["request_id"], "TAX", "Beijing Tax Service", "tax_assessment",
                                       CITATION, REFERENCE)]
    assert "ND-9" not in seen.text
    assert client.get("/v1/me/authority-requests", headers=_key(keys["OPS"])).status_code == 401
    assert client.get("/v1/me/authority-requests").status_code == 401
    # Lenders see nothing of it: the person's inquiries list no authority either.
    assert [i["by"] for i in client.get("/v1/me/inquiries", headers=person).json()] == []


def test_the_operator_lists_every_request_an_authority_its_own_and_nobody_else_any(api) -> None:
    client, _, keys = api
    for code in ("COURT", "COURT", "POLICE"):
        assert client.post(URL, headers=_key(keys[code]), json=body()).status_code == 201
    every = client.get(URL, headers=_key(keys["OPS"]))
    assert every.status_code == 200 and [r["authority"] for r in every.json()] == ["POLICE", "COURT", "COURT"]
    assert all(r["person_id"] for r in every.json()) and REFERENCE not in every.text and CITATION not in every.text
    own = client.get(URL, headers=_key(keys["COURT"]))
    assert [r["authority"] for r in own.json()] == ["COURT", "COURT"] and all(r["person_id"] is None for r in own.json())
    assert client.get(URL, headers=_key(keys["TAX"])).json() == []
    for caller in ("LENDER", "BANK_A", "REG"):
        assert client.get(URL, headers=_key(keys[caller])).status_code == 403, caller
    assert client.get(f"{URL}?limit=1001", headers=_key(keys["OPS"])).status_code == 422
    # An authority reads nothing else: no dispute queue, no market, no statistics, no audit (there is no route).
    for route in ("/v1/disputes", "/v1/quality/market", "/v1/stats/intake"):
        assert client.get(route, headers=_key(keys["COURT"])).status_code == 403, route
    assert client.get("/v1/audit", headers=_key(keys["COURT"])).status_code == 404


def test_the_transparency_report_is_published_to_anyone(api) -> None:
    client, _, keys = api
    assert client.post(URL, headers=_key(keys["COURT"]), json=body()).status_code == 201
    year = datetime.now(UTC).year
    published = client.get(f"{PUBLISHED}?year={year}")
    assert published.status_code == 200, published.text
    report = published.json()
    assert report["requests"] == "suppressed" and report["by_authority"][0]["authority"] == "COURT"
    assert ID not in published.text and REFERENCE not in published.text and CITATION not in published.text
    assert client.get(f"{PUBLISHED}?year={year}", headers=_key(keys["REG"])).json()["year"] == year
    assert client.get(PUBLISHED).status_code == 422
    assert client.get(f"{PUBLISHED}?year=1999").status_code == 422
    assert client.get(f"{PUBLISHED}?year=abc").status_code == 422


def test_the_published_report_is_rate_limited_per_address(bureau) -> None:
    runtime, _ = bureau
    limited = Runtime(settings=runtime.settings.model_copy(update={"published_per_minute": 2}),
                      engine=runtime.engine, vault=runtime.vault)
    with TestClient(create_app(limited)) as client:
        answers = [client.get(f"{PUBLISHED}?year=2026") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].json()["code"] == "RATE_LIMITED" and int(answers[-1].headers["Retry-After"]) >= 1
