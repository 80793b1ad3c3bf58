"""Lists of composite keys in SQL that every engine answers through the primary key.

SQLite (3.40) plans a list of two or more row values, ``(a, b, c) IN ((?, ?, ?), (?, ?, ?))``, as a scan of
the whole table even when ``(a, b, c)`` leads its primary key; given the leading columns' values as plain
``IN`` lists as well, it searches the key for them, and the row-value ``IN`` beside them keeps exactly the
keys asked for. PostgreSQL plans either form by its statistics. Every such list of keys goes through here:
:func:`keys_in` with the values in the statement, :func:`bound_keys_in` in a statement built once (bound
with :func:`bound_key_params`).

Example:
    >>> S = AccountState.__table__.c
    >>> delete(AccountState).where(keys_in((S.furnisher_id, S.furnisher_account_id, S.reporting_period), keys))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, tuple_


def keys_in(columns: Sequence[ColumnElement], keys: Sequence[tuple]) -> ColumnElement[bool]:
    """Rows whose ``columns`` (two or more, leading an index) equal one of ``keys``."""
    keys = list(keys)
    return and_(columns[0].in_(sorted({k[0] for k in keys})), columns[1].in_(sorted({k[1] for k in keys})),
                tuple_(*columns).in_(keys))


def bound_keys_in(columns: Sequence[ColumnElement]) -> ColumnElement[bool]:
    """:func:`keys_in` with its lists bound at execution (``bound_key_params``): for a statement built once."""
    return and_(columns[0].in_(bindparam("key_firsts", expanding=True)),
                columns[1].in_(bindparam("key_seconds", expanding=True)),
                tuple_(*columns).in_(bindparam("keys", expanding=True)))


def bound_key_params(keys: Sequence[tuple]) -> dict[str, Any]:
    """The parameters of :func:`bound_keys_in` for ``keys``."""
    keys = list(keys)
    return {"key_firsts": sorted({k[0] for k in keys}), "key_seconds": sorted({k[1] for k in keys}), "keys": keys}
