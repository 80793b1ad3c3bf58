"""The monthly statement: counts that match a month built by hand exactly, other members and months left out;
the member reads only its own; the CSV is spreadsheet-safe; the page and the command line show it; a suspended
member's webhook deliveries wait. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from typer.testing import CliRunner

from openbureau.audit.service import terminal_operator
from openbureau.batches.models import InquiryBatch, InquiryBatchPart
from openbureau.inquiries.models import Inquiry
from openbureau.kit.db import session_scope
from openbureau.kit.errors import BureauError
from openbureau.members import standing
from openbureau.members.schemas import SuspensionCreate
from openbureau.members.service import get_member
from openbureau.metering import service as metering
from openbureau.monitoring.models import Trigger, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from openbureau.monitoring.repository import MonitoringRepository
from openbureau.web.app import create_app
from tests.reports.conftest import market  # noqa: F401
from tests.web.factories import csrf

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _inquiry(member_id: int, at: str, purpose: str = "loan_origination", hard: int = 1) -> dict:
    return dict(subscriber_id=member_id, person_id=1, purpose=purpose, hard=hard, basis="consent", created_at=_at(at))


def _build_month(runtime) -> dict[str, int]:
    """October 2026 for LENDER, with its edges, the months around it and BANK_A's use beside it."""
    with session_scope(runtime.engine, write=True) as session:
        lender, bank = get_member(session, code="LENDER").id, get_member(session, code="BANK_A").id
        conn = session.connection()
        conn.execute(insert(Inquiry.__table__), [
            _inquiry(lender, "2026-10-01 00:00:00"), _inquiry(lender, "2026-10-15 12:00:00"),
            _inquiry(lender, "2026-10-31 23:59:59"),
            _inquiry(lender, "2026-10-02 08:00:00", "account_review", 0),
            _inquiry(lender, "2026-10-20 08:00:00", "account_review", 0),
            _inquiry(lender, "2026-10-21 08:00:00", "collections", 0),
            _inquiry(lender, "2026-09-30 23:59:59"), _inquiry(lender, "2026-11-01 00:00:00"),  # other months
            _inquiry(bank, "2026-10-10 10:00:00")])  # another member
        batch = dict(actor_code="X", file_format="csv", input_sha256="0" * 64, input_bytes=1, status="done",
                     chunk_rows=100, rows_total=150, rows_done=150, rows_answered=150, rows_refused=0, rows_invalid=0,
                     input_offset=0, failures=0, created_at=_at("2026-10-05 00:00:00"))
        mine = conn.execute(insert(InquiryBatch.__table__).returning(InquiryBatch.id),
                            {**batch, "subscriber_id": lender, "token": "a" * 32}).scalar_one()
        theirs = conn.execute(insert(InquiryBatch.__table__).returning(InquiryBatch.id),
                              {**batch, "subscriber_id": bank, "token": "b" * 32}).scalar_one()
        conn.execute(insert(InquiryBatchPart.__table__), [
            dict(batch_id=mine, chunk=0, name="p0", rows=100, created_at=_at("2026-10-05 01:00:00")),
            dict(batch_id=mine, chunk=1, name="p1", rows=50, created_at=_at("2026-11-01 00:00:00")),
            dict(batch_id=theirs, chunk=0, name="q0", rows=7, created_at=_at("2026-10-05 01:00:00"))])
        ids = {}
        for code, member_id in (("LENDER", lender), ("BANK_A", bank)):
            endpoint = conn.execute(insert(WebhookEndpoint.__table__).returning(WebhookEndpoint.id), dict(
                subscriber_id=member_id, url="https://example.test/hook", secret_enc=b"x",
                created_at=_at("2026-09-01 00:00:00"))).scalar_one()
            trigger = conn.execute(insert(Trigger.__table__).returning(Trigger.id), dict(
                subscriber_id=member_id, subject_id=1, person_id=1, reference="R", kind="new_credit",
                category="loan", occurred_at=_at("2026-09-01 00:00:00"),
                created_at=_at("2026-09-01 00:00:00"))).scalar_one()
            deliveries = []
            for n in range(2):
                deliveries.append(conn.execute(insert(WebhookDelivery.__table__).returning(WebhookDelivery.id), dict(
                    delivery_id=f"{code}-{n}", endpoint_id=endpoint, subscriber_id=member_id, trigger_id=trigger,
                    status="delivered" if n == 0 else "pending", attempts=0, next_attempt_at=_at("2026-09-01 00:00:00"),
                    retry_until=_at("2030-01-01 00:00:00"), created_at=_at("2026-09-01 00:00:00"))).scalar_one())
            ids[code] = deliveries[1]
            attempts = [("2026-09-30 23:00:00", "delivered"), ("2026-10-03 00:00:00", "retry"),
                        ("2026-10-03 00:01:00", "retry"), ("2026-10-03 00:05:00", "delivered")]
            conn.execute(insert(WebhookAttempt.__table__), [
                dict(delivery_row_id=deliveries[0], attempt=n, at=_at(at), status_code=200, duration_ms=5,
                     outcome=outcome) for n, (at, outcome) in enumerate(attempts, start=1)])
    return ids


def test_the_statement_counts_a_hand_built_month_exactly(market) -> None:  # noqa: F811
    runtime, _ = market
    _build_month(runtime)
    with session_scope(runtime.engine) as session:
        october = metering.member_statement(session, principal=terminal_operator(), code="LENDER", month="2026-10",
                                            now=NOW)
        running = metering.member_statement(session, principal=terminal_operator(), code="LENDER", month="2026-12",
                                            now=NOW)
        with pytest.raises(BureauError) as future:
            metering.member_statement(session, principal=terminal_operator(), code="LENDER", month="2027-01", now=NOW)
        with pytest.raises(BureauError) as malformed:
            metering.member_statement(session, principal=terminal_operator(), code="LENDER", month="2026-13", now=NOW)
    assert (future.value.code, malformed.value.code) == ("MONTH_NOT_STARTED", "MONTH_INVALID")
    assert [(line.purpose, line.kind, line.quantity) for line in october.lines if line.measure == "inquiries"] == [
        ("account_review", "soft", 2), ("collections", "soft", 1), ("loan_origination", "hard", 3)]
    assert (october.inquiries, october.hard_inquiries, october.soft_inquiries) == (6, 3, 3)
    assert (october.batch_rows, october.webhook_deliveries, october.webhook_attempts) == (100, 1, 3)
    assert (october.files_furnished, october.records_furnished, october.complete) == (0, 0, True)
    assert (running.inquiries, running.batch_rows, running.complete) == (0, 0, False)


def test_a_member_reads_only_its_own_statement_and_its_csv_is_spreadsheet_safe(market) -> None:  # noqa: F811
    runtime, keys = market
    _build_month(runtime)
    with session_scope(runtime.engine, write=True) as session:
        session.connection().execute(insert(Inquiry.__table__), _inquiry(get_member(session, code="LENDER").id,
                                                                          "2026-10-09 00:00:00", '=HYPERLINK("x")', 0))
    with TestClient(create_app(runtime)) as client:
        own = client.get("/v1/members/me/statements/2026-10", headers={"x-api-key": keys["LENDER"]}).json()
        assert (own["member_code"], own["inquiries"], own["batch_rows"]) == ("LENDER", 7, 100)
        bank = client.get("/v1/members/me/statements/2026-10", headers={"x-api-key": keys["BANK_A"]}).json()
        assert (bank["member_code"], bank["inquiries"], bank["batch_rows"], bank["webhook_deliveries"]) == (
            "BANK_A", 1, 7, 1)  # furnished loads ended today, not in October
        other = client.get("/v1/members/LENDER/statements/2026-10", headers={"x-api-key": keys["BANK_A"]})
        assert (other.status_code, other.json()["code"]) == (403, "ROLE_REQUIRED")
        assert client.get("/v1/members/LENDER/statements/2026-10",
                          headers={"x-api-key": keys["OPS"]}).json()["inquiries"] == 7
        assert client.get("/v1/members/me/statements/2026-1x",
                          headers={"x-api-key": keys["LENDER"]}).json()["code"] == "MONTH_INVALID"
        exported = client.get("/v1/members/me/statements/2026-10?format=csv", headers={"x-api-key": keys["LENDER"]})
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="statement-LENDER-2026-10.csv"' in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == list(metering.CSV_COLUMNS)
    assert ["LENDER", "2026-10", "report", "inquiries", "'=HYPERLINK(\"x\")", "soft", "1"] in rows
    assert ["LENDER", "2026-10", "batch", "rows", "", "", "100"] in rows
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_statement_page_and_its_csv(market) -> None:  # noqa: F811
    runtime, keys = market
    _build_month(runtime)
    with TestClient(create_app(runtime), base_url="https://testserver") as client:
        form = {"csrf": csrf(client, "/lender/statement"), "api_key": keys["LENDER"], "month": "2026-10"}
        shown = client.post("/lender/statement", data=form)
        assert shown.status_code == 200 and 'data-testid="statement"' in shown.text
        assert 'data-testid="report-inquiries-loan_origination">3<' in shown.text
        assert 'data-testid="batch-rows">100<' in shown.text and keys["LENDER"] not in shown.text
        download = client.post("/lender/statement", data={**form, "csrf": csrf(client, "/lender/statement"),
                                                          "format": "csv"})
        assert download.headers["content-type"].startswith("text/csv") and "LENDER,2026-10,batch,rows" in download.text
        wrong = client.post("/lender/statement", data={**form, "csrf": csrf(client, "/lender/statement"),
                                                       "api_key": keys["LENDER"][:-4] + "AAAA"})
        assert wrong.status_code == 401 and 'data-testid="statement"' not in wrong.text


def test_the_command_line_prints_a_statement_and_writes_its_csv(market, tmp_path, monkeypatch) -> None:  # noqa: F811
    runtime, _ = market
    _build_month(runtime)
    from openbureau.cli.main import app
    from tests.security.factories import cli_env

    out = tmp_path / "s.csv"
    with cli_env(runtime, monkeypatch):
        result = CliRunner().invoke(app, ["members", "statement", "LENDER", "--month", "2026-10", "--csv", str(out)])
        suspended = CliRunner().invoke(app, ["members", "suspend", "LENDER", "--reason", "late payment"])
        shown = CliRunner().invoke(app, ["members", "show", "LENDER"])
        bad = CliRunner().invoke(app, ["members", "licence", "LENDER", "--kind", "licence", "--number", "<x>",
                                       "--authority", "CB", "--valid-from", "2026-01-01"])
    assert suspended.exit_code == 0 and "late payment" in shown.output and bad.exit_code != 0
    assert result.exit_code == 0, result.output
    assert "loan_origination" in result.output and "100" in result.output
    assert "LENDER,2026-10,furnishing,files,,,0" in out.read_text(encoding="utf-8")


def test_a_suspended_members_webhook_deliveries_wait_and_resume(market) -> None:  # noqa: F811
    runtime, _ = market
    pending = _build_month(runtime)

    def due() -> set[int]:
        with session_scope(runtime.engine, write=True) as session:
            rows = MonitoringRepository(session.connection()).claim_due(now=NOW, limit=10, lease_until=NOW)
            session.rollback()
        return {r.id for r in rows}

    assert due() == {pending["LENDER"], pending["BANK_A"]}
    with session_scope(runtime.engine, write=True) as session:
        standing.suspend(session, principal=terminal_operator(), code="LENDER", suspension=SuspensionCreate(reason="overdue"))
    assert due() == {pending["BANK_A"]}
    with session_scope(runtime.engine, write=True) as session:
        standing.reinstate(session, principal=terminal_operator(), code="LENDER")
    assert due() == {pending["LENDER"], pending["BANK_A"]}
