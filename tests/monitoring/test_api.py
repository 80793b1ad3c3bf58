"""The monitoring and webhook endpoints as a lender's client calls them, and as another tenant would."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from openbureau.api.app import create_app
from openbureau.monitoring.schemas import MAX_BULK
from tests.adapters import embedded_runtime  # noqa: F401
from tests.intake.factories import PEOPLE


@pytest.fixture
def client(market):
    runtime, keys = market
    with TestClient(create_app(runtime)) as http:
        yield http, keys


def _subject(index: int, reference: str, **extra) -> dict:
    return {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": PEOPLE[index][0]}, "reference": reference, **extra}


def test_register_list_and_delete_as_a_tenant(client) -> None:
    http, keys = client
    lender, other = {"X-API-Key": keys["LENDER"]}, {"X-API-Key": keys["OTHER"]}
    created = http.post("/v1/monitoring/subscriptions", headers=lender, json=_subject(0, "REF-0"))
    assert created.status_code == 201, created.text
    assert PEOPLE[0][0] not in created.text and created.json()["basis"] == "consent:AR-0"
    refused = http.post("/v1/monitoring/subscriptions", headers=other, json=_subject(0, "THEIRS"))
    assert refused.status_code == 403 and refused.json()["code"] == "CONSENT_REQUIRED"
    assert PEOPLE[0][0] not in refused.text
    assert [s["reference"] for s in http.get("/v1/monitoring/subscriptions", headers=lender).json()] == ["REF-0"]
    assert http.get("/v1/monitoring/subscriptions", headers=other).json() == []
    sid = created.json()["id"]
    assert http.delete(f"/v1/monitoring/subscriptions/{sid}", headers=other).status_code == 404
    assert http.delete(f"/v1/monitoring/subscriptions/{sid}", headers=lender).status_code == 204
    assert http.get("/v1/monitoring/subscriptions", headers=lender).json() == []
    assert http.post("/v1/monitoring/subscriptions", headers={"X-API-Key": keys["P1"]},
                     json=_subject(0, "R")).status_code == 403  # a furnisher only is no subscriber
    assert http.get("/v1/monitoring/subscriptions").status_code == 401


def test_bulk_and_input_limits(client) -> None:
    http, keys = client
    lender = {"X-API-Key": keys["LENDER"]}
    bulk = http.post("/v1/monitoring/subscriptions/bulk", headers=lender,
                     json={"subscriptions": [_subject(0, "REF-0"), _subject(1, "REF-1")]})
    assert bulk.status_code == 200 and (bulk.json()["registered"], bulk.json()["refused"]) == (1, 1)
    too_many = http.post("/v1/monitoring/subscriptions/bulk", headers=lender,
                         json={"subscriptions": [_subject(0, "R")] * (MAX_BULK + 1)})
    assert too_many.status_code == 422
    assert http.post("/v1/monitoring/subscriptions", headers=lender,
                     json=_subject(0, "x" * 65)).status_code == 422
    bad = http.post("/v1/monitoring/subscriptions", headers=lender, json=_subject(0, "bad reference"))
    assert bad.status_code == 422 and PEOPLE[0][0] not in bad.text
    malformed = http.post("/v1/monitoring/subscriptions", headers=lender,
                          json={"subject": {"id_type": "CN_RESIDENT_ID", "id_number": "11010119900307123X"},
                                "reference": "R"})
    assert malformed.status_code == 422 and "11010119900307123X" not in malformed.text


def test_endpoints_secret_shown_once_and_https_required(client) -> None:
    http, keys = client
    lender, other = {"X-API-Key": keys["LENDER"]}, {"X-API-Key": keys["OTHER"]}
    for url in ("http://hooks.example.com/x", "https://10.0.0.5/x", "https://user:pw@hooks.example.com/",
                "http://127.0.0.1:9/x", "ftp://hooks.example.com/"):
        answer = http.post("/v1/webhooks/endpoints", headers=lender, json={"url": url})
        assert answer.status_code == 422 and answer.json()["code"] == "WEBHOOK_URL_INVALID", url
    made = http.post("/v1/webhooks/endpoints", headers=lender, json={"url": "https://hooks.example.com/bureau"})
    assert made.status_code == 201 and made.json()["secret"].startswith("whsec_")
    listed = http.get("/v1/webhooks/endpoints", headers=lender).json()
    assert [e["url"] for e in listed] == ["https://hooks.example.com/bureau"] and "secret" not in listed[0]
    assert http.get("/v1/webhooks/endpoints", headers=other).json() == []
    eid = made.json()["id"]
    rotated = http.post(f"/v1/webhooks/endpoints/{eid}/rotate", headers=lender, json={"grace_hours": 2})
    assert rotated.status_code == 200 and rotated.json()["secret"] != made.json()["secret"]
    assert http.post(f"/v1/webhooks/endpoints/{eid}/rotate", headers=other, json={}).status_code == 404
    assert http.post(f"/v1/webhooks/endpoints/{eid}/rotate", headers=lender,
                     json={"grace_hours": 1000}).status_code == 422
    assert http.get("/v1/webhooks/deliveries", headers=lender).json() == []
    assert http.post("/v1/webhooks/deliveries/1/replay", headers=other).status_code == 404
    assert http.delete(f"/v1/webhooks/endpoints/{eid}", headers=other).status_code == 404
    assert http.delete(f"/v1/webhooks/endpoints/{eid}", headers=lender).status_code == 204
    assert http.get("/v1/webhooks/endpoints", headers=lender).json() == []


def test_a_score_threshold_set_at_registration_and_changed_by_its_lender(client) -> None:
    http, keys = client
    lender, other = {"X-API-Key": keys["LENDER"]}, {"X-API-Key": keys["OTHER"]}
    created = http.post("/v1/monitoring/subscriptions", headers=lender, json=_subject(0, "REF-0", score_threshold=30))
    assert created.status_code == 201 and created.json()["score_threshold"] == 30
    sid = created.json()["id"]
    assert http.patch(f"/v1/monitoring/subscriptions/{sid}", headers=other,
                      json={"score_threshold": 5}).status_code == 404
    assert http.patch(f"/v1/monitoring/subscriptions/{sid}", headers=lender,
                      json={"score_threshold": 0}).status_code == 422
    changed = http.patch(f"/v1/monitoring/subscriptions/{sid}", headers=lender, json={"score_threshold": None})
    assert changed.status_code == 200 and changed.json()["score_threshold"] is None
    assert http.get("/v1/monitoring/subscriptions", headers=lender).json()[0]["score_threshold"] is None
