"""PostgreSQL's hash partitions: a table made partitioned by a column (and plain again), read from the catalogue.

A partitioned table's primary key must hold its partition key, so :func:`partition` appends the column to the
table's key (``account_states``: the natural key, then ``person_id``); uniqueness of the natural key alone is
then no longer the database's to enforce but its writer's (docs/scaling.md, PostgreSQL partitioned by person).
Both conversions copy the rows in the caller's transaction: a migration, all or nothing.

Names here come from the bureau's own tables and migrations, never from input; they are quoted all the same.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def is_partitioned(conn: Connection, table: str) -> bool:
    """Whether ``table`` is a partitioned table (the parent of its partitions)."""
    return bool(conn.execute(text("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(:t)"),
                             {"t": table}).scalar())


def partitions(conn: Connection, table: str) -> list[str]:
    """The partitions of ``table`` in order of their names' number ([] for a plain table or none)."""
    return list(conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t) ORDER BY length(c.relname), c.relname"), {"t": table}).scalars())


def partition_names(conn: Connection) -> set[str]:
    """Every partition of a table that the session's search path sees."""
    return set(conn.execute(text("SELECT relname FROM pg_class WHERE relispartition AND relkind = 'r' "
                                 "AND pg_table_is_visible(oid)")).scalars())


def parent_and_bound(conn: Connection, table: str) -> tuple[str, str] | None:
    """(the parent, the bound: ``FOR VALUES WITH (modulus 4, remainder 0)``) of a partition; None otherwise."""
    row = conn.execute(text(
        "SELECT p.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE c.oid = to_regclass(:t) AND c.relispartition"),
        {"t": table}).first()
    return (row[0], row[1]) if row else None


def partition_constraint(conn: Connection, table: str) -> str:
    """The condition every row of the partition ``table`` satisfies (a ``satisfies_hash_partition`` call): as
    a CHECK constraint of a table about to take the partition's place, it lets ATTACH skip its scan."""
    return conn.execute(text("SELECT pg_get_partition_constraintdef(to_regclass(:t))"), {"t": table}).scalar_one()


def primary_key(conn: Connection, table: str) -> tuple[str, list[str]]:
    """The name of ``table``'s primary key and its columns, in the key's order."""
    rows = conn.execute(text(
        "SELECT c.conname, a.attname FROM pg_constraint c "
        "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
        "WHERE c.conrelid = to_regclass(:t) AND c.contype = 'p' ORDER BY k.n"), {"t": table}).all()
    if not rows:
        raise LookupError(f"{table} has no primary key")
    return rows[0][0], [r[1] for r in rows]


def _indexes(conn: Connection, table: str) -> list[str]:
    """``CREATE INDEX`` statements of ``table``'s indexes that no constraint owns (a partitioned table's say
    ``ON ONLY``, which would leave its partitions without the index: left out)."""
    definitions = conn.execute(text(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = to_regclass(:t) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY i.indexrelid"), {"t": table}).scalars()
    return [d.replace(" ON ONLY ", " ON ", 1) for d in definitions]


def _columns(conn: Connection, table: str) -> str:
    names = conn.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum"), {"t": table}).scalars()
    return ", ".join(_quote(conn, n) for n in names)


def _rebuild(conn: Connection, table: str, *, aside: str, partition_by: str | None, partitions: int,
             key: list[str]) -> None:
    """Put ``table`` aside, make a new one of its columns (hash-partitioned by ``partition_by`` in ``partitions``
    partitions, or plain), copy the rows, drop the old one and give the new one the primary key ``key`` and the
    old one's other indexes, under their names."""
    name, old = _quote(conn, table), _quote(conn, aside)
    primary, _ = primary_key(conn, table)
    indexes = _indexes(conn, table)
    conn.execute(text(f"ALTER TABLE {name} RENAME TO {old}"))
    like = f"LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS"
    partitioned = f" PARTITION BY HASH ({_quote(conn, partition_by)})" if partition_by else ""
    conn.execute(text(f"CREATE TABLE {name} ({like}){partitioned}"))
    for remainder in range(partitions if partition_by else 0):
        conn.execute(text(f"CREATE TABLE {_quote(conn, f'{table}_p{remainder}')} PARTITION OF {name} "
                          f"FOR VALUES WITH (MODULUS {partitions:d}, REMAINDER {remainder:d})"))
    columns = _columns(conn, aside)
    copied = conn.execute(text(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM {old}")).rowcount  # noqa: S608
    conn.execute(text(f"DROP TABLE {old}"))  # its partitions, constraints and indexes with it: the names are free
    conn.execute(text(f"ALTER TABLE {name} ADD CONSTRAINT {_quote(conn, primary)} "
                      f"PRIMARY KEY ({', '.join(_quote(conn, c) for c in key)})"))
    for definition in indexes:
        conn.execute(text(definition))
    if copied:
        conn.execute(text(f"ANALYZE {name}"))


def partition(conn: Connection, table: str, *, column: str, partitions: int) -> None:
    """Make the plain ``table`` partitioned by the hash of ``column`` in ``partitions`` partitions named
    ``<table>_p0`` ..., its rows copied, ``column`` appended to its primary key (a partitioned table's key must
    hold the partition key). Nothing when ``partitions`` is 0 or the table is partitioned already."""
    if partitions <= 0 or is_partitioned(conn, table):
        return
    _, key = primary_key(conn, table)
    _rebuild(conn, table, aside=f"{table}_plain", partition_by=column, partitions=partitions,
             key=key if column in key else [*key, column])


def unpartition(conn: Connection, table: str, *, column: str) -> None:
    """Make the partitioned ``table`` one plain table again, its rows copied and ``column`` taken out of its
    primary key (where :func:`partition` appended it). Nothing when the table is plain."""
    if not is_partitioned(conn, table):
        return
    _, key = primary_key(conn, table)
    _rebuild(conn, table, aside=f"{table}_partitioned", partition_by=None, partitions=0,
             key=key[:-1] if key[-1] == column and len(key) > 1 else key)
