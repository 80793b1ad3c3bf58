"""PostgreSQL (psycopg 3): binary COPY in and out, ANALYZE, advisory locks, sequences, online rewrites, hash
partitions (``postgresql_partitions``)."""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Engine,
    FromClause,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    bindparam,
    cast,
    func,
    text,
)
from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.types import TypeDecorator, TypeEngine

from openbureau.kit.dialects import postgresql_partitions as partitions_of
from openbureau.kit.dialects.base import INTAKE_LOCK, Dialect, column_values, numbered_key

_PG_TYPES = (
    (SmallInteger, "int2"), (BigInteger, "int8"), (Integer, "int4"), (LargeBinary, "bytea"),
    (DateTime, "timestamptz"), (Date, "date"), (String, "text"), (Text, "text"),
)
# Frames of these column types are read by COPY TO as CSV (no bytes or times to re-parse).
_COPYABLE = (pl.Int64, pl.Int8, pl.String)


def _pg_type(sql_type: TypeEngine) -> str:
    """The PostgreSQL type name binary COPY must be told for a column."""
    if isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    for kind, name in _PG_TYPES:
        if isinstance(sql_type, kind):
            return name
    raise TypeError(f"no binary COPY type for {sql_type!r}")


class PostgresDialect(Dialect):
    """COPY FROM STDIN (binary) and COPY TO STDOUT, ANALYZE after bulk writes, advisory locks."""

    name = "postgresql"
    temp_schema = "pg_temp"

    def create_engine(self, url: str, *, busy_timeout: float, autocheckpoint: bool, pool_size: int) -> Engine:
        # busy_timeout, autocheckpoint and pool_size concern SQLite's file: PostgreSQL keeps 16 connections.
        return sa_create_engine(url, pool_pre_ping=True, pool_size=16, max_overflow=32)

    def checkpoint(self, engine: Engine, *, mode: str = "PASSIVE", wait: float | None = None) -> None:
        """Nothing: PostgreSQL's own checkpointer copies its log."""

    def read_only_options(self) -> dict[str, object]:
        # Each statement in its own snapshot, as under READ COMMITTED inside a transaction, without the BEGIN
        # and COMMIT round trips.
        return {"isolation_level": "AUTOCOMMIT"}

    def insert(self, conn: Connection, table: Table, frame: pl.DataFrame) -> None:
        """COPY FROM STDIN in binary form: no text encoding of bytes, dates or numbers on either side."""
        if frame.height == 0:
            return
        self._copy(conn, table, frame.columns, frame.iter_rows())

    def insert_rows(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """COPY as well: an ``INSERT`` of many rows is one long statement whose placeholders the driver parses
        anew for every batch size (a fifth of the time of logging 20,000 inquiries)."""
        if rows:
            self._copy(conn, table, *column_values(conn, table, rows))

    def insert_returning_ids(self, conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """The ids drawn from the key's sequence first (one statement), then the rows copied with them."""
        if not rows:
            return []
        key = numbered_key(table)
        ids = sorted(conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, :c)) FROM generate_series(1, :n)"),
                                  {"t": conn.dialect.identifier_preparer.format_table(table), "c": key.name,
                                   "n": len(rows)}).scalars())
        columns, values = column_values(conn, table, rows)
        self._copy(conn, table, [key.name, *columns], ([i, *v] for i, v in zip(ids, values, strict=True)))
        return ids

    def _copy(self, conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
        name, cols = self._quoted(conn, table, list(columns))
        types = [_pg_type(table.c[c].type) for c in columns]
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT binary)") as copy:  # noqa: S608
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def key_list(self, columns: Sequence[ColumnElement], name: str) -> tuple[FromClause, list[ColumnElement]]:
        """``unnest`` of one typed array per key column: ``unnest(CAST(:keys_0 AS int8[]), ...) AS keys(c0,
        ...)``, which the planner joins to the table's key by nested index lookups."""
        # Text arrays for string columns: a cast to varchar(n)[] would cut a longer value to a stored one's length.
        arrays = [cast(bindparam(f"{name}_{i}"), ARRAY(Text() if isinstance(column.type, String) else column.type))
                  for i, column in enumerate(columns)]
        keys = func.unnest(*arrays).table_valued(*(f"c{i}" for i in range(len(columns)))).render_derived(name=name)
        return keys, list(keys.c)

    def key_list_params(self, keys: Sequence[tuple], name: str, width: int) -> dict[str, object]:
        return {f"{name}_{i}": [k[i] for k in keys] for i in range(width)}

    def refresh_statistics(self, conn: Connection, table: Table, *, rows_written: int | None = None) -> None:
        """``ANALYZE`` in the open transaction, which counts its own rows.

        The rows written since the last ``ANALYZE`` by transactions already committed count with this one's:
        a bulk import of many small chunks, each under a tenth of the table, adds up to several times the
        table, and a planner still reading the old statistics took a new lender's tens of thousands of
        consents for one row and scanned a staged chunk once for each of them (17 s a chunk instead of 0.1 s).
        The counter is PostgreSQL's own (``pg_stat_get_mod_since_analyze``, kept within about a second).
        A partitioned table's rows and changes are counted in its partitions (the parent holds no row), summed
        here; ``ANALYZE`` of it analyses each partition and the whole.
        """
        name = conn.dialect.identifier_preparer.format_table(table)
        if rows_written is not None:
            known, changed = conn.execute(text(
                "SELECT CASE WHEN bool_and(reltuples >= 0) THEN sum(reltuples) ELSE -1 END, "
                "sum(pg_stat_get_mod_since_analyze(oid)) FROM pg_class WHERE relkind = 'r' AND "
                "(oid = CAST(:t AS regclass) OR oid IN (SELECT relid FROM pg_partition_tree(CAST(:t AS regclass)) "
                "WHERE isleaf))"), {"t": name}).one()
            if known >= 0 and changed + rows_written < known / 10:
                return
        conn.execute(text(f"ANALYZE {name}"))

    def many_lookups(self, conn: Connection) -> None:
        """``SET LOCAL jit = off``: such a statement is estimated expensive (its cost adds up over the rows), so
        PostgreSQL compiles it, and compiling took 3.7 s where running it took 0.3 s (10,000 staged rows)."""
        conn.execute(text("SET LOCAL jit = off"))

    def read_frame(self, conn: Connection, stmt: Select, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        """``COPY (query) TO STDOUT`` as CSV into a spooled file, parsed by Polars: several times faster than
        fetching rows through the driver; the query keeps its bound parameters. Frames with other than
        integer and text columns go through the driver."""
        if not all(t in _COPYABLE for t in schema.values()):
            return super().read_frame(conn, stmt, schema)
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        raw = conn.connection.driver_connection
        with tempfile.SpooledTemporaryFile(max_size=64 << 20) as buffer:
            with raw.cursor() as cursor, cursor.copy(
                    f"COPY ({compiled}) TO STDOUT (FORMAT csv)", compiled.params) as copy:  # noqa: S608
                for block in copy:
                    buffer.write(block)
            if buffer.tell() == 0:
                return pl.DataFrame(schema=schema)
            buffer.seek(0)
            return pl.read_csv(buffer, has_header=False, new_columns=list(schema), schema=schema)

    @contextmanager
    def intake_lock(self, engine: Engine) -> Iterator[None]:
        """A session-level advisory lock, held on a connection of its own across the load's transactions."""
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": INTAKE_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": INTAKE_LOCK})

    def lock_intake(self, conn: Connection) -> None:
        """Wait for a running load, then hold the advisory lock until the transaction ends."""
        self.transaction_lock(conn, INTAKE_LOCK)

    def try_lock_intake(self, conn: Connection) -> bool:
        """The advisory lock until the transaction ends, if no load holds it (a load waits for it meanwhile)."""
        return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": INTAKE_LOCK}).scalar_one())

    def transaction_lock(self, conn: Connection, key: int) -> None:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def sync_sequence(self, conn: Connection, table: str, column: str) -> None:
        """``setval`` of the column's serial sequence to the highest value stored."""
        highest = f"(SELECT coalesce(max({column}), 1) FROM {table})"  # noqa: S608 (names from the models)
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:t, :c), {highest})"), {"t": table, "c": column})

    # -- hash partitions ------------------------------------------------------------------------------
    def partition(self, conn: Connection, table: str, *, column: str, partitions: int) -> None:
        partitions_of.partition(conn, table, column=column, partitions=partitions)

    def unpartition(self, conn: Connection, table: str, *, column: str) -> None:
        partitions_of.unpartition(conn, table, column=column)

    def partitions(self, conn: Connection, table: str) -> list[str]:
        return partitions_of.partitions(conn, table)

    def partition_names(self, conn: Connection) -> set[str]:
        return partitions_of.partition_names(conn)

    # -- online rewrite (``Dialect.cluster``) -----------------------------------------------------------
    # Each range is copied under a SHARE lock on the table (writers wait for that one short transaction,
    # readers never), so no change can slip between the copy and the trigger that carries it. The copy's
    # other indexes are built CONCURRENTLY once it is full; the swap waits at most SWAP_LOCK_TIMEOUT for
    # the readers of the moment to finish (readers queue behind it only that long) and is retried.
    SWAP_LOCK_TIMEOUT = "200ms"
    SWAP_ATTEMPTS = 50

    def cluster(self, engine: Engine, table: Table, *, order_by: Sequence[str],
                progress: Callable[[int], None] | None = None) -> int:
        """A plain table as :meth:`Dialect.cluster` says; a partitioned one partition by partition, each
        rewritten the same way (a partition is a plain table) and attached in its old one's place, so that only
        one partition's copy needs disk at a time. A partitioned table itself can be neither copied with
        ``LIKE`` (that makes a plain table) nor indexed ``CONCURRENTLY``."""
        with engine.connect() as conn:
            names = partitions_of.partitions(conn, table.name)
        if not names:
            return super().cluster(engine, table, order_by=order_by, progress=progress)
        return sum(super(PostgresDialect, self).cluster(engine, table.to_metadata(MetaData(), name=name),
                                                        order_by=order_by, progress=progress) for name in names)

    def _drop_rewrite(self, engine: Engine, name: str, copy: str) -> None:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {copy}_capture ON {name}"))
            conn.execute(text(f"DROP FUNCTION IF EXISTS {copy}_capture()"))
            conn.execute(text(f"DROP TABLE IF EXISTS {copy}"))

    def _begin_rewrite(self, conn: Connection, table: Table, copy: str) -> None:
        name = table.name
        columns = [c.name for c in table.columns]
        _, key = partitions_of.primary_key(conn, name)  # the stored key: a partition's holds the partition key
        conn.execute(text(f"CREATE TABLE {copy} (LIKE {name} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                          "INCLUDING STORAGE)"))
        conn.execute(text(f"ALTER TABLE {copy} ADD CONSTRAINT {copy}_pk PRIMARY KEY ({', '.join(key)})"))
        if partitions_of.parent_and_bound(conn, name):  # the partition's own condition, checked as rows arrive
            conn.execute(text(f"ALTER TABLE {copy} ADD CONSTRAINT {copy}_bound "
                              f"CHECK ({partitions_of.partition_constraint(conn, name)})"))
        match = " AND ".join(f"{c} = OLD.{c}" for c in key)
        # Names from the table's metadata, never from input. NEW's columns by name: the table's physical order
        # follows its migrations, which need not be the model's order (a column added by a later migration
        # sits last in the table wherever the model declares it).
        conn.execute(text(f"""
            CREATE FUNCTION {copy}_capture() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    DELETE FROM {copy} WHERE {match};
                    RETURN OLD;
                END IF;
                IF TG_OP = 'UPDATE' THEN
                    DELETE FROM {copy} WHERE {match};
                END IF;
                INSERT INTO {copy} ({', '.join(columns)}) VALUES ({', '.join(f'NEW.{c}' for c in columns)})
                    ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in columns)};
                RETURN NEW;
            END $$"""))  # noqa: S608
        conn.execute(text(f"CREATE TRIGGER {copy}_capture AFTER INSERT OR UPDATE OR DELETE ON {name} "
                          f"FOR EACH ROW EXECUTE FUNCTION {copy}_capture()"))

    def _copy_range(self, conn: Connection, table: Table, copy: str, *, column: str, start: int, stop: int,
                    order_by: Sequence[str]) -> int:
        columns = ", ".join(c.name for c in table.columns)
        conn.execute(text(f"LOCK TABLE {table.name} IN SHARE MODE"))
        return conn.execute(text(
            f"INSERT INTO {copy} ({columns}) SELECT {columns} FROM {table.name} "  # noqa: S608
            f"WHERE {column} >= :start AND {column} < :stop ORDER BY {', '.join(order_by)} ON CONFLICT DO NOTHING"),
            {"start": start, "stop": stop}).rowcount

    def _finish_copy(self, engine: Engine, table: Table, copy: str) -> None:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # CONCURRENTLY runs outside a transaction
            definitions = conn.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass))"), {"t": table.name}).all()
            for index, definition in definitions:
                head, rest = definition.split(" ON ", 1)
                rest = re.sub(rf"^(\w+\.)?{table.name} ", rf"\g<1>{copy} ", rest)
                conn.execute(text(f"{head.replace(f' INDEX {index}', f' INDEX CONCURRENTLY {index}_r')} ON {rest}"))
            conn.execute(text(f"ANALYZE {copy}"))

    def _swap(self, engine: Engine, name: str, copy: str) -> None:
        for attempt in range(self.SWAP_ATTEMPTS):
            try:
                with engine.begin() as conn:
                    conn.execute(text(f"SET LOCAL lock_timeout = '{self.SWAP_LOCK_TIMEOUT}'"))
                    parent = partitions_of.parent_and_bound(conn, name)
                    if parent:  # the parent before the partition, in the order every statement takes them
                        conn.execute(text(f"LOCK TABLE {parent[0]} IN ACCESS EXCLUSIVE MODE"))
                    conn.execute(text(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE"))
                    primary, _ = partitions_of.primary_key(conn, name)
                    indexes = conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = :t AND "
                                                "indexname <> :p"), {"t": name, "p": primary}).scalars().all()
                    conn.execute(text(f"DROP TABLE {name}"))  # its trigger goes with it
                    conn.execute(text(f"DROP FUNCTION {copy}_capture()"))
                    conn.execute(text(f"ALTER TABLE {copy} RENAME TO {name}"))
                    conn.execute(text(f"ALTER TABLE {name} RENAME CONSTRAINT {copy}_pk TO {primary}"))
                    for index in indexes:
                        conn.execute(text(f"ALTER INDEX {index}_r RENAME TO {index}"))
                    if parent:
                        # The copy's key and indexes match the parent's, so ATTACH adopts them instead of building
                        # its own; its CHECK constraint proves the bound, so ATTACH reads no row either.
                        conn.execute(text(f"ALTER TABLE {parent[0]} ATTACH PARTITION {name} {parent[1]}"))
                        conn.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {copy}_bound"))
                return
            except OperationalError as exc:
                if "lock timeout" not in str(exc) or attempt == self.SWAP_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
