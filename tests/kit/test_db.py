"""Sessions: a read-only session on PostgreSQL runs each statement on its own (no BEGIN/COMMIT round
trips); on SQLite it is one read transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from openbureau.kit.db import session_scope


def test_a_read_only_session_reads_statement_by_statement_on_postgresql(runtime) -> None:
    with session_scope(runtime.engine, read_only=True) as session:
        rows = session.execute(text("SELECT count(*) FROM members")).scalar_one()
        assert rows == 0
        if runtime.engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_sleep(0.02)"))
            # now() is the start of the transaction: equal to the statement's own time only outside one
            assert session.execute(text("SELECT now() = statement_timestamp()")).scalar_one() is True
    with session_scope(runtime.engine) as session:
        if runtime.engine.dialect.name == "postgresql":
            session.execute(text("SELECT pg_sleep(0.02)"))
            assert session.execute(text("SELECT now() = statement_timestamp()")).scalar_one() is False


def test_a_session_cannot_both_write_and_be_read_only(sqlite_runtime) -> None:
    with pytest.raises(ValueError, match="both write and be read only"), session_scope(
            sqlite_runtime.engine, write=True, read_only=True):
        pass
