"""Who may call what: every role against every endpoint, cross-tenant cases included, and rate limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.consent.profiles import Purpose
from openbureau.members.models import Role
from openbureau.runtime import Runtime
from tests.adapters import embedded_runtime  # noqa: F401
from tests.consent.factories import consent_data, default_ref, grant
from tests.events.factories import event
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member

ID = PEOPLE[0][0]
ROLES = {
    "FURN": (Role.FURNISHER,), "BOTH": (Role.FURNISHER, Role.SUBSCRIBER), "SUB": (Role.SUBSCRIBER,),
    "REG": (Role.REGULATOR,), "OPS": (Role.OPERATOR,), "AUTH": (Role.AUTHORITY,),
}


@pytest.fixture
def world(runtime, tmp_path):
    keys = {code: make_member(runtime, code, *roles) for code, roles in ROLES.items()}
    grant(runtime, "FURN", ID)
    grant(runtime, "SUB", ID, Purpose.LOAN_ORIGINATION, ref="SUB-1")
    path = write_file(tmp_path / "sep.csv", [person(0, furnisher_account_id="F-1")])
    with TestClient(create_app(runtime)) as client:
        with path.open("rb") as handle:
            sid = client.post("/v1/submissions", headers={"X-API-Key": keys["FURN"]},
                              files={"file": ("sep.csv", handle)}).json()["id"]
        yield client, keys, sid, path


def _call(client, key, method, url, **kwargs):
    headers = {"X-API-Key": key} if key else {}
    return client.request(method, url, headers=headers, **kwargs)


def _inquiry(purpose="loan_origination", ref=None):
    return {"json": {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}, "purpose": purpose,
                     "consent_ref": ref}}


# endpoint -> expected status per caller (None = no key)
MATRIX = [
    ("GET", "/v1/submissions/{sid}", {},
     {"FURN": 200, "BOTH": 404, "SUB": 403, "REG": 403, "OPS": 200, "AUTH": 403, None: 401}),
    ("GET", "/v1/submissions/{sid}/errors", {},
     {"FURN": 200, "BOTH": 404, "SUB": 403, "REG": 403, "OPS": 200, "AUTH": 403, None: 401}),
    ("GET", "/v1/accounts/F-1", {},
     {"FURN": 200, "BOTH": 404, "SUB": 403, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    # A funder's review: any lending member (furnishing or inquiring) sees what lists it as a funder, here nothing.
    ("GET", "/v1/funded-accounts", {},
     {"FURN": 200, "BOTH": 200, "SUB": 200, "REG": 403, "OPS": 200, "AUTH": 403, None: 401}),
    ("POST", "/v1/inquiries", _inquiry(ref="SUB-1"),
     {"FURN": 403, "BOTH": 403, "SUB": 201, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    # An enterprise's report (standard v1.1): no person's consent, the subscriber role and a permitted purpose.
    ("GET", "/v1/enterprises/91350100M000100Y43/report?purpose=loan_origination", {},
     {"FURN": 403, "BOTH": 200, "SUB": 200, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    ("GET", "/v1/stats/intake", {},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 200, "OPS": 200, "AUTH": 403, None: 401}),
    ("GET", "/v1/quality/scorecards", {},
     {"FURN": 200, "BOTH": 200, "SUB": 403, "REG": 200, "OPS": 200, "AUTH": 403, None: 401}),
    ("GET", "/v1/quality/market", {},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 200, "OPS": 200, "AUTH": 403, None: 401}),
    ("GET", "/v1/fraud/rings/statistics", {},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 200, "OPS": 200, "AUTH": 403, None: 401}),
    ("POST", "/v1/events", {"json": {"events": [event(0, "E-1", at=datetime.now(UTC) - timedelta(hours=1))]}},
     {"FURN": 200, "BOTH": 200, "SUB": 403, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    ("GET", "/v1/events/discrepancies", {},
     {"FURN": 200, "BOTH": 200, "SUB": 403, "REG": 200, "OPS": 200, "AUTH": 403, None: 401}),
    ("POST", "/v1/consents/search", {"json": {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}}},
     {"FURN": 200, "BOTH": 200, "SUB": 200, "REG": 200, "OPS": 200, "AUTH": 200, None: 401}),
    ("GET", "/v1/disputes/tasks", {},
     {"FURN": 200, "BOTH": 200, "SUB": 403, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    ("POST", "/v1/disputes/tasks/999999/answer", {"json": {"outcome": "verified", "evidence": "checked"}},
     {"FURN": 404, "BOTH": 404, "SUB": 403, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    ("GET", "/v1/disputes", {},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 200, "AUTH": 403, None: 401}),
    ("POST", "/v1/disputes", {"json": {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}, "kind": "account",
                                       "lender": "FURN", "furnisher_account_id": "F-1", "statement": "not mine"}},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 201, "AUTH": 403, None: 401}),
    ("POST", "/v1/protections/search", {"json": {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}}},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 200, "AUTH": 403, None: 401}),
    ("POST", "/v1/protections/freezes", {"json": {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}}},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 201, "AUTH": 403, None: 401}),
    ("POST", "/v1/protections/fraud-alerts", {"json": {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}}},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 201, "AUTH": 403, None: 401}),
    ("POST", "/v1/authority-requests", {"json": {
        "subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}, "basis": "court_order", "citation": "Art. 1",
        "reference": "R-1", "order_hash": "ab" * 32}},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 403, "AUTH": 201, None: 401}),
    ("GET", "/v1/authority-requests", {}, {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 200, "AUTH": 200,
                                           None: 401}),
    ("GET", "/v1/inquiries/batches", {},
     {"FURN": 403, "BOTH": 200, "SUB": 200, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    ("GET", "/v1/inquiries/batches/999999", {},
     {"FURN": 403, "BOTH": 404, "SUB": 404, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    ("POST", "/v1/inquiries/batches", {"files": {"file": ("s.csv", b"reference,id_type,id_number,purpose\n")}},
     {"FURN": 403, "BOTH": 422, "SUB": 422, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    ("GET", "/v1/members/me/statements/2026-01", {},
     {"FURN": 200, "BOTH": 200, "SUB": 200, "REG": 403, "OPS": 403, "AUTH": 403, None: 401}),
    ("GET", "/v1/members/SUB/statements/2026-01", {},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 200, "AUTH": 403, None: 401}),
    ("GET", "/v1/members/me/membership", {},
     {"FURN": 200, "BOTH": 200, "SUB": 200, "REG": 200, "OPS": 200, "AUTH": 200, None: 401}),
    ("GET", "/v1/members/SUB/membership", {},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 200, "AUTH": 403, None: 401}),
    ("POST", "/v1/members/NOBODY/vetting", {"json": {"status": "approved"}},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 404, "AUTH": 403, None: 401}),
    ("POST", "/v1/members/NOBODY/suspend", {"json": {"reason": "test"}},
     {"FURN": 403, "BOTH": 403, "SUB": 403, "REG": 403, "OPS": 404, "AUTH": 403, None: 401}),
    ("GET", "/v1/transparency/authority-requests?year=2026", {},
     {"FURN": 200, "BOTH": 200, "SUB": 200, "REG": 200, "OPS": 200, "AUTH": 200, None: 200}),
]


@pytest.mark.parametrize(("method", "url", "kwargs", "expected"), MATRIX, ids=[f"{m} {u}" for m, u, _, _ in MATRIX])
def test_role_endpoint_matrix(world, method, url, kwargs, expected) -> None:
    client, keys, sid, _ = world
    for caller, status in expected.items():
        response = _call(client, keys.get(caller), method, url.format(sid=sid), **kwargs)
        assert response.status_code == status, (caller, response.text)
        if status >= 400:
            assert set(response.json()) >= {"code", "message", "field"}


def test_submitting_is_for_furnishers_only(world) -> None:
    client, keys, _, path = world
    for caller, status in {"BOTH": 201, "SUB": 403, "REG": 403, "OPS": 403}.items():
        with path.open("rb") as handle:
            response = _call(client, keys[caller], "POST", "/v1/submissions", files={"file": ("sep.csv", handle)})
        assert response.status_code == status, caller


def test_tenants_see_only_their_own_consents_and_data(world) -> None:
    client, keys, _, _ = world
    search = {"json": {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": ID}}}
    seen = {c: [x["consent_ref"] for x in _call(client, keys[c], "POST", "/v1/consents/search", **search).json()]
            for c in ("FURN", "SUB", "BOTH", "REG")}
    assert seen == {"FURN": [default_ref(ID)], "SUB": ["SUB-1"], "BOTH": [], "REG": []}
    furn_consent = _call(client, keys["FURN"], "POST", "/v1/consents/search", **search).json()[0]["id"]
    stolen = _call(client, keys["BOTH"], "POST", f"/v1/consents/{furn_consent}/revoke", json={"reason": "x"})
    assert stolen.status_code == 404
    listed = _call(client, keys["BOTH"], "GET", "/v1/submissions").json()
    assert listed == []
    stats = _call(client, keys["REG"], "GET", "/v1/stats/intake").json()
    assert stats[0]["furnisher"] == "FURN" and "id_number" not in str(stats)


def test_inquiry_refusals_name_what_is_missing(world) -> None:
    client, keys, _, _ = world
    cases = {("BOTH", None): "CONSENT_REQUIRED", ("FURN", "SUB-1"): "ROLE_REQUIRED",
             ("REG", None): "ROLE_REQUIRED", ("SUB", "NOPE"): "CONSENT_NOT_FOUND"}
    for (caller, ref), code in cases.items():
        response = _call(client, keys[caller], "POST", "/v1/inquiries", **_inquiry(ref=ref))
        assert (response.status_code, response.json()["code"]) == (403, code), caller


def test_grant_by_api_releases_held_records(world, tmp_path) -> None:
    client, keys, _, _ = world
    path = write_file(tmp_path / "b.csv", [person(1, furnisher_account_id="B-1")])
    with path.open("rb") as handle:
        sub = _call(client, keys["BOTH"], "POST", "/v1/submissions", files={"file": ("b.csv", handle)}).json()
    assert sub["records_quarantined"] == 1
    body = consent_data(PEOPLE[1][0]).model_dump(mode="json")
    granted = _call(client, keys["BOTH"], "POST", "/v1/consents", json=body)
    assert granted.status_code == 201 and granted.json()["released_records"] == 1
    assert granted.json()["subject_id_number_masked"].startswith("110") and PEOPLE[1][0] not in granted.text
    assert _call(client, keys["SUB"], "POST", "/v1/consents", json=body | {"consent_ref": "z"}).json()["code"] == \
        "ROLE_REQUIRED"


def test_rate_limit_answers_429_per_member(runtime: Runtime) -> None:
    keys = {c: make_member(runtime, c, Role.FURNISHER) for c in ("A1", "B1")}
    limited = Runtime(settings=runtime.settings.model_copy(update={"rate_limit_per_minute": 3}),
                      engine=runtime.engine, vault=runtime.vault)
    with TestClient(create_app(limited)) as client:
        codes = [_call(client, keys["A1"], "GET", "/v1/submissions").status_code for _ in range(4)]
        other = _call(client, keys["B1"], "GET", "/v1/submissions")
        last = _call(client, keys["A1"], "GET", "/v1/submissions")
    assert codes == [200, 200, 200, 429] and other.status_code == 200
    assert last.json()["code"] == "RATE_LIMITED" and int(last.headers["Retry-After"]) >= 1
