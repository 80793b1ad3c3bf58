"""Bulk writes and the planner's statistics: a bulk load leaves statistics behind on PostgreSQL, so that the
next query is not planned on a table the planner believes empty."""

from __future__ import annotations

import polars as pl
from sqlalchemy import BigInteger, Column, MetaData, Table, text

from openbureau.kit.db import make_engine
from openbureau.kit.dialects import dialect_for


def _reltuples(conn, name: str) -> float:
    return conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": name}).scalar()


def test_statistics_follow_bulk_writes_by_autovacuums_rule(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    table = Table("bulk_stats_probe", MetaData(), Column("n", BigInteger))
    try:
        with engine.begin() as conn:
            table.create(conn)
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
    finally:
        with engine.begin() as conn:
            table.drop(conn, checkfirst=True)
        engine.dispose()


def test_staged_frames_are_analysed_before_they_are_joined(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        with dialect_for(conn).staged(conn, pl.DataFrame({"n": range(5_000)}), "probe") as staged:
            assert _reltuples(conn, staged.name) == 5_000
    engine.dispose()
