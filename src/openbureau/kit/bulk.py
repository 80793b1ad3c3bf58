"""Bulk writes of columnar frames: executemany in the open transaction on SQLite, COPY on PostgreSQL.

The intake and batch jobs write millions of rows; a row-at-a-time ORM loop would be the bottleneck.
Rows go in sorted by the table's key where the caller can (B-tree inserts in order are much cheaper).
Both engines sit behind one small interface so that a job is written once and one test body runs
against each engine.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

_SQL_TYPES = {pl.Binary: LargeBinary, pl.String: Text, pl.Int64: BigInteger}


class BulkWriter(ABC):
    """Writes frames into tables inside the caller's transaction."""

    @abstractmethod
    def insert(self, conn: Connection, table: Table, frame: pl.DataFrame) -> None:
        """Append every row of ``frame`` (its column names are the table's) to ``table``."""

    @abstractmethod
    def refresh_statistics(self, conn: Connection, table: Table, *, rows_written: int | None = None) -> None:
        """Let the planner see what a bulk write just put in ``table`` (PostgreSQL: ``ANALYZE``, in the open
        transaction, which counts its own rows). With ``rows_written``, only when they are at least a tenth
        of the rows the planner knew of, or it knew of none: autovacuum's own rule, applied at once instead
        of up to a minute later, when the next query may already have been planned on an empty table."""

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

    @staticmethod
    def _quoted(conn: Connection, table: Table, columns: list[str]) -> tuple[str, str]:
        prep = conn.dialect.identifier_preparer
        return prep.format_table(table), ", ".join(prep.quote(c) for c in columns)


class SqliteBulkWriter(BulkWriter):
    """executemany over the raw sqlite3 connection, inside the caller's transaction."""

    def insert(self, conn: Connection, table: Table, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        name, cols = self._quoted(conn, table, frame.columns)
        marks = ", ".join("?" * frame.width)
        # Dates and times go in as the text SQLAlchemy's Date and DateTime types store on SQLite.
        frame = frame.with_columns(
            pl.col(pl.Date).dt.to_string("%Y-%m-%d"),
            pl.col(pl.Datetime).dt.convert_time_zone("UTC").dt.replace_time_zone(None)
            .dt.to_string("%Y-%m-%d %H:%M:%S.%6f"),
        )
        raw = conn.connection.driver_connection
        raw.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", frame.iter_rows())  # noqa: S608

    def refresh_statistics(self, conn: Connection, table: Table, *, rows_written: int | None = None) -> None:
        # SQLite plans without statistics on index-first rules that suit every query of the bureau.
        return


class PostgresBulkWriter(BulkWriter):
    """COPY FROM STDIN in binary form: no text encoding of bytes, dates or numbers on either side."""

    def insert(self, conn: Connection, table: Table, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        name, cols = self._quoted(conn, table, frame.columns)
        types = [_pg_type(table.c[c].type) for c in frame.columns]
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT binary)") as copy:  # noqa: S608
            copy.set_types(types)
            for row in frame.iter_rows():
                copy.write_row(row)

    def refresh_statistics(self, conn: Connection, table: Table, *, rows_written: int | None = None) -> None:
        name = conn.dialect.identifier_preparer.format_table(table)
        if rows_written is not None:
            known = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                                 {"t": name}).scalar()
            if known is not None and known >= 0 and rows_written < known / 10:
                return
        conn.execute(text(f"ANALYZE {name}"))


def _pg_type(sql_type: TypeEngine) -> str:
    """The PostgreSQL type name binary COPY must be told for a column."""
    if isinstance(sql_type, TypeDecorator):
        sql_type = sql_type.impl_instance
    for kind, name in _PG_TYPES:
        if isinstance(sql_type, kind):
            return name
    raise TypeError(f"no binary COPY type for {sql_type!r}")


_PG_TYPES = (
    (SmallInteger, "int2"), (BigInteger, "int8"), (Integer, "int4"), (LargeBinary, "bytea"),
    (DateTime, "timestamptz"), (Date, "date"), (String, "text"), (Text, "text"),
)


def bulk_writer_for(conn: Connection) -> BulkWriter:
    """The writer for the connection's engine."""
    if conn.dialect.name == "postgresql":
        return PostgresBulkWriter()
    if conn.dialect.name == "sqlite":
        return SqliteBulkWriter()
    raise NotImplementedError(f"no bulk writer for {conn.dialect.name}")
