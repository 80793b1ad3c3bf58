"""What differs between the database engines, behind one small abstract class.

In the style of Splink's database backends (``splink/internals/database_api.py``): every statement that
only one engine understands, and every engine-specific way of doing a common thing, is a method of a
:class:`Dialect`; the domains call the method and never ask which engine they are on. One test body then
runs against each engine (``tests/conftest.py``). The engines: :mod:`.sqlite` (the embedded default) and
:mod:`.postgresql`.
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    Engine,
    FromClause,
    LargeBinary,
    MetaData,
    Select,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy.schema import CreateTable, DropTable

from openbureau.kit.errors import BureauError
from openbureau.kit.pacing import WorkShare

_SQL_TYPES = {pl.Binary: LargeBinary, pl.String: Text, pl.Int64: BigInteger}
# Rows per batch when a query is read into a frame through the driver.
FRAME_BATCH_ROWS = 250_000
# Rows per write transaction of an online rewrite (``Dialect.cluster``).
REWRITE_CHUNK_ROWS = 5_000

# The intake lock: one load at a time, and nothing that numbers or moves persons while a load runs.
# PostgreSQL: an advisory lock (a load holds it at session level across its short transactions; other
# writers take it for their transaction). SQLite: an advisory file lock beside the database file, which the
# operating system drops when its holder dies, so a killed load never leaves it held.
INTAKE_LOCK = 7207301


_STAGED_IN_USE = "openbureau.staged_in_use"  # key of Connection.info: the staged tables a connection holds


def _temporary_table(table_name: str, columns: tuple[tuple[str, type], ...]) -> Table:
    """A temporary table of ``columns`` (name, SQLAlchemy type) named ``table_name``."""
    return Table(table_name, MetaData(), *(Column(c, t()) for c, t in columns), prefixes=["TEMPORARY"])


@functools.cache
def _staged_table(name: str, columns: tuple[tuple[str, type], ...]) -> Table:
    """The one temporary table of ``name`` with ``columns`` (see ``Dialect.staged``), named by both."""
    return _temporary_table(f"tmp_{name}_{hashlib.blake2s(repr(columns).encode(), digest_size=4).hexdigest()}",
                            columns)


def _ddl(table: Table, dialect: Any) -> tuple[str, str]:
    """``CREATE`` and ``DROP`` of ``table`` in ``dialect``."""
    return str(CreateTable(table).compile(dialect=dialect)), str(DropTable(table).compile(dialect=dialect))


@functools.lru_cache(maxsize=256)
def _kept_ddl(table: Table, dialect: Any, schema: str) -> tuple[str, str]:
    """``CREATE ... IF NOT EXISTS`` of a staged table kept on its connection, and the ``DELETE`` that empties it
    (of the temporary table only, never of a plain table of the same name); compiled once each."""
    quoted = dialect.identifier_preparer.quote
    return (str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)),
            f"DELETE FROM {quoted(schema)}.{quoted(table.name)}")  # noqa: S608 (our own table's quoted name)


def numbered_key(table: Table) -> Column:
    """The one integer key column of ``table`` that the database numbers."""
    [key] = table.primary_key.columns
    return key


def column_values(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], Iterator[list]]:
    """The columns and values of ``rows`` as an ``INSERT`` would write them, for a bulk path that bypasses
    it (``COPY``): every column the rows name or that has a default of its own on the client (a value or a
    function, filled in where a row leaves it out), each value through its column's bind processing (a UTC
    timestamp refuses a naive time)."""
    named = list(rows[0])
    defaulted = [c for c in table.columns if c.name not in named and c.default is not None
                 and (c.default.is_scalar or c.default.is_callable)]
    columns = [*named, *(c.name for c in defaulted)]
    processors = [table.c[name].type.bind_processor(conn.dialect) for name in columns]

    def values() -> Iterator[list]:
        for row in rows:
            filled = [row[name] for name in named]
            filled += [c.default.arg if c.default.is_scalar else c.default.arg(None) for c in defaulted]
            yield [v if p is None else p(v) for v, p in zip(filled, processors, strict=True)]

    return columns, values()


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
    # Seconds a long job (a load, a consent import, a retention run, a rewrite) sleeps between two of its
    # write transactions, so that a writer waiting for the one write lock (the inquiry log's group commit
    # polls every half millisecond) takes it before the job takes it again. 0: writers never queue.
    writer_pause: float = 0.0

    # Seconds a long job waits, between two of its write transactions, for writers that asked for the next
    # turn at the write lock (``ask_turn``) to have written; set from ``Settings.write_turn_wait``.
    turn_wait: float = 0.0

    # The share of the time a long job may be busy (``kit.pacing``); set from ``Settings.load_work_share``.
    work_share: WorkShare = WorkShare()

    # The schema of a connection's temporary tables, named where a statement must reach a temporary table
    # and nothing else (a plain table of the same name would otherwise be found when there is none).
    temp_schema: str = "temp"

    def between_writes(self, engine: Engine) -> None:
        """Between two write transactions of a long job: rest to keep to the job's share of the time, let a
        waiting writer in (see ``writer_pause``) and, where the engine keeps a write-ahead log that the job's
        writes grow, bound it."""
        self.work_share.rest()
        if self.writer_pause:
            time.sleep(self.writer_pause)

    def ask_turn(self, engine: Engine) -> None:  # noqa: B027 (nothing to do on most engines)
        """A writer that found the write lock taken asks for the next turn: a long job lets it write before
        its own next transaction (at most ``turn_wait``). Nothing on engines whose writers do not queue."""

    def end_turn(self, engine: Engine) -> None:  # noqa: B027
        """The writer that asked for a turn has written (or given up)."""

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
    def checkpoint(self, engine: Engine, *, mode: str = "PASSIVE", wait: float | None = None
                   ) -> tuple[int, int, int] | None:
        """Copy a write-ahead log back into the database (where the engine keeps one): (busy, frames in the
        log, frames copied back), or None without a log. ``wait``: seconds to wait for readers at most."""

    # -- bulk writes and staging ---------------------------------------------------------------------
    @abstractmethod
    def insert(self, conn: Connection, table: Table, frame: pl.DataFrame) -> None:
        """Append every row of ``frame`` (its column names are the table's) to ``table``, inside the caller's
        transaction. Rows go in sorted by the table's key where the caller can (B-tree inserts in order are
        much cheaper)."""

    def insert_rows(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Append ``rows`` (column -> value, the same columns in each) to ``table`` in the caller's transaction,
        with the columns' defaults and bind processing as an ``INSERT`` has them: a service's few rows at a
        time (an inquiry log's batch, its audit entries, the outbox's messages)."""
        if rows:
            conn.execute(insert(table), list(rows))

    def insert_returning_ids(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """:meth:`insert_rows` into a table numbered by the database (an integer key the rows leave out): the
        new rows' ids, in the rows' order."""
        if not rows:
            return []
        key = numbered_key(table)
        return list(conn.execute(insert(table).returning(key, sort_by_parameter_order=True), list(rows)).scalars())

    @abstractmethod
    def refresh_statistics(self, conn: Connection, table: Table, *, rows_written: int | None = None) -> None:
        """Let the planner see what a bulk write just put in ``table``. With ``rows_written``, only when they
        are at least a tenth of the rows the planner knew of, or it knew of none: autovacuum's own rule,
        applied at once instead of up to a minute later, when the next query may already have been planned
        on an empty table."""

    def many_lookups(self, conn: Connection) -> None:  # noqa: B027 (nothing to do on most engines)
        """Plan the rest of this transaction for statements made of many small index lookups (a correlated
        subquery per row of a staged table): nothing by default."""

    @abstractmethod
    def key_list(self, columns: Sequence[ColumnElement], name: str) -> tuple[FromClause, list[ColumnElement]]:
        """A list of composite keys for ``columns`` bound as one fixed set of parameters (``key_list_params``),
        as a table to join from, and its columns in the order of ``columns``."""

    @abstractmethod
    def key_list_params(self, keys: Sequence[tuple], name: str, width: int) -> dict[str, object]:
        """The parameters of :meth:`key_list` for ``keys`` (tuples of ``width`` values)."""

    @contextmanager
    def staged(self, conn: Connection, frame: pl.DataFrame, name: str) -> Iterator[Table]:
        """``frame`` as a temporary table for the length of the block, to join against in SQL.

        The table of a given name and columns is one ``Table`` object for the process, made once on each
        connection and kept there, emptied before and after each use: SQLAlchemy keys its cache of compiled
        statements by the table object, so the statements that join a staged table are compiled once rather
        than on every batch (compiling them took about a sixth of a batch of 100 lending events); and making
        and dropping it on every use cost three statements that change the schema (on SQLite every prepared
        statement of the connection is prepared again after one; on PostgreSQL each writes the catalogue),
        the larger part of a small batch's staging. A second table of the same name and columns staged on the
        same connection inside the first's block gets a table of its own, dropped after it."""
        columns = tuple((c, _SQL_TYPES[dtype]) for c, dtype in frame.schema.items())
        in_use = conn.info.setdefault(_STAGED_IN_USE, set())
        key = (name, columns)
        kept = key not in in_use
        if kept:
            table = _staged_table(name, columns)
            create, after = _kept_ddl(table, conn.dialect, self.temp_schema)
            # The emptying first as well: rows left by a block whose emptying was undone (its transaction rolled
            # back after an earlier one committed them) would otherwise be joined too.
            before = (create, after)
            in_use.add(key)
        else:
            table = _temporary_table(f"tmp_{name}_{uuid.uuid4().hex[:8]}", columns)
            create, after = _ddl(table, conn.dialect)
            before = (create,)
        try:
            for statement in before:
                conn.exec_driver_sql(statement)
            try:
                self.insert(conn, table, frame)
                self.refresh_statistics(conn, table)
                yield table
            finally:
                conn.exec_driver_sql(after)
        finally:
            if kept:
                in_use.discard(key)

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

    # -- partitions -----------------------------------------------------------------------------------
    # Engines without partitions (SQLite) keep every table whole: these do nothing there.
    def partition(self, conn: Connection, table: str, *, column: str, partitions: int) -> None:  # noqa: B027
        """Make ``table`` partitioned by the hash of ``column`` in ``partitions`` partitions, its rows kept and
        ``column`` appended to its primary key; nothing when ``partitions`` is 0 or it is partitioned already."""

    def unpartition(self, conn: Connection, table: str, *, column: str) -> None:  # noqa: B027
        """Make a partitioned ``table`` one plain table again, its rows kept and ``column`` taken out of its
        primary key where :meth:`partition` appended it; nothing when it is plain."""

    def partitions(self, conn: Connection, table: str) -> list[str]:
        """The names of ``table``'s partitions ([] for a plain table)."""
        return []

    def partition_names(self, conn: Connection) -> set[str]:
        """Every partition of every table (the migrations' comparison with the models leaves them out)."""
        return set()

    # -- maintenance ----------------------------------------------------------------------------------
    def cluster(self, engine: Engine, table: Table, *, order_by: Sequence[str],
                progress: Callable[[int], None] | None = None) -> int:
        """Rewrite ``table`` in ``order_by`` order while it stays readable and writable; the rows copied.

        An online rewrite in four steps, none of which holds a lock that a reader (or the inquiry log)
        waits on for longer than a short write transaction: (1) an empty copy named ``<table>_ordered``
        and triggers that apply every change made to the table meanwhile to the copy as well; (2) the
        rows copied in ``order_by`` order, ``REWRITE_CHUNK_ROWS`` at a time, a range of ``order_by[0]``
        per transaction; (3) the copy swapped in for the table in one short transaction; (4) the old
        table removed (engine-specific). A run killed before the swap leaves the table as it was; the next
        run first removes what it left. ``order_by[0]`` must be an integer column. ``progress`` is called
        with the rows of each range copied.
        """
        name, copy = table.name, f"{table.name}_ordered"
        engine = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")  # SQLite: each step a writer at once
        self._drop_rewrite(engine, name, copy)
        with engine.begin() as conn:
            self._begin_rewrite(conn, table, copy)
        column = table.c[order_by[0]]
        with engine.connect() as conn:
            low, high, total = conn.execute(select(func.min(column), func.max(column), func.count())).one()
        copied = 0
        if total:
            step = max(1, (high - low + 1) * REWRITE_CHUNK_ROWS // total)
            for start in range(low, high + 1, step):
                self.between_writes(engine)
                with engine.begin() as conn:
                    rows = self._copy_range(conn, table, copy, column=column.name, start=start, stop=start + step,
                                            order_by=order_by)
                copied += rows
                if progress is not None:
                    progress(rows)
        self._finish_copy(engine, table, copy)
        self._swap(engine, name, copy)
        self._retire(engine, table)
        return copied

    @abstractmethod
    def _drop_rewrite(self, engine: Engine, name: str, copy: str) -> None:
        """Remove what an earlier rewrite of ``name`` left (its copy, triggers and retired table)."""

    @abstractmethod
    def _begin_rewrite(self, conn: Connection, table: Table, copy: str) -> None:
        """Create the empty copy with the table's primary key, and the triggers that keep it up to date."""

    @abstractmethod
    def _copy_range(self, conn: Connection, table: Table, copy: str, *, column: str, start: int, stop: int,
                    order_by: Sequence[str]) -> int:
        """Copy the rows with ``start <= column < stop`` in ``order_by`` order (rows a trigger copied already
        are kept as they are); the number of rows read."""

    def _finish_copy(self, engine: Engine, table: Table, copy: str) -> None:  # noqa: B027 (an optional step)
        """Whatever the copy needs before it can stand in for the table (its other indexes)."""

    @abstractmethod
    def _swap(self, engine: Engine, name: str, copy: str) -> None:
        """Put the copy in the table's place in one short transaction."""

    def _retire(self, engine: Engine, table: Table) -> None:  # noqa: B027 (an optional step)
        """Remove the table the copy replaced, if the swap kept it."""

    @staticmethod
    def _quoted(conn: Connection, table: Table, columns: list[str]) -> tuple[str, str]:
        prep = conn.dialect.identifier_preparer
        return prep.format_table(table), ", ".join(prep.quote(c) for c in columns)
