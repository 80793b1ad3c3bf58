"""Retention of sign-in records: `openbureau retention run` deletes the persons' sessions (each holding a sealed
document), sign-in challenges and console sessions over more than OPENBUREAU_SESSION_RECORD_DAYS ago, keeps
the live and the recent ones, counts without deleting on --dry-run, and audits what it deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from typer.testing import CliRunner

from openbureau.audit import service as audit
from openbureau.audit.service import terminal_operator
from openbureau.cli.main import app
from openbureau.kit.db import session_scope, utcnow
from openbureau.members import console
from openbureau.members.models import ConsoleSession
from openbureau.people.models import PersonSession, SigninChallenge
from tests.security.factories import cli_env

runner = CliRunner()


def _rows(runtime) -> dict[str, set[str]]:
    with session_scope(runtime.engine) as session:
        return {"persons": set(session.scalars(select(PersonSession.token_hash))),
                "challenges": set(session.scalars(select(SigninChallenge.token_hash))),
                "consoles": {h[:1] for h in session.scalars(select(ConsoleSession.token_hash))}}


def test_sign_in_records_are_deleted_a_month_after_they_ended_and_live_ones_stay(runtime, monkeypatch) -> None:
    now = utcnow()
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    sealed = runtime.vault.encrypt("11010519491231002X")
    with session_scope(runtime.engine, write=True) as session:
        for mark, opened, revoked in (("o", old, None), ("s", recent, recent), ("r", old, old), ("l", now, None)):
            session.add(PersonSession(token_hash=mark * 64, person_id=1, id_type="CN_RESIDENT_ID", id_enc=sealed,
                                      created_at=opened, expires_at=opened + timedelta(minutes=15),
                                      revoked_at=revoked))
        for mark, made in (("o", old), ("l", now)):
            session.add(SigninChallenge(token_hash=mark * 64, document_hash="d" * 64, person_id=1, code_hash="c" * 64,
                                        status="open", created_at=made, expires_at=made + timedelta(minutes=10)))
        for mark, opened in (("o", old), ("l", now)):
            session.add(ConsoleSession(kind="operator", token_hash=mark * 64, actor_code="OPERATOR:t",
                                       created_at=opened, expires_at=opened + timedelta(minutes=15)))
        console.issue_operator_code(session, principal=terminal_operator())  # a live code: kept
    before = _rows(runtime)
    with cli_env(runtime, monkeypatch):
        dry = runner.invoke(app, ["retention", "run", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert ("would delete 2 persons' sessions, 1 sign-in challenges and 1 console sessions"
                in " ".join(dry.output.split())), dry.output
        assert _rows(runtime) == before
        done = runner.invoke(app, ["retention", "run"])
        assert done.exit_code == 0 and "deleted 2 persons' sessions" in " ".join(done.output.split()), done.output
    after = _rows(runtime)
    assert after["persons"] == {"s" * 64, "l" * 64}  # ended two days ago, and live
    assert after["challenges"] == {"l" * 64}
    assert "o" not in after["consoles"] and "l" in after["consoles"] and len(after["consoles"]) == 2
    with session_scope(runtime.engine) as session:
        entries = {e.action: e for e in audit.list_entries(session) if e.action.startswith("retention.")}
        assert '"sessions":2' in entries["retention.person_sessions"].details
        assert '"sessions":1' in entries["retention.console_sessions"].details
        assert session.scalar(select(func.count()).select_from(PersonSession)) == 2
    with cli_env(runtime, monkeypatch):
        again = runner.invoke(app, ["retention", "run"])
    assert "deleted 0 persons' sessions, 0 sign-in challenges and 0 console sessions" in " ".join(again.output.split())
