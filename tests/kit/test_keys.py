"""Lists of composite keys (kit.keys): exactly the keys' rows on both engines, never the cross product of their
columns' values, and an index search on SQLite where a row-value list alone is a scan of the whole table."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, delete, select, tuple_

from openbureau.kit.db import make_engine
from openbureau.kit.keys import bound_key_params, bound_keys_in, keys_in

KEYS = [(1, "x", "2026-01"), (2, "y", "2026-02")]
# Every combination of the keys' values, and then some: only the two keys' own rows may come back.
ROWS = [{"f": f, "a": a, "p": p, "v": n} for n, (f, a, p) in enumerate(
    (f, a, p) for f in (1, 2, 3) for a in ("x", "y", "z") for p in ("2026-01", "2026-02"))]


@pytest.fixture(params=["sqlite", "postgresql"])
def table(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'keys.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_url"))
    engine = make_engine(url)
    metadata = MetaData()
    t = Table(f"keyed_{uuid.uuid4().hex[:8]}", metadata, Column("f", Integer, primary_key=True, autoincrement=False),
              Column("a", String(8), primary_key=True), Column("p", String(7), primary_key=True), Column("v", Integer))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(t.insert(), ROWS)
    yield engine, t
    metadata.drop_all(engine)
    engine.dispose()


def _keys_of(conn, t, where) -> set[tuple]:
    return {tuple(r) for r in conn.execute(select(t.c.f, t.c.a, t.c.p).where(where))}


def test_exactly_the_keys_rows_are_read_and_deleted(table) -> None:
    engine, t = table
    columns = (t.c.f, t.c.a, t.c.p)
    built_once = select(t.c.f, t.c.a, t.c.p).where(bound_keys_in(columns))
    with engine.begin() as conn:
        assert _keys_of(conn, t, keys_in(columns, KEYS)) == set(KEYS)
        assert {tuple(r) for r in conn.execute(built_once, bound_key_params(KEYS))} == set(KEYS)
        assert {tuple(r) for r in conn.execute(built_once, bound_key_params(KEYS[:1]))} == set(KEYS[:1])
        assert _keys_of(conn, t, keys_in((t.c.f, t.c.a), [(1, "y"), (3, "x")])) == {
            (1, "y", "2026-01"), (1, "y", "2026-02"), (3, "x", "2026-01"), (3, "x", "2026-02")}
        assert conn.execute(delete(t).where(keys_in(columns, KEYS))).rowcount == 2
        assert len(conn.execute(select(t.c.v)).all()) == len(ROWS) - 2


@pytest.mark.parametrize("table", ["sqlite"], indirect=True)  # PostgreSQL plans by its statistics
def test_sqlite_searches_the_key_where_a_row_value_list_alone_scans(table) -> None:
    engine, t = table
    columns = (t.c.f, t.c.a, t.c.p)

    def plan(where) -> str:
        stmt = select(t.c.v).where(where).compile(engine, compile_kwargs={"literal_binds": True})
        with engine.connect() as conn:
            return " | ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {stmt}"))

    assert f"SCAN {t.name}" in plan(tuple_(*columns).in_(KEYS))  # why kit.keys exists
    searched = plan(keys_in(columns, KEYS))
    assert f"SEARCH {t.name} USING INDEX" in searched and f"SCAN {t.name}" not in searched, searched
