"""The statements that keep ``account_funders`` and ``account_parties`` in step with the states they belong to:
deleted with them (erasure, retention, a discarded load) and moved with a person (merges, resolution); a
person's held related-person rows erased at their request.

Kept apart from ``party_repository`` (which reads through ``repository``'s publication filter) so that
``repository`` can use them without an import cycle.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, delete, update

from openbureau.accounts.models import AccountFunder, AccountParty
from openbureau.kit.keys import keys_in

_TABLES = (AccountFunder.__table__, AccountParty.__table__)
_BATCH = 1_000


def delete_of_states(conn: Connection, keys: Sequence[tuple[int, str, str, int]]) -> None:
    """Delete the funders and related persons of these state versions."""
    for table in _TABLES:
        c = table.c
        for start in range(0, len(keys), _BATCH):
            conn.execute(delete(table).where(keys_in((c.furnisher_id, c.furnisher_account_id, c.reporting_period,
                                                      c.version), keys[start:start + _BATCH])))


def delete_of_periods(conn: Connection, keys: Sequence[tuple[int, str, str]]) -> None:
    """Delete the funders and related persons of every version of these (furnisher, account, period)."""
    for table in _TABLES:
        c = table.c
        for start in range(0, len(keys), _BATCH):
            conn.execute(delete(table).where(keys_in((c.furnisher_id, c.furnisher_account_id, c.reporting_period),
                                                     keys[start:start + _BATCH])))


def move_parties(conn: Connection, moves: list[dict[str, int]]) -> None:
    """File the related-person rows of each person ``old`` under ``new`` (one executemany)."""
    if moves:
        p = AccountParty.__table__
        conn.execute(update(p).where(p.c.person_id == bindparam("old")).values(person_id=bindparam("new")), moves)


def erase_held_parties(conn: Connection, *, person_id: int, reason: str) -> int:
    """Delete the related-person rows of a person held for ``reason`` (never part of any file); how many."""
    p = AccountParty.__table__
    return conn.execute(delete(p).where(p.c.person_id == person_id, p.c.held_reason == reason)).rowcount
