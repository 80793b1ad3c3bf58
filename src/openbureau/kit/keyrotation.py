"""Re-encrypt stored ciphertexts under the current key, in short transactions, while the bureau serves.

Each batch is read outside any transaction, decrypted and sealed again under the current key, then written
in one short write transaction that changes a row only if it still holds the ciphertext that was read
(compare and set), so a concurrent writer is never overwritten. Progress needs no bookkeeping: a row is
done when its ciphertext names the current key, and a rewrite killed at any moment simply starts again and
skips the rows already done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Engine,
    LargeBinary,
    MetaData,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
    tuple_,
    update,
)

from openbureau.kit.crypto import BLIND_INDEX, CIPHERTEXT, PiiVault, ciphertext_key_id, ciphertext_prefix
from openbureau.kit.db import session_scope

_V2 = b"\x02"
_HEAD = 3  # version byte and key id


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    """A column of ciphertexts sealed by the PII vault, in a table with a primary key."""

    table: Table
    column: str

    @property
    def name(self) -> str:
        """``table.column``."""
        return f"{self.table.name}.{self.column}"


def encrypted_columns(metadata: MetaData) -> list[EncryptedColumn]:
    """Every column of ``metadata`` marked as holding vault ciphertexts (``info=CIPHERTEXT``), by table."""
    return [EncryptedColumn(table, column.name) for table in metadata.sorted_tables for column in table.columns
            if column.info.get("pii") == CIPHERTEXT["pii"]]


def key_counts(engine: Engine, column: EncryptedColumn) -> Counter[int]:
    """How many ciphertexts of ``column`` each key id sealed."""
    col = column.table.c[column.column]
    # Version 2 heads are the version byte and the key id; version 1 has no key id (its key is id 1).
    head = case((func.substr(col, 1, 1) == literal(_V2, LargeBinary), func.substr(col, 1, _HEAD)),
                else_=func.substr(col, 1, 1))
    with session_scope(engine, read_only=True) as session:
        rows = session.execute(select(head.label("head"), func.count()).where(col.is_not(None))  # optional ones
                               .group_by(head)).all()
    counts: Counter[int] = Counter()
    for head_bytes, count in rows:
        counts[ciphertext_key_id(bytes(head_bytes))] += count
    return counts


def pending(engine: Engine, column: EncryptedColumn, key_id: int) -> int:
    """How many ciphertexts of ``column`` are not sealed under key ``key_id``."""
    return sum(n for k, n in key_counts(engine, column).items() if k != key_id)


def rewrite(engine: Engine, column: EncryptedColumn, vault: PiiVault, *, batch_size: int = 2_000,
            on_batch: Callable[[int], None] | None = None) -> int:
    """Re-encrypt every ciphertext of ``column`` not under the vault's current key; how many were rewritten.

    Args:
        batch_size: Rows per transaction (each one holds the write lock only for its updates).
        on_batch: Called with the number of rows each batch rewrote (a progress bar).
    """
    table, col = column.table, column.table.c[column.column]
    keys = list(table.primary_key.columns)
    current = ciphertext_prefix(vault.key_id)
    todo = select(*keys, col).where(func.substr(col, 1, _HEAD) != literal(current, LargeBinary))
    todo = todo.order_by(*keys).limit(batch_size)
    guard = and_(*(k == bindparam(f"k_{k.name}") for k in keys), col == bindparam("old", type_=LargeBinary))
    change = update(table).where(guard).values({column.column: bindparam("new", type_=LargeBinary)})
    done, after = 0, None
    while True:
        stmt = todo if after is None else todo.where(_after(keys, after))
        with session_scope(engine, read_only=True) as session:
            rows = session.execute(stmt).all()
        if not rows:
            return done
        fresh = vault.encrypt_many([vault.decrypt(bytes(row[-1])) for row in rows])
        params = [{**{f"k_{k.name}": row[i] for i, k in enumerate(keys)}, "old": row[-1], "new": new}
                  for row, new in zip(rows, fresh, strict=True)]
        with session_scope(engine, write=True) as session:
            session.connection().execute(change, params)
        done += len(rows)
        if on_batch is not None:
            on_batch(len(rows))
        after = tuple(rows[-1][: len(keys)])


def _after(keys: Sequence, after: tuple):
    if len(keys) == 1:
        return keys[0] > after[0]
    return tuple_(*keys) > tuple_(*after)


@dataclass(frozen=True, slots=True)
class IndexColumn:
    """A blind-index column, the ciphertext column of the value it indexes, and the column of its domain."""

    table: Table
    column: str
    source: str
    domain: str

    @property
    def name(self) -> str:
        """``table.column``."""
        return f"{self.table.name}.{self.column}"


def index_columns(metadata: MetaData) -> list[IndexColumn]:
    """Every blind-index column of ``metadata`` (``info=blind_index_of(...)``), by table."""
    return [IndexColumn(table, column.name, column.info["source"], column.info["domain"])
            for table in metadata.sorted_tables for column in table.columns
            if column.info.get("pii") == BLIND_INDEX["pii"]]


def row_count(engine: Engine, column: IndexColumn) -> int:
    """How many rows the table of ``column`` holds (the total of a re-indexing progress bar)."""
    with session_scope(engine, read_only=True) as session:
        return session.scalar(select(func.count()).select_from(column.table)) or 0


def reindex(engine: Engine, column: IndexColumn, vault: PiiVault, *, batch_size: int = 2_000,
            on_batch: Callable[[int], None] | None = None) -> int:
    """Recompute every blind index of ``column`` under the vault's current index key; how many changed.

    Rows are read in key order outside any transaction, their value decrypted and indexed again, and the rows
    whose index differs written in one short transaction each batch, compare and set (a row changed
    meanwhile is left for the next run). Lookups try the current and the retiring key meanwhile
    (``PiiVault.index_candidates``), so they keep working; a run killed at any moment is simply run again.
    """
    table = column.table
    keys = list(table.primary_key.columns)
    source, domain, index = table.c[column.source], table.c[column.domain], table.c[column.column]
    page = select(*keys, source, domain, index).order_by(*keys).limit(batch_size)
    guard = and_(*(k == bindparam(f"k_{k.name}") for k in keys), index == bindparam("old", type_=LargeBinary))
    change = update(table).where(guard).values({column.column: bindparam("new", type_=LargeBinary)})
    changed, after = 0, None
    while True:
        stmt = page if after is None else page.where(_after(keys, after))
        with session_scope(engine, read_only=True) as session:
            rows = session.execute(stmt).all()
        if not rows:
            return changed
        params = []
        for row in rows:
            new = vault.blind_index(vault.decrypt(bytes(row[-3])), domain=row[-2])
            if new != bytes(row[-1]):
                params.append({**{f"k_{k.name}": row[i] for i, k in enumerate(keys)}, "old": row[-1], "new": new})
        if params:
            with session_scope(engine, write=True) as session:
                session.connection().execute(change, params)
        changed += len(params)
        if on_batch is not None:
            on_batch(len(rows))
        after = tuple(rows[-1][: len(keys)])
