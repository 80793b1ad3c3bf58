"""Membership as the bureau runs it, over the reports' small market and the whole API: vetting, licence,
permitted purposes and products, suspension (keys stop, data stays, work waits) and reinstatement; and the
attacks of a member on its own standing. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openbureau.api.app import create_app
from openbureau.audit.models import AuditEntry
from openbureau.audit.service import terminal_operator
from openbureau.inquiries.models import Inquiry
from openbureau.kit.db import session_scope
from openbureau.members import standing
from openbureau.members.schemas import LicenceUpdate, SuspensionCreate
from tests.batches.factories import subject, submit, worker, write_batch
from tests.intake.factories import PEOPLE
from tests.reports.conftest import market  # noqa: F401
from tests.security.helpers import app_with

ASK = {"subject": {"id_type": "CN_RESIDENT_ID", "id_number": PEOPLE[0][0]}, "purpose": "loan_origination",
       "consent_ref": "L-1"}


def _inquiries(runtime, code_id: int | None = None) -> int:
    with session_scope(runtime.engine) as session:
        stmt = select(func.count()).select_from(Inquiry)
        if code_id is not None:
            stmt = stmt.where(Inquiry.subscriber_id == code_id)
        return session.scalar(stmt)


def _h(key: str) -> dict:
    return {"x-api-key": key}


def test_a_suspended_members_keys_stop_at_once_its_data_stays_and_reinstatement_restores(market) -> None:  # noqa: F811
    runtime, keys = market
    with TestClient(create_app(runtime)) as client:  # the default: keys remembered for 2 s
        assert client.post("/v1/inquiries", json=ASK, headers=_h(keys["LENDER"])).status_code == 201
        assert client.get("/v1/members/me", headers=_h(keys["LENDER"])).status_code == 200  # remembered now
        suspended = client.post("/v1/members/LENDER/suspend", json={"reason": "unpaid invoices"},
                                headers=_h(keys["OPS"]))
        assert suspended.status_code == 200 and suspended.json()["suspended"] is True
        for call in (lambda: client.get("/v1/members/me", headers=_h(keys["LENDER"])),
                     lambda: client.post("/v1/inquiries", json=ASK, headers=_h(keys["LENDER"]))):
            refused = call()  # at once in the process that suspended, though the key was remembered
            assert (refused.status_code, refused.json()["code"]) == (401, "MEMBER_SUSPENDED")
            assert "unpaid" not in refused.text  # the reason is the bureau's, not told to the caller
        assert _inquiries(runtime) == 1  # its data stays: the inquiry it made is still logged
        member = client.get("/v1/members/LENDER/membership", headers=_h(keys["OPS"])).json()
        assert (member["suspended"], member["suspension_reason"], member["may_query"]) == (True, "unpaid invoices",
                                                                                            False)
        assert client.post("/v1/members/LENDER/reinstate", headers=_h(keys["OPS"])).json()["suspended"] is False
        assert client.post("/v1/inquiries", json=ASK, headers=_h(keys["LENDER"])).status_code == 201
    assert _inquiries(runtime) == 2
    with session_scope(runtime.engine) as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("member.%"))
                                       .order_by(AuditEntry.seq)))
    assert actions[-2:] == ["member.suspend", "member.reinstate"]


def test_a_suspension_made_elsewhere_is_honoured_within_the_remembered_time(market) -> None:  # noqa: F811
    """As a revocation (tests/security/test_api_edge.py): another process (the command line) suspends; a
    serving process that remembered the key refuses it once OPENBUREAU_API_KEY_CACHE_SECONDS passed, never later."""
    runtime, keys = market
    app = app_with(runtime, api_key_cache_seconds=2.0)
    now = [1_000.0]
    app.state.edge.keys.clock = lambda: now[0]
    with TestClient(app) as client:
        assert client.get("/v1/members/me", headers=_h(keys["LENDER"])).status_code == 200
        with session_scope(runtime.engine, write=True) as session:
            standing.suspend(session, principal=terminal_operator(), code="LENDER",
                             suspension=SuspensionCreate(reason="licence withdrawn"))
        now[0] += 1.9  # within the bound the process may still answer from what it remembered
        assert client.get("/v1/members/me", headers=_h(keys["LENDER"])).status_code == 200
        now[0] += 0.1
        refused = client.get("/v1/members/me", headers=_h(keys["LENDER"]))
        assert (refused.status_code, refused.json()["code"]) == (401, "MEMBER_SUSPENDED")
        now[0] += 0.5
        assert client.get("/v1/members/me", headers=_h(keys["LENDER"])).status_code == 401
    with TestClient(app_with(runtime, api_key_cache_seconds=0)) as client:  # nothing remembered: at once
        assert client.get("/v1/members/me", headers=_h(keys["LENDER"])).json()["code"] == "MEMBER_SUSPENDED"


def test_a_purpose_or_product_not_permitted_is_refused_and_logged_nowhere(market) -> None:  # noqa: F811
    runtime, keys = market
    with TestClient(create_app(runtime)) as client:
        ops = _h(keys["OPS"])
        unknown = client.put("/v1/members/LENDER/permissions", json={"purposes": ["spying"]}, headers=ops)
        assert (unknown.status_code, unknown.json()["code"]) == (422, "UNKNOWN_PURPOSE")
        assert client.put("/v1/members/LENDER/permissions", json={"purposes": ["account_review"]},
                          headers=ops).json()["purposes"] == ["account_review"]
        refused = client.post("/v1/inquiries", json=ASK, headers=_h(keys["LENDER"]))
        assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
            403, "PURPOSE_NOT_PERMITTED", "purpose")
        assert PEOPLE[0][0] not in refused.text
        client.put("/v1/members/LENDER/permissions", json={"purposes": ["*"], "products": ["batch"]}, headers=ops)
        no_report = client.post("/v1/inquiries", json=ASK, headers=_h(keys["LENDER"]))
        assert (no_report.status_code, no_report.json()["code"]) == (403, "PRODUCT_NOT_PERMITTED")
        no_monitoring = client.post("/v1/monitoring/subscriptions", headers=_h(keys["LENDER"]), json={
            "subject": ASK["subject"], "reference": "R-1"})
        assert (no_monitoring.status_code, no_monitoring.json()["code"]) == (403, "PRODUCT_NOT_PERMITTED")
        assert _inquiries(runtime) == 0  # no refusal was logged as an inquiry
        client.put("/v1/members/LENDER/permissions", json={"products": ["report", "signals"]}, headers=ops)
        answer = client.post("/v1/inquiries", json=ASK, headers=_h(keys["LENDER"]))
        report = answer.json()["report"]
        assert answer.status_code == 201 and report["score"] is None and report["signals"]
        assert any("Not shown: score" in note for note in report["notes"])
        no_batch = client.post("/v1/inquiries/batches", headers=_h(keys["LENDER"]),
                               files={"file": ("a.csv", b"reference,id_type,id_number,purpose\n", "text/csv")})
        assert (no_batch.status_code, no_batch.json()["code"]) == (403, "PRODUCT_NOT_PERMITTED")


def test_a_pending_member_or_an_expired_licence_may_not_query_but_a_pending_member_furnishes(market) -> None:  # noqa: F811
    runtime, keys = market
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with TestClient(create_app(runtime)) as client:
        ops = _h(keys["OPS"])
        licence = {"kind": "licence", "number": "CBL-2024/017", "authority": "The central bank",
                   "valid_from": "2024-01-01", "valid_until": yesterday.isoformat()}
        assert client.put("/v1/members/LENDER/licence", json=licence, headers=ops).json()["licence_in_force"] is False
        expired = client.post("/v1/inquiries", json=ASK, headers=_h(keys["LENDER"]))
        assert (expired.status_code, expired.json()["code"]) == (403, "LICENCE_NOT_IN_FORCE")
        renewed = client.put("/v1/members/LENDER/licence", headers=ops, json={**licence, "valid_until": None})
        assert renewed.json()["may_query"] is True
        assert client.post("/v1/inquiries", json=ASK, headers=_h(keys["LENDER"])).status_code == 201
        for bad in ({"number": "<script>"}, {"number": "x" * 65}, {"authority": "a\x00b"},
                    {"valid_until": "2023-12-31"}):
            assert client.put("/v1/members/LENDER/licence", json={**licence, **bad}, headers=ops).status_code == 422
        pending = client.post("/v1/members/BANK_A/vetting", json={"status": "pending", "notes": "re-vetting"},
                              headers=ops).json()
        assert (pending["vetting"], pending["vetted_by"], pending["may_query"]) == ("pending", "OPS", False)
        refused = client.post("/v1/inquiries", json=ASK, headers=_h(keys["BANK_A"]))
        assert (refused.status_code, refused.json()["code"]) == (403, "MEMBER_NOT_VETTED")
        assert client.get("/v1/submissions", headers=_h(keys["BANK_A"])).status_code == 200  # furnishing goes on
        assert client.get("/v1/members/me/membership", headers=_h(keys["BANK_A"])).json()["vetting"] == "pending"
    assert _inquiries(runtime) == 1


def test_a_member_may_not_change_its_own_standing_nor_read_anothers(market) -> None:  # noqa: F811
    runtime, keys = market
    with TestClient(create_app(runtime)) as client:
        client.post("/v1/members/BANK_A/suspend", json={"reason": "audit finding"}, headers=_h(keys["OPS"]))
        lender = _h(keys["LENDER"])
        for method, path, body in (
                ("post", "/v1/members/BANK_A/reinstate", None), ("post", "/v1/members/LENDER/suspend", {"reason": "mine"}),
                ("put", "/v1/members/LENDER/permissions", {"purposes": ["*"], "products": ["prescreen"]}),
                ("post", "/v1/members/LENDER/vetting", {"status": "approved"}),
                ("put", "/v1/members/LENDER/licence", {"kind": "licence", "number": "X-1", "authority": "me",
                                                        "valid_from": "2020-01-01"}),
                ("get", "/v1/members/BANK_A/membership", None), ("get", "/v1/members/BANK_A/statements/2026-10", None)):
            answer = client.request(method.upper(), path, json=body, headers=lender)
            assert (answer.status_code, answer.json()["code"]) == (403, "ROLE_REQUIRED"), path
        # a suspended member cannot reach even the operator's routes: its key stops before any of them
        own = client.post("/v1/members/BANK_A/reinstate", headers=_h(keys["BANK_A"]))
        assert (own.status_code, own.json()["code"]) == (401, "MEMBER_SUSPENDED")
        assert client.get("/v1/members/BANK_A/membership", headers=_h(keys["OPS"])).json()["suspended"] is True
        mine = client.get("/v1/members/me/statements/2026-10", headers=lender)
        assert mine.status_code == 200 and mine.json()["member_code"] == "LENDER"


def test_a_suspended_members_batch_job_waits_and_resumes_on_reinstatement(market, tmp_path) -> None:  # noqa: F811
    runtime, _ = market
    path = write_batch(tmp_path / "b.csv", [subject(0, "R-1", consent_ref="L-1"), subject(0, "R-2", consent_ref="L-1")])
    job = submit(runtime, "LENDER", path)
    with session_scope(runtime.engine, write=True) as session:
        standing.suspend(session, principal=terminal_operator(), code="LENDER",
                         suspension=SuspensionCreate(reason="review"))
    assert worker(runtime).run_once().rows == 0  # not taken: it waits, queued
    claimed = worker(runtime).claim(batch_id=job.id)
    assert claimed is None
    with session_scope(runtime.engine, write=True) as session:
        standing.reinstate(session, principal=terminal_operator(), code="LENDER")
    taken = worker(runtime).claim(batch_id=job.id)
    assert taken is not None
    batch, token = taken
    with session_scope(runtime.engine, write=True) as session:  # suspended while the worker holds the job
        standing.suspend(session, principal=terminal_operator(), code="LENDER",
                         suspension=SuspensionCreate(reason="again"))
    outcome = worker(runtime).run_job(batch, token)
    assert outcome.chunks == 0 and _inquiries(runtime) == 0  # paused before any row was asked
    with session_scope(runtime.engine, write=True) as session:
        standing.reinstate(session, principal=terminal_operator(), code="LENDER")
    assert worker(runtime).run_once().rows == 2
    assert _inquiries(runtime) == 2


def test_the_gate_reads_the_licence_window_inclusively(market) -> None:  # noqa: F811
    runtime, _ = market
    with session_scope(runtime.engine, write=True) as session:
        read = standing.record_licence(session, principal=terminal_operator(), code="LENDER", licence=LicenceUpdate(
            kind="registration", number="R 1", authority="Regulator", valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31)))
        member_standing = standing.get_member(session, code="LENDER").standing
    assert read.licence.kind == "registration"
    assert [member_standing.licence_in_force(d) for d in (date(2025, 12, 31), date(2026, 1, 1), date(2026, 12, 31),
                                                          date(2027, 1, 1))] == [False, True, True, False]
