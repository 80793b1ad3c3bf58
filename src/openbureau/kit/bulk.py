"""Bulk writes of columnar frames: executemany in the open transaction on SQLite, COPY on PostgreSQL.

The intake and batch jobs write millions of rows; a row-at-a-time ORM loop would be the bottleneck.
Both engines sit behind one small interface so that a job is written once and one test body runs
against each engine.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod

import polars as pl
from sqlalchemy import Connection, Table, func, select, text


class BulkWriter(ABC):
    """Writes frames into tables inside the caller's transaction, and hands out primary keys."""

    @abstractmethod
    def insert(self, conn: Connection, table: Table, frame: pl.DataFrame) -> None:
        """Append every row of ``frame`` (its column names are the table's) to ``table``."""

    @abstractmethod
    def allocate_ids(self, conn: Connection, table: Table, count: int) -> pl.Series:
        """``count`` fresh primary keys for ``table``, valid inside the caller's transaction."""

    @staticmethod
    def _quoted(conn: Connection, table: Table, columns: list[str]) -> tuple[str, str]:
        prep = conn.dialect.identifier_preparer
        return prep.format_table(table), ", ".join(prep.quote(c) for c in columns)


class SqliteBulkWriter(BulkWriter):
    """executemany over the raw sqlite3 connection; SQLite's single writer makes max(id)+1 safe."""

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

    def allocate_ids(self, conn: Connection, table: Table, count: int) -> pl.Series:
        start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
        return pl.int_range(start, start + count, dtype=pl.Int64, eager=True)


class PostgresBulkWriter(BulkWriter):
    """COPY FROM STDIN in CSV form, written by Polars; ids come from the table's sequence."""

    def insert(self, conn: Connection, table: Table, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        name, cols = self._quoted(conn, table, frame.columns)
        # bytea in COPY's text form is \x followed by hex digits.
        frame = frame.with_columns(
            pl.concat_str([pl.lit("\\x"), pl.col(c).bin.encode("hex")]).alias(c)
            for c, dtype in frame.schema.items() if dtype == pl.Binary
        )
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False, null_value="", quote_style="necessary")
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as copy:  # noqa: S608
            copy.write(buffer.getbuffer())

    def allocate_ids(self, conn: Connection, table: Table, count: int) -> pl.Series:
        if count == 0:
            return pl.Series("id", [], dtype=pl.Int64)
        rows = conn.execute(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": count},
        ).scalars()
        return pl.Series("id", list(rows), dtype=pl.Int64)


def bulk_writer_for(conn: Connection) -> BulkWriter:
    """The writer for the connection's engine."""
    if conn.dialect.name == "postgresql":
        return PostgresBulkWriter()
    if conn.dialect.name == "sqlite":
        return SqliteBulkWriter()
    raise NotImplementedError(f"no bulk writer for {conn.dialect.name}")
