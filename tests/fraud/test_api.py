"""The fraud list over HTTP: who may file, body limits and malformed bodies, audited reads."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openbureau.api.app import create_app
from openbureau.audit import service as audit
from openbureau.fraud.models import FraudReport
from openbureau.kit.db import session_scope
from tests.adapters import embedded_runtime  # noqa: F401
from tests.fraud.conftest import subject_id

BODY = {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": subject_id(1)}, "category": "identity_theft",
        "occurred_on": "2026-10-01", "reference": "CASE-9", "description": "Documents were forged at the branch.",
        "accounts": ["A-1"]}


def _stored(runtime) -> int:
    with session_scope(runtime.engine) as session:
        return session.scalar(select(func.count()).select_from(FraudReport))


def test_filing_reading_and_withdrawing_over_http(market) -> None:
    runtime, keys = market
    with TestClient(create_app(runtime)) as client:
        for code in ("REG", "OPS"):  # a regulator or the operator files nothing
            r = client.post("/v1/fraud-reports", headers={"X-API-Key": keys[code]}, json=BODY)
            assert r.status_code == 403 and r.json()["code"] == "ROLE_REQUIRED"
        assert client.post("/v1/fraud-reports", json=BODY).status_code == 401
        bad = [
            {**BODY, "description": "x" * 1_001},  # over the size limit of a field
            {**BODY, "accounts": [f"A-{n}" for n in range(21)]},
            {**BODY, "extra": "field"},
            {**BODY, "category": "gossip"},
            {k: v for k, v in BODY.items() if k != "description"},
            {**BODY, "occurred_on": "2999-01-01"},
        ]
        for body in bad:
            r = client.post("/v1/fraud-reports", headers={"X-API-Key": keys["BANK_A"]}, json=body)
            assert r.status_code == 422 and r.json()["code"], r.json()
        r = client.post("/v1/fraud-reports", headers={"X-API-Key": keys["BANK_A"], "Content-Type": "application/json"},
                        content=b"{not json")
        assert r.status_code in (400, 422)
        huge = client.post("/v1/fraud-reports", headers={"X-API-Key": keys["BANK_A"],
                                                         "Content-Type": "application/json"},
                           content=b'{"description": "' + b"x" * 2_000_000 + b'"}')
        assert huge.status_code == 413
        assert _stored(runtime) == 0  # nothing of the refused bodies was kept
        filed = client.post("/v1/fraud-reports", headers={"X-API-Key": keys["BANK_A"]}, json=BODY)
        assert filed.status_code == 201 and "id_number" not in filed.text
        report_id = filed.json()["id"]
        mine = client.get("/v1/fraud-reports", headers={"X-API-Key": keys["BANK_A"]}).json()
        assert [r["id"] for r in mine] == [report_id]
        assert client.get("/v1/fraud-reports", headers={"X-API-Key": keys["BANK_B"]}).json() == []
        other = client.post(f"/v1/fraud-reports/{report_id}/withdraw", headers={"X-API-Key": keys["BANK_B"]},
                            json={"reason": "not mine"})
        assert other.status_code == 404 and other.json()["code"] == "FRAUD_REPORT_NOT_FOUND"
        done = client.post(f"/v1/fraud-reports/{report_id}/withdraw", headers={"X-API-Key": keys["BANK_A"]},
                           json={"reason": "filed in error"})
        assert done.status_code == 200 and done.json()["status"] == "withdrawn"
    with session_scope(runtime.engine) as session:
        reads = audit.list_entries(session, action="fraud.reports_read")
        assert {e.actor_code for e in reads} == {"BANK_A", "BANK_B"}  # every read of the list is audited
        assert len(audit.list_entries(session, action="fraud.report")) == 1
        assert len(audit.list_entries(session, action="fraud.withdraw")) == 1
