"""Database engines, sessions and the declarative base. Engines are made lazily from settings."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Connection, DateTime, Engine, Integer, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

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


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the bureau's connection settings (WAL and foreign keys on SQLite)."""
    if url.startswith("sqlite"):
        # A pool as large as the number of sessions a serving process holds at once (requests waiting for
        # their group commit keep theirs open): a connection opened past the pool is closed after use, and
        # opening one (with its pragmas) costs more than the request.
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, pool_size=32,
                               max_overflow=32)

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
            cursor.execute("PRAGMA busy_timeout=30000")
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


@functools.lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """The process-wide engine for ``url``."""
    return make_engine(url)


def is_postgres(engine: Engine) -> bool:
    """Whether ``engine`` talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


@functools.lru_cache(maxsize=64)
def _session_factory(engine: Engine, write: bool) -> sessionmaker:
    # Made once per engine: building a sessionmaker (and an engine proxy) per request costs more than a query.
    bind = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE") if write else engine
    return sessionmaker(bind=bind, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with _session_factory(engine, write)() as session, session.begin():
        yield session


# PostgreSQL advisory lock of everything that writes persons or held records: intake loads, consent
# releases and identity resolution queue on it (SQLite's single writer serialises them already).
INTAKE_LOCK = 7207301


def lock_intake(conn: Connection) -> None:
    """Wait for any running writer of persons, then keep others out until the transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": INTAKE_LOCK})
