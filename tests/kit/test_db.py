"""Sessions: a read-only session on PostgreSQL runs each statement on its own (no BEGIN/COMMIT round
trips); on SQLite it is one read transaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from openbureau.kit.db import checkpoint, session_scope


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


def test_a_checkpoint_empties_the_log_and_refuses_an_unknown_mode(sqlite_runtime) -> None:
    with session_scope(sqlite_runtime.engine, write=True) as session:
        session.execute(text("CREATE TABLE probe (n INTEGER)"))
        session.execute(text("INSERT INTO probe VALUES (1)"))
    wal = Path(sqlite_runtime.engine.url.database + "-wal")
    assert wal.stat().st_size > 0
    checkpoint(sqlite_runtime.engine, mode="TRUNCATE")
    assert wal.stat().st_size == 0
    with pytest.raises(ValueError, match="no checkpoint mode"):
        checkpoint(sqlite_runtime.engine, mode="EVERYTHING")
