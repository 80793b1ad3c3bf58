"""Lists of composite keys (kit.keys): exactly the keys' rows on both engines, never the cross product of their
columns' values, and an index search on SQLite where a row-value list alone is a scan of the whole table; a
statement over a bound list of keys (KeyedSelect) keeps one text whatever the list's length."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, delete, select, tuple_

from openbureau.kit.db import make_engine
from openbureau.kit.keys import KeyedSelect, keys_in

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
    with engine.begin() as conn:
        assert _keys_of(conn, t, keys_in(columns, KEYS)) == set(KEYS)
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


def _keyed(t) -> KeyedSelect:
    columns = (t.c.f, t.c.a, t.c.p)
    return KeyedSelect(columns, lambda keys: select(t.c.f, t.c.a, t.c.p, t.c.v).select_from(
        keys.table.join(t, keys.on(columns))).where(t.c.v >= bindparam("least")))


def test_a_bound_list_reads_exactly_its_keys_rows_once(table) -> None:
    engine, t = table
    keyed = _keyed(t)
    texts = set()
    with engine.connect() as conn:
        def read(keys, least=0) -> list[tuple]:
            texts.add(str(keyed.statement(conn).compile(conn)))
            return sorted(tuple(r)[:3] for r in keyed.execute(conn, keys, least=least))

        assert read(KEYS) == sorted(KEYS)
        assert read(KEYS[:1]) == KEYS[:1]
        assert read([*KEYS, KEYS[0]]) == sorted(KEYS)  # a key asked twice gives its row once
        assert read([]) == []
        assert read([(1, "x", "2026-02"), (9, "x", "2026-01")]) == [(1, "x", "2026-02")]
        assert read(KEYS, least=len(ROWS)) == []  # the statement's own parameters still apply
        # Strings that are JSON or SQL to someone are only values.
        assert read([(1, "x\"]", "2026-01"), (1, "' OR 1=1 --", "2026-01")]) == []
        conn.execute(t.insert(), [{"f": 1, "a": "abcdefgh", "p": "2026-01", "v": 0}])
        assert read([(1, "abcdefghZ", "2026-01")]) == []  # a value longer than the column is not cut to match
        assert read([(1, "abcdefgh", "2026-01")]) == [(1, "abcdefgh", "2026-01")]
        conn.rollback()
        every = [(r["f"], r["a"], r["p"]) for r in ROWS]
        assert read(every * 3) == sorted(every)
    assert len(texts) == 1  # one statement text for every list: compiled once, prepared once by the driver


@pytest.mark.parametrize("table", ["sqlite"], indirect=True)  # PostgreSQL plans by its statistics
def test_sqlite_searches_the_whole_key_from_a_bound_list(table) -> None:
    engine, t = table
    with engine.connect() as conn:
        stmt = _keyed(t).statement(conn).compile(conn)
        params = {name: None for name in stmt.params}
        plan = " | ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {stmt}", tuple(params.values())))
    assert f"SEARCH {t.name} USING INDEX" in plan and "(f=? AND a=? AND p=?)" in plan, plan
