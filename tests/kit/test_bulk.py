"""Bulk writes and the planner's statistics: a bulk load leaves statistics behind on PostgreSQL, so that the
next query is not planned on a table the planner believes empty."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Engine,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    select,
    text,
)

from openbureau.kit.db import make_engine
from openbureau.kit.dialects import dialect_for


def _reltuples(conn, name: str) -> float:
    return conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": name}).scalar()


@contextmanager
def _probe_table(postgres_url: str, name: str) -> Iterator[tuple[Engine, Table]]:
    """An engine and an empty table of numbers, dropped afterwards."""
    engine = make_engine(postgres_url)
    table = Table(name, MetaData(), Column("n", BigInteger))
    with engine.begin() as conn:
        table.create(conn)
    try:
        yield engine, table
    finally:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
        engine.dispose()


def test_statistics_follow_bulk_writes_by_autovacuums_rule(postgres_url: str) -> None:
    with _probe_table(postgres_url, "bulk_stats_probe") as (engine, table):
        with engine.begin() as conn:
            bulk = dialect_for(conn)
            assert _reltuples(conn, table.name) == -1  # never analysed: the planner knows nothing
            bulk.insert(conn, table, pl.DataFrame({"n": range(1_000)}))
            bulk.refresh_statistics(conn, table, rows_written=1_000)
            assert _reltuples(conn, table.name) == 1_000  # analysed in the open transaction, its own rows counted
            bulk.insert(conn, table, pl.DataFrame({"n": range(50)}))
            bulk.refresh_statistics(conn, table, rows_written=50)  # under a tenth: left to autovacuum
            assert _reltuples(conn, table.name) == 1_000
            bulk.insert(conn, table, pl.DataFrame({"n": range(200)}))
            bulk.refresh_statistics(conn, table, rows_written=200)
            assert _reltuples(conn, table.name) == 1_250


def test_many_small_writes_add_up_to_a_refresh(postgres_url: str) -> None:
    """Each chunk of a bulk import is under a tenth of the table, but together they are several times it: the
    statistics must follow, or the planner takes a new lender's many rows for none."""
    with _probe_table(postgres_url, "bulk_stats_chunks") as (engine, table):
        with engine.connect() as conn:
            bulk = dialect_for(conn)
            bulk.insert(conn, table, pl.DataFrame({"n": range(1_000)}))
            conn.commit()
            conn.execute(text("SELECT pg_stat_force_next_flush()"))
            conn.commit()
            bulk.refresh_statistics(conn, table)  # an ANALYZE of its own, after the rows were counted
            conn.commit()
            refreshed_at = []
            for _chunk in range(6):
                bulk.insert(conn, table, pl.DataFrame({"n": range(40)}))  # 4 % of what the planner knows
                bulk.refresh_statistics(conn, table, rows_written=40)
                refreshed_at.append(_reltuples(conn, table.name))
                conn.commit()
                # PostgreSQL publishes a backend's counters about once a second; do it now, not the code's rule.
                conn.execute(text("SELECT pg_stat_force_next_flush()"))
                conn.commit()
        # Two chunks (80 rows) are under the 100 of a tenth and leave the statistics alone; the third brings
        # the rows written since the last ANALYZE to 120. That ANALYZE ran inside the chunk's transaction,
        # whose own rows PostgreSQL counts again when it commits, so the count restarts from 40, not 0.
        assert refreshed_at == [1_000, 1_000, 1_120, 1_120, 1_200, 1_200]


def test_staged_frames_are_analysed_before_they_are_joined(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        with dialect_for(conn).staged(conn, pl.DataFrame({"n": range(5_000)}), "probe") as staged:
            assert _reltuples(conn, staged.name) == 5_000
    engine.dispose()


def test_a_bulk_insert_stores_every_value_as_it_was_given(runtime) -> None:
    # Bytes (empty, zero bytes, high bytes), text that CSV must quote (commas, quotes, new lines, a lone
    # backslash, the empty string as against null), zoned times, dates and integers.
    table = Table("bulk_values_probe", MetaData(), Column("n", BigInteger), Column("small", SmallInteger),
                  Column("s", Text), Column("b", LargeBinary), Column("at", DateTime(timezone=True)),
                  Column("d", Date))
    moment = datetime(2026, 11, 22, 8, 30, 15, 123456, tzinfo=UTC)
    frame = pl.DataFrame({
        "n": [1, None, -(2**62), 4, 5], "small": [1, 2, None, -3, 0],
        "s": ["plain", "", None, 'a,"b"\nc\\x41 \\N', "张三"],
        "b": [b"\x00\xff\x10", b"", None, b"\\x41", bytes(range(256))],
        "at": [moment, None, moment.replace(microsecond=0), moment, moment],
        "d": [date(2026, 1, 31), None, date(1900, 1, 1), date(2026, 11, 22), date(2026, 2, 28)],
    }, schema={"n": pl.Int64, "small": pl.Int16, "s": pl.String, "b": pl.Binary,
               "at": pl.Datetime("us", "UTC"), "d": pl.Date})
    try:
        with runtime.engine.begin() as conn:
            table.create(conn)
            dialect_for(conn).insert(conn, table, frame)
        with runtime.engine.connect() as conn:
            rows = conn.execute(table.select().order_by(table.c.s.is_(None), table.c.n)).all()
    finally:
        with runtime.engine.begin() as conn:
            table.drop(conn, checkfirst=True)
    stored = {r.n: r for r in rows}
    for given in frame.iter_rows(named=True):
        got = stored[given["n"]] if given["n"] is not None else next(r for r in rows if r.n is None)
        assert got.s == given["s"] and (got.b is None) == (given["b"] is None)
        assert (bytes(got.b) if got.b is not None else None) == given["b"]
        assert got.small == given["small"] and got.d == given["d"]
        as_utc = got.at if got.at is None or got.at.tzinfo else got.at.replace(tzinfo=UTC)  # SQLite keeps no zone
        assert as_utc == given["at"]


def _staged_values(conn, staged) -> list[int]:
    return sorted(conn.execute(select(staged.c.n)).scalars())


def test_a_staged_table_is_one_table_object_so_its_statements_compile_once(runtime) -> None:
    frame = pl.DataFrame({"n": [1, 2, 3]})
    with runtime.engine.begin() as conn:
        dialect = dialect_for(conn)
        with dialect.staged(conn, frame, "probe") as first:
            assert _staged_values(conn, first) == [1, 2, 3]
        cache = conn.engine._compiled_cache
        with dialect.staged(conn, frame.with_columns(pl.col("n") * 10), "probe") as second:
            assert second is first
            size = len(cache)
            assert _staged_values(conn, second) == [10, 20, 30]
            assert len(cache) == size  # the select on the staged table was compiled by the first block
        # Other columns are another table; the same name and columns nested on one connection too.
        with dialect.staged(conn, pl.DataFrame({"n": [7]}), "probe") as outer:
            with dialect.staged(conn, pl.DataFrame({"n": [8, 9]}), "probe") as inner:
                assert inner.name != outer.name
                assert _staged_values(conn, outer) == [7]
                assert _staged_values(conn, inner) == [8, 9]
            assert _staged_values(conn, outer) == [7]
        with dialect.staged(conn, pl.DataFrame({"n": ["a"]}, schema={"n": pl.String}), "probe") as text_table:
            assert text_table.name != first.name


def test_a_staged_table_left_behind_on_the_connection_does_not_stop_the_next(runtime) -> None:
    with runtime.engine.connect() as conn:
        dialect = dialect_for(conn)
        conn.begin()
        with dialect.staged(conn, pl.DataFrame({"n": [1]}), "leftover") as staged:
            conn.commit()  # the creation and its row are committed ...
            conn.begin()
        conn.rollback()  # ... and the drop undone: the table is still on the connection, with its row
        assert _staged_values(conn, staged) == [1]
        conn.rollback()
        with conn.begin(), dialect.staged(conn, pl.DataFrame({"n": [5, 6]}), "leftover") as again:
            assert again is staged
            assert _staged_values(conn, again) == [5, 6]


def test_staging_never_drops_a_plain_table_of_the_same_name(runtime) -> None:
    # The emptying of a staged table reaches temporary tables only: a plain table that happens to carry the
    # staged table's name keeps its rows. (On a connection that keeps the staged table the temporary one
    # comes first for an unqualified name, so the plain table is named with its schema.)
    with runtime.engine.begin() as conn:
        dialect = dialect_for(conn)
        with dialect.staged(conn, pl.DataFrame({"n": [1]}), "namesake") as staged:
            name = staged.name
        schema = "main" if conn.dialect.name == "sqlite" else "public"
    plain = Table(name, MetaData(), Column("n", BigInteger), schema=schema)
    try:
        with runtime.engine.begin() as conn:
            plain.create(conn)
            conn.execute(plain.insert(), [{"n": 42}])
        with runtime.engine.begin() as conn:
            with dialect_for(conn).staged(conn, pl.DataFrame({"n": [7]}), "namesake") as staged:
                assert _staged_values(conn, staged) == [7]
        with runtime.engine.connect() as conn:
            assert conn.execute(select(plain.c.n)).scalars().all() == [42]
    finally:
        with runtime.engine.begin() as conn:
            plain.drop(conn)
