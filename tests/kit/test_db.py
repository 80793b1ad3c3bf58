"""Sessions: a read-only session on PostgreSQL runs each statement on its own (no BEGIN/COMMIT round
trips); on SQLite it is one read transaction."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

from openbureau.kit.db import Checkpointer, checkpoint, session_scope, writer_engine
from openbureau.kit.dialects import dialect_for


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


def _rows_in_the_database_file_alone(path: Path, copy_dir: Path) -> int:
    """Rows of ``probe`` in a copy of the database file without its write-ahead log: what was copied back."""
    copy_dir.mkdir(exist_ok=True)
    copy = copy_dir / "bureau.db"
    shutil.copyfile(path, copy)
    with closing(sqlite3.connect(copy)) as conn:
        try:
            return conn.execute("SELECT count(*) FROM probe").fetchone()[0]
        except sqlite3.DatabaseError:  # the table is still only in the log (or the copy caught a page mid-write)
            return 0


def test_the_checkpointer_copies_the_log_back_into_the_database_while_it_runs(sqlite_runtime, tmp_path) -> None:
    engine = writer_engine(sqlite_runtime.engine)  # no autocheckpoint: only the checkpointer copies the log
    database = Path(engine.url.database)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n INTEGER, pad TEXT)"))
        conn.execute(text("INSERT INTO probe VALUES (:n, :pad)"), [{"n": i, "pad": "x" * 500} for i in range(500)])
    assert _rows_in_the_database_file_alone(database, tmp_path / "before") == 0  # all in the log so far
    checkpointer = Checkpointer(engine, every=0.05).start()
    try:
        deadline, copied = time.monotonic() + 30, 0  # generous: a loaded CI machine
        # Both: the file holds the rows as soon as the checkpoint has copied them, a moment before the
        # checkpointer's thread counts it.
        while (copied < 500 or checkpointer.checkpoints < 1) and time.monotonic() < deadline:
            time.sleep(0.05)
            copied = _rows_in_the_database_file_alone(database, tmp_path / "running")
        assert copied == 500
        assert checkpointer.checkpoints >= 1
        with engine.begin() as conn:  # written after the last tick: the checkpoint made at stop copies it
            conn.execute(text("INSERT INTO probe VALUES (500, 'last')"))
    finally:
        checkpointer.stop()
    assert _rows_in_the_database_file_alone(database, tmp_path / "stopped") == 501
    engine.dispose()


def test_the_checkpointer_runs_on_sqlite_only(runtime) -> None:
    checkpointer = Checkpointer(runtime.engine, every=0.01).start()
    time.sleep(0.05)
    checkpointer.stop()
    if runtime.engine.dialect.name == "postgresql":
        assert checkpointer.checkpoints == 0  # no thread, no log to copy
    else:
        assert checkpointer.checkpoints >= 1  # at least the one made at stop



def test_the_checkpointer_empties_a_long_log_once_no_reader_is_in_it(sqlite_runtime) -> None:
    # PASSIVE checkpoints alone let the log grow without end under steady reads; a long log copied back
    # whole is emptied, after the readers of the moment (a reader holding on makes it try again later).
    engine = writer_engine(sqlite_runtime.engine)
    wal = Path(engine.url.database + "-wal")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n INTEGER, pad TEXT)"))
        conn.execute(text("INSERT INTO probe VALUES (:n, :pad)"), [{"n": i, "pad": "x" * 500} for i in range(500)])
    checkpointer = Checkpointer(engine, truncate_frames=10, truncate_wait=0.05)
    reader = sqlite3.connect(engine.url.database)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM probe").fetchone()[0] == 500  # its snapshot is in the log
        started = time.monotonic()
        checkpointer.checkpoint()
        assert time.monotonic() - started < 1.0  # waited for the reader a moment only
        assert (checkpointer.truncations, wal.stat().st_size > 0) == (0, True)
        reader.execute("COMMIT")
    finally:
        reader.close()
    checkpointer.checkpoint()
    assert (checkpointer.truncations, wal.stat().st_size) == (1, 0)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO probe VALUES (500, 'short')"))
    short = Checkpointer(engine)  # a short log is copied back and left to be reused from its start
    short.checkpoint()
    assert (short.truncations, wal.stat().st_size > 0) == (0, True)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM probe")).scalar_one() == 501
    engine.dispose()


def _write_under_steady_reads(engine, *, transactions: int, between) -> int:
    """``transactions`` writes of about 300 KiB each while a reader thread keeps a snapshot open almost all the
    time; the largest size of the log seen after a write."""
    stop, largest = threading.Event(), 0
    wal = Path(engine.url.database + "-wal")

    def read() -> None:
        with closing(sqlite3.connect(engine.url.database)) as reader:
            while not stop.is_set():
                reader.execute("BEGIN")
                reader.execute("SELECT count(*) FROM probe").fetchone()
                time.sleep(0.002)
                reader.execute("COMMIT")

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for n in range(transactions):
            between()
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO probe VALUES (:n, :pad)"), [{"n": n, "pad": "x" * 600} for _ in range(500)])
            largest = max(largest, wal.stat().st_size)
    finally:
        stop.set()
        thread.join()
    return largest


def test_a_long_job_keeps_the_log_short_between_its_writes_while_inquiries_read(sqlite_runtime, monkeypatch) -> None:
    # A load's automatic checkpoints copy the log back but never empty it while readers come and go: a
    # million-record load grew it by 3.7 GB. Between two of its transactions a job empties it once it passes
    # the limit, after the readers of the moment.
    engine = sqlite_runtime.engine
    dialect = dialect_for(engine)
    monkeypatch.setattr(dialect, "log_limit_bytes", 1 << 20)
    # A try that finds a reader still in the log is made again at the next write, not a second later: on a
    # busy machine the reader thread can hold its snapshot past the wait, and a second of writes then grows
    # the log past the bound this test states (what the pause after a failed try is for is another matter).
    monkeypatch.setattr(dialect, "log_truncate_backoff", 0.0)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (n INTEGER, pad TEXT)"))
    checkpoint(engine, mode="TRUNCATE")
    unbounded = _write_under_steady_reads(engine, transactions=60, between=lambda: None)
    checkpoint(engine, mode="TRUNCATE", wait=5)
    bounded = _write_under_steady_reads(engine, transactions=60, between=lambda: dialect.between_writes(engine))
    assert unbounded > 10 << 20, unbounded  # 60 writes of ~300 KiB, never emptied
    assert bounded < 3 << 20, bounded  # the limit and one write past it
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM probe")).scalar_one() == 60_000
