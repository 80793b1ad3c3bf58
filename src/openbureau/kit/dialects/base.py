"""What differs between the database engines, behind one small abstract class.

In the style of Splink's database backends (``splink/internals/database_api.py``): every statement that
only one engine understands, and every engine-specific way of doing a common thing, is a method of a
:class:`Dialect`; the domains call the method and never ask which engine they are on. One test body then
runs against each engine (``tests/conftest.py``). The engines: :mod:`.sqlite` (the embedded default) and
:mod:`.postgresql`.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    LargeBinary,
    MetaData,
    Select,
    Table,
    Text,
)

from openbureau.kit.errors import BureauError

_SQL_TYPES = {pl.Binary: LargeBinary, pl.String: Text, pl.Int64: BigInteger}
# Rows per batch when a query is read into a frame through the driver.
FRAME_BATCH_ROWS = 250_000

# The intake lock: one load at a time, and nothing that numbers or moves persons while a load runs.
# PostgreSQL: an advisory lock (a load holds it at session level across its short transactions; other
# writers take it for their transaction). SQLite: an advisory file lock beside the database file, which the
# operating system drops when its holder dies, so a killed load never leaves it held.
INTAKE_LOCK = 7207301


class IntakeBusy(BureauError):
    """A load holds the intake lock; the operation must wait for it to finish."""

    status_code = 409
    code = "LOAD_IN_PROGRESS"


class Dialect(ABC):
    """One database engine: bulk writes, statistics, staging, locks, sequences, clustering, export."""

    name: str
    # Alembic rewrites ALTER TABLE as copy-and-swap batches on engines that cannot alter in place.
    batch_migrations: bool = False
    # Whether a background thread should copy a write-ahead log back into the database (:meth:`checkpoint`).
    background_checkpoints: bool = False

    # -- engines ---------------------------------------------------------------------------------------
    @abstractmethod
    def create_engine(self, url: str, *, busy_timeout: float, autocheckpoint: bool, pool_size: int) -> Engine:
        """An engine for ``url`` with the bureau's connection settings (see ``kit.db.make_engine``)."""

    def writer_engine(self, engine: Engine) -> Engine:
        """An engine for a writer that must never block its event loop on another process's write lock."""
        return engine

    def read_only_options(self) -> dict[str, object]:
        """Execution options of a session that only reads, on a hot path."""
        return {}

    @abstractmethod
    def checkpoint(self, engine: Engine, *, mode: str = "PASSIVE") -> None:
        """Copy a write-ahead log back into the database (where the engine keeps one)."""

    # -- bulk writes and staging ---------------------------------------------------------------------
    @abstractmethod
    def insert(self, conn: Connection, table: Table, frame: pl.DataFrame) -> None:
        """Append every row of ``frame`` (its column names are the table's) to ``table``, inside the caller's
        transaction. Rows go in sorted by the table's key where the caller can (B-tree inserts in order are
        much cheaper)."""

    @abstractmethod
    def refresh_statistics(self, conn: Connection, table: Table, *, rows_written: int | None = None) -> None:
        """Let the planner see what a bulk write just put in ``table``. With ``rows_written``, only when they
        are at least a tenth of the rows the planner knew of, or it knew of none: autovacuum's own rule,
        applied at once instead of up to a minute later, when the next query may already have been planned
        on an empty table."""

    @contextmanager
    def staged(self, conn: Connection, frame: pl.DataFrame, name: str) -> Iterator[Table]:
        """``frame`` as a temporary table for the length of the block, to join against in SQL."""
        columns = [Column(c, _SQL_TYPES[dtype]()) for c, dtype in frame.schema.items()]
        table = Table(f"tmp_{name}_{uuid.uuid4().hex[:8]}", MetaData(), *columns, prefixes=["TEMPORARY"])
        table.create(conn)
        try:
            self.insert(conn, table, frame)
            self.refresh_statistics(conn, table)
            yield table
        finally:
            table.drop(conn)

    def read_frame(self, conn: Connection, stmt: Select, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        """The rows of ``stmt`` as a frame of ``schema`` (whole columns, never one ORM row at a time)."""
        batches = pl.read_database(stmt, conn, iter_batches=True, batch_size=FRAME_BATCH_ROWS,
                                   schema_overrides=schema)
        frames = [b.select(list(schema)).cast(schema) for b in batches if b.height]
        return pl.concat(frames) if frames else pl.DataFrame(schema=schema)

    # -- locks and sequences --------------------------------------------------------------------------
    @abstractmethod
    @contextmanager
    def intake_lock(self, engine: Engine) -> Iterator[None]:
        """Hold the intake lock for a whole load (many short transactions), waiting for another holder."""

    @abstractmethod
    def lock_intake(self, conn: Connection) -> None:
        """Keep loads out until this write transaction ends (see ``kit.db.lock_intake``)."""

    @abstractmethod
    def try_lock_intake(self, conn: Connection) -> bool:
        """Keep loads out until this write transaction ends if no load is running (True); never waits."""

    @abstractmethod
    def transaction_lock(self, conn: Connection, key: int) -> None:
        """Hold the lock ``key`` until the transaction ends (one writer at a time needs none)."""

    @abstractmethod
    def sync_sequence(self, conn: Connection, table: str, column: str) -> None:
        """Move the sequence of ``table.column`` past the highest value stored (where the engine keeps one)."""

    # -- maintenance ----------------------------------------------------------------------------------
    @abstractmethod
    def cluster(self, conn: Connection, table: Table, *, index: str, order_by: Sequence[str]) -> int:
        """Rewrite ``table`` in ``order_by`` order (the order of ``index``); the number of rows."""

    @staticmethod
    def _quoted(conn: Connection, table: Table, columns: list[str]) -> tuple[str, str]:
        prep = conn.dialect.identifier_preparer
        return prep.format_table(table), ", ".join(prep.quote(c) for c in columns)
