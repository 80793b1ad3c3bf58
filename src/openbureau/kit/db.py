"""Database engines, sessions and the declarative base. Engines are made lazily from settings."""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import BigInteger, Connection, DateTime, Engine, Integer, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from openbureau.kit.errors import BureauError

log = logging.getLogger(__name__)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER (a rowid alias) on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every engine (SQLite keeps no zone, so it is restored on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the bureau stores UTC timestamps only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def make_engine(url: str, *, busy_timeout: float = 30.0, autocheckpoint: bool = True, pool_size: int = 32) -> Engine:
    """An engine for ``url`` with the bureau's connection settings (WAL and foreign keys on SQLite).

    Args:
        busy_timeout: SQLite: seconds a connection waits for another's write lock before "database is
            locked" (0: fail at once, for a writer that waits without blocking, see :func:`writer_engine`).
        autocheckpoint: SQLite: whether a commit copies the write-ahead log back into the database once the
            log has grown past 1,000 pages (off: a :class:`Checkpointer` does it).
        pool_size: SQLite: connections kept open (PostgreSQL keeps 16).
    """
    if url.startswith("sqlite"):
        # A pool as large as the number of sessions a serving process holds at once (requests waiting for
        # their group commit keep theirs open): a connection opened past the pool is closed after use, and
        # opening one (with its pragmas) costs more than the request. Last in, first out: each connection
        # has its own page cache, and a serving loop reads through one connection at a time, so reusing
        # the one just returned keeps its cache warm.
        engine = create_engine(url, connect_args={"timeout": busy_timeout, "check_same_thread": False},
                               pool_size=pool_size, max_overflow=32, pool_use_lifo=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it returns (WAL with NORMAL may lose the last commits on a
            # power cut), so a logged inquiry or a loaded file survives one. Loads commit once per file
            # and inquiries commit in groups, so the extra fsync costs little.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            if not autocheckpoint:
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB page cache
            # Read pages through a memory map (as far as the library allows, 2 GiB by default): a page read is
            # then a memory access instead of a system call, which halved a person's file read on 1M persons.
            cursor.execute("PRAGMA mmap_size=1099511627776")
            cursor.execute("PRAGMA temp_store=MEMORY")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:
            # A writer announces itself up front (BEGIN IMMEDIATE) so that two writers queue on the
            # busy timeout instead of one failing when it upgrades a read lock.
            mode = connection.get_execution_options().get("sqlite_begin", "BEGIN")
            connection.connection.dbapi_connection.execute(mode)  # straight to the driver: once per transaction

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=16, max_overflow=32)


def writer_engine(engine: Engine) -> Engine:
    """An engine for a writer that must never block its event loop on another process's write lock.

    SQLite: one connection on the same file that fails at once with "database is locked" (see
    :func:`lock_busy`) instead of sleeping in the driver, and leaves checkpoints to a :class:`Checkpointer`.
    PostgreSQL: ``engine`` itself (row locks, no file lock; its waits are short).
    """
    if engine.dialect.name != "sqlite":
        return engine
    return make_engine(engine.url.render_as_string(hide_password=False), busy_timeout=0, autocheckpoint=False,
                       pool_size=1)


def lock_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" (another connection holds the write lock)."""
    origin = getattr(exc, "orig", exc)
    return isinstance(origin, sqlite3.OperationalError) and "locked" in str(origin)


def checkpoint(engine: Engine, *, mode: str = "PASSIVE") -> None:
    """Copy a SQLite write-ahead log back into the database (``PASSIVE``: without waiting for readers or
    writers; ``TRUNCATE``: all of it, then empty the log file); nothing on other engines."""
    if engine.dialect.name != "sqlite":
        return
    if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
        raise ValueError(f"no checkpoint mode {mode!r}")
    with engine.connect() as conn:
        conn.connection.driver_connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()


class Checkpointer:
    """Copies a SQLite write-ahead log back into the database every ``every`` seconds, in a thread of its own.

    A commit on a connection with autocheckpoint on copies the log itself once it passes 1,000 pages, and
    fsyncs the database file: tens of milliseconds during which a serving event loop would answer nothing.
    The thread spends that time inside SQLite, without the GIL. PASSIVE: it never waits for readers or
    writers, and copies what no reader still needs.
    """

    def __init__(self, engine: Engine, *, every: float = 1.0) -> None:
        self.engine, self.every = engine, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self.checkpoints = 0

    def start(self) -> Checkpointer:
        """Start the thread (a no-op on engines other than SQLite)."""
        if self.engine.dialect.name == "sqlite":
            self._thread.start()
        return self

    def checkpoint(self) -> None:
        """Copy the log now."""
        checkpoint(self.engine)
        self.checkpoints += 1

    def stop(self) -> None:
        """Stop the thread after a last checkpoint."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.checkpoint()
            except Exception:  # a busy or failed checkpoint is retried at the next tick; the log stays valid
                log.warning("WAL checkpoint failed", exc_info=True)
        self.checkpoint()


@functools.lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """The process-wide engine for ``url``."""
    return make_engine(url)


def is_postgres(engine: Engine) -> bool:
    """Whether ``engine`` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


@functools.lru_cache(maxsize=64)
def _session_factory(engine: Engine, mode: str) -> sessionmaker:
    # Made once per engine: building a sessionmaker (and an engine proxy) per request costs more than a query.
    if mode == "write":
        bind = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    elif mode == "read_only" and engine.dialect.name == "postgresql":
        # Each statement in its own snapshot, as under READ COMMITTED inside a transaction, without the BEGIN
        # and COMMIT round trips.
        bind = engine.execution_options(isolation_level="AUTOCOMMIT")
    else:
        bind = engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, *, write: bool = False, read_only: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error.

    Args:
        write: The session will write (SQLite: take the write lock at once, ``BEGIN IMMEDIATE``).
        read_only: The caller only reads (nothing enforces it): on PostgreSQL statement by statement, in
            autocommit, so no BEGIN/COMMIT round trips; on SQLite one read transaction, a snapshot of the
            whole. For hot read paths, such as an inquiry's, where two round trips in ten are worth saving.
    """
    if write and read_only:
        raise ValueError("a session cannot both write and be read only")
    mode = "write" if write else "read_only" if read_only else "read"
    with _session_factory(engine, mode)() as session, session.begin():
        yield session


# The intake lock: one load at a time, and nothing that numbers or moves persons while a load runs.
# PostgreSQL: an advisory lock (a load holds it at session level across its short transactions; other
# writers take it for their transaction). SQLite: an advisory file lock beside the database file, which the
# operating system drops when its holder dies, so a killed load never leaves it held.
INTAKE_LOCK = 7207301


class IntakeBusy(BureauError):
    """A load holds the intake lock; the operation must wait for it to finish."""

    status_code = 409
    code = "LOAD_IN_PROGRESS"


def _lock_file(engine: Engine) -> Path:
    return Path(f"{engine.url.database}.intake-lock")


@contextmanager
def intake_lock(engine: Engine) -> Iterator[None]:
    """Hold the intake lock for a whole load (many short transactions), waiting for another holder first.

    Readers and the inquiry log never take it: a load writes in short transactions and publishes in one,
    so nobody reading waits for it (docs/intake.md, "Loads never block inquiries").
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": INTAKE_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": INTAKE_LOCK})
        return
    path = _lock_file(engine)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def lock_intake(conn: Connection) -> None:
    """Keep loads out until this write transaction ends.

    PostgreSQL: waits for a running load, then holds the advisory lock until the transaction ends.
    SQLite: a write transaction already excludes a load's next step, and must not wait for a load (the
    load would wait for this transaction's write lock in turn): when a load is running it raises
    :class:`IntakeBusy` at once.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": INTAKE_LOCK})
        return
    if conn.dialect.name != "sqlite" or conn.engine.url.database in (None, "", ":memory:"):
        return
    fd = os.open(_lock_file(conn.engine), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        raise IntakeBusy("a file is being loaded; try again when the load has finished") from exc
    finally:
        os.close(fd)
