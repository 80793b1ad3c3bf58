"""Database engines, sessions and the declarative base. Engines are made lazily from settings."""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Connection, DateTime, Engine, Integer, MetaData
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

# The intake lock's key and its error belong to the dialects; named here too, beside the lock's functions.
from openbureau.kit.dialects import INTAKE_LOCK as INTAKE_LOCK
from openbureau.kit.dialects import IntakeBusy as IntakeBusy
from openbureau.kit.dialects import PostgresDialect, dialect_for, dialect_for_url

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
    return dialect_for_url(url).create_engine(url, busy_timeout=busy_timeout, autocheckpoint=autocheckpoint,
                                              pool_size=pool_size)


def writer_engine(engine: Engine) -> Engine:
    """An engine for a writer that must never block its event loop on another process's write lock.

    SQLite: one connection on the same file that fails at once with "database is locked" (see
    :func:`lock_busy`) instead of sleeping in the driver, and leaves checkpoints to a :class:`Checkpointer`.
    PostgreSQL: ``engine`` itself (row locks, no file lock; its waits are short).
    """
    return dialect_for(engine).writer_engine(engine)


def duplicate_key(exc: BaseException) -> bool:
    """Whether ``exc`` is a unique key's violation, raised through SQLAlchemy or by the driver itself (bulk
    writes such as PostgreSQL's COPY go to the driver directly)."""
    inner = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(inner, sqlite3.IntegrityError):
        return "UNIQUE constraint failed" in str(inner)
    return getattr(inner, "sqlstate", None) == "23505"  # PostgreSQL's unique_violation


def lock_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "database is locked" (another connection holds the write lock)."""
    origin = getattr(exc, "orig", exc)
    return isinstance(origin, sqlite3.OperationalError) and "locked" in str(origin)


def checkpoint(engine: Engine, *, mode: str = "PASSIVE", wait: float | None = None) -> tuple[int, int, int] | None:
    """Copy a SQLite write-ahead log back into the database (``PASSIVE``: without waiting for readers or
    writers; ``TRUNCATE``: all of it, then empty the log file, waiting for readers up to ``wait`` seconds):
    (busy, frames in the log, frames copied back); None on other engines."""
    return dialect_for(engine).checkpoint(engine, mode=mode, wait=wait)


class Checkpointer:
    """Copies a SQLite write-ahead log back into the database every ``every`` seconds, in a thread of its own.

    A commit on a connection with autocheckpoint on copies the log itself once it passes 1,000 pages, and
    fsyncs the database file: tens of milliseconds during which a serving event loop would answer nothing.
    The thread spends that time inside SQLite, without the GIL. PASSIVE: it never waits for readers or
    writers, and copies what no reader still needs.

    PASSIVE alone never empties the log while inquiries keep reading: the log starts again from its beginning
    only after a checkpoint that copied all of it and found no reader still in it, which under steady
    traffic never happens, so after a few large loads the log had grown to 6 GB and every read searched it.
    Once a log of ``truncate_frames`` frames or more is copied back but for a quarter of that at most, the
    checkpointer empties it (``TRUNCATE``: the rest copied, then the log emptied), waiting at most
    ``truncate_wait`` seconds for the readers of the moment (new writers wait as long; readers never); if
    they outlast that, it tries again at the next tick.
    """

    def __init__(self, engine: Engine, *, every: float = 1.0, truncate_frames: int = 16_384,
                 truncate_wait: float = 0.1) -> None:
        self.engine, self.every = engine, every
        self.truncate_frames, self.truncate_wait = truncate_frames, truncate_wait
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self.checkpoints = self.truncations = 0

    def start(self) -> Checkpointer:
        """Start the thread (a no-op on engines other than SQLite)."""
        if dialect_for(self.engine).background_checkpoints:
            self._thread.start()
        return self

    def checkpoint(self) -> None:
        """Copy the log now; empty it when it is long and all of it was copied back."""
        result = checkpoint(self.engine)
        self.checkpoints += 1
        # Under steady traffic the newest commits are never all copied back: truncate once what is left to copy
        # is short (a quarter of the threshold), so that TRUNCATE's own copying holds writers briefly.
        if result is not None and result[1] >= self.truncate_frames and \
                result[1] - result[2] <= self.truncate_frames // 4:
            busy, _, _ = checkpoint(self.engine, mode="TRUNCATE", wait=self.truncate_wait)
            self.truncations += not busy

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
    return isinstance(dialect_for(engine), PostgresDialect)


@functools.lru_cache(maxsize=64)
def _session_factory(engine: Engine, mode: str) -> sessionmaker:
    # Made once per engine: building a sessionmaker (and an engine proxy) per request costs more than a query.
    if mode == "write":
        bind = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    elif mode == "read_only" and (options := dialect_for(engine).read_only_options()):
        bind = engine.execution_options(**options)
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


@contextmanager
def intake_lock(engine: Engine) -> Iterator[None]:
    """Hold the intake lock for a whole load (many short transactions), waiting for another holder first
    (``INTAKE_LOCK``: a PostgreSQL advisory lock; on SQLite a file lock beside the database file).

    Readers and the inquiry log never take it: a load writes in short transactions and publishes in one,
    so nobody reading waits for it (docs/intake.md, "Loads never block inquiries").
    """
    with dialect_for(engine).intake_lock(engine):
        yield


def lock_intake(conn: Connection) -> None:
    """Keep loads out until this write transaction ends.

    PostgreSQL: waits for a running load, then holds the advisory lock until the transaction ends.
    SQLite: a write transaction already excludes a load's next step, and must not wait for a load (the
    load would wait for this transaction's write lock in turn): when a load is running it raises
    :class:`IntakeBusy` at once.
    """
    dialect_for(conn).lock_intake(conn)


def try_lock_intake(conn: Connection) -> bool:
    """Keep loads out until this write transaction ends, if no load is running; False (at once) otherwise."""
    return dialect_for(conn).try_lock_intake(conn)
