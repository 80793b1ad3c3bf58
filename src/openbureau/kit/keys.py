"""Lists of composite keys in SQL that every engine answers through the primary key.

SQLite (3.40) plans a list of two or more row values, ``(a, b, c) IN ((?, ?, ?), (?, ?, ?))``, as a scan of
the whole table even when ``(a, b, c)`` leads its primary key; given the leading columns' values as plain
``IN`` lists as well, it searches the key for them, and the row-value ``IN`` beside them keeps exactly the
keys asked for. PostgreSQL plans either form by its statistics. Every such list of keys goes through here:
:func:`keys_in` with the values in the statement, and :class:`KeyedSelect` in a statement built once (the
reads every inquiry makes).

An ``IN`` list bound at execution is written into the statement's text each time (SQLAlchemy's "expanding"
parameters): the statement is compiled again for every length of list, and the driver's cache of prepared
statements misses. :class:`KeyedSelect` binds the whole list as one fixed set of parameters instead (a JSON
array on SQLite, one array per key column on PostgreSQL: ``Dialect.key_list``) and joins the table to it
through the table's key, so its text never changes.

Example:
    >>> S = AccountState.__table__.c
    >>> delete(AccountState).where(keys_in((S.furnisher_id, S.furnisher_account_id, S.reporting_period), keys))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, CursorResult, FromClause, Select, and_, tuple_

from openbureau.kit.dialects import Dialect, dialect_for


def keys_in(columns: Sequence[ColumnElement], keys: Sequence[tuple]) -> ColumnElement[bool]:
    """Rows whose ``columns`` (two or more, leading an index) equal one of ``keys``."""
    keys = list(keys)
    return and_(columns[0].in_(sorted({k[0] for k in keys})), columns[1].in_(sorted({k[1] for k in keys})),
                tuple_(*columns).in_(keys))


class KeyList:
    """A list of composite keys as a table to join from (one dialect's ``key_list``)."""

    def __init__(self, table: FromClause, columns: list[ColumnElement]) -> None:
        self.table = table
        self.columns = columns

    def on(self, columns: Sequence[ColumnElement]) -> ColumnElement[bool]:
        """The join condition of the list to a table's key ``columns`` (in the list's column order)."""
        return and_(*(column == key for column, key in zip(columns, self.columns, strict=True)))


class KeyedSelect:
    """A statement over a list of composite keys bound as one parameter, built once per engine.

    ``build`` makes the statement from a :class:`KeyList` of ``columns``' types (join from ``keys.table`` on
    ``keys.on(...)``); :meth:`execute` binds the keys (duplicates dropped, so that the join returns each
    row once) and any other parameters.

    Example:
        >>> FUNDERS = KeyedSelect(KEY, lambda keys: select(F.funder_id).select_from(
        ...     keys.table.join(AccountFunder, keys.on(KEY))))
        >>> FUNDERS.execute(conn, [(1, "A-1", "2025-01", 1)]).all()
    """

    def __init__(self, columns: Sequence[ColumnElement], build: Callable[[KeyList], Select], *,
                 name: str = "keys") -> None:
        self.columns, self.build, self.name = tuple(columns), build, name
        self._built: dict[Dialect, Select] = {}

    def statement(self, conn: Connection) -> Select:
        """The statement for ``conn``'s engine."""
        return self._for(dialect_for(conn))

    def execute(self, conn: Connection, keys: Sequence[tuple], **params: Any) -> CursorResult:
        """Run the statement for ``keys`` on ``conn``."""
        dialect = dialect_for(conn)
        bound = dialect.key_list_params(list(dict.fromkeys(keys)), self.name, len(self.columns))
        return conn.execute(self._for(dialect), {**bound, **params})

    def _for(self, dialect: Dialect) -> Select:
        stmt = self._built.get(dialect)
        if stmt is None:
            stmt = self._built[dialect] = self.build(KeyList(*dialect.key_list(self.columns, self.name)))
        return stmt
