"""A service's rows written in bulk (``Dialect.insert_rows``, ``insert_returning_ids``; PostgreSQL: COPY) are
the rows an INSERT writes: the ids in the rows' order, the columns' own defaults filled in, each value
through its column's bind processing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from openbureau.inquiries.models import Inquiry
from openbureau.kit.db import session_scope
from openbureau.kit.dialects import dialect_for
from openbureau.notifications.models import Notification, NotificationStatus

AT = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _inquiry(n: int, **extra) -> dict:
    return {"subscriber_id": None, "person_id": 1_000 + n, "enterprise_id": None, "purpose": "loan_origination",
            "hard": n % 2, "basis": "consent", "consent_id": None, "basis_note": "note " * n or None,
            "declared_monthly_income": n * 100, "actor_code": f"BANK_{n}", "created_at": AT + timedelta(seconds=n),
            **extra}


def test_ids_come_back_in_the_rows_order_and_each_row_is_as_written(runtime) -> None:
    rows = [_inquiry(n) for n in range(300)]
    with session_scope(runtime.engine, write=True) as session:
        conn = session.connection()
        first = dialect_for(conn).insert_returning_ids(conn, Inquiry.__table__, rows[:1])
        ids = dialect_for(conn).insert_returning_ids(conn, Inquiry.__table__, rows[1:])
        assert dialect_for(conn).insert_returning_ids(conn, Inquiry.__table__, []) == []
    ids = first + ids
    assert len(set(ids)) == 300 and ids == sorted(ids)
    with session_scope(runtime.engine) as session:
        stored = {i.id: i for i in session.scalars(select(Inquiry).where(Inquiry.id.in_(ids)))}
    for inquiry_id, row in zip(ids, rows, strict=True):
        got = stored[inquiry_id]
        assert {k: getattr(got, k) for k in row} == row


def test_columns_left_out_take_their_defaults_and_keys_may_come_in_any_order(runtime) -> None:
    before = datetime.now(UTC)
    base = {"kind": "inquiry.hard", "person_id": 7, "subject_id_type": None, "subject_id_enc": None,
            "recipient_enc": None, "message_enc": b"\x00sealed\xff", "next_attempt_at": AT, "expires_at": None}
    rows = [base, dict(reversed(list({**base, "person_id": 8}.items())))]  # a service may build its dicts in any order
    with session_scope(runtime.engine, write=True) as session:
        conn = session.connection()
        dialect_for(conn).insert_rows(conn, Notification.__table__, rows)
    with session_scope(runtime.engine) as session:
        stored = session.scalars(select(Notification).order_by(Notification.person_id)).all()
    assert [(n.person_id, n.message_enc, n.next_attempt_at) for n in stored] == [(7, b"\x00sealed\xff", AT),
                                                                                (8, b"\x00sealed\xff", AT)]
    assert all(n.status == NotificationStatus.PENDING and n.attempts == 0 and n.sent_at is None for n in stored)
    assert all(before <= n.created_at <= datetime.now(UTC) for n in stored)  # utcnow, called for the row


def test_a_naive_time_is_refused_and_nothing_is_written(runtime) -> None:
    # An INSERT wraps the type's error in SQLAlchemy's StatementError; COPY raises it as it is.
    with pytest.raises((ValueError, StatementError), match="naive datetime"):
        with session_scope(runtime.engine, write=True) as session:
            conn = session.connection()
            dialect_for(conn).insert_returning_ids(conn, Inquiry.__table__, [
                _inquiry(1), _inquiry(2, created_at=datetime(2026, 3, 1, 12, 0))])
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(Inquiry)).all() == []
