"""All SQL about one person's records as the person's rights need them: everything held (the export), and
erasure with its suppression list (``erased_states``, ``erased_events``).

An erasure (``people.erasure``) deletes records in short transactions and lists what it deleted, so that
intake never stores it again: a load asks which accounts of a period were erased (:meth:`erased_accounts`),
the event intake which of a batch's event ids (``EventRepository.stored`` reads ``erased_events``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Row, delete, func, insert, select

from openbureau.accounts.joint_rows import delete_of_periods, delete_of_states
from openbureau.accounts.models import AccountState, ErasedEvent, ErasedState, LendingEvent
from openbureau.accounts.repository import PUBLISHED
from openbureau.kit.keys import keys_in

S = AccountState.__table__.c
E = LendingEvent.__table__.c
X = ErasedState.__table__.c
XE = ErasedEvent.__table__.c
KEYS_PER_STATEMENT = 500  # tuples per IN list (4 bound parameters each)
_STATE_KEY = (S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version)
_PERIOD_KEY = (S.furnisher_id, S.furnisher_account_id, S.reporting_period)


def _chunks(items: Sequence, size: int = KEYS_PER_STATEMENT):
    for start in range(0, len(items), size):
        yield items[start:start + size]


class PersonRecordRepository:
    """One person's account states and lending events, on a Core connection: read whole, erased, suppressed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- everything held -------------------------------------------------------------------------------
    def states_of(self, person_id: int) -> Sequence[Row]:
        """Every published state of the person, held ones and every version included, by account and period."""
        stmt = (select(AccountState.__table__).where(S.person_id == person_id, PUBLISHED)
                .order_by(S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version))
        return self.conn.execute(stmt).all()

    def events_of(self, person_id: int) -> Sequence[Row]:
        """Every lending event filed under the person, held ones included, oldest first."""
        stmt = select(LendingEvent.__table__).where(E.person_id == person_id).order_by(E.occurred_at, E.id)
        return self.conn.execute(stmt).all()

    def counts_of(self, person_id: int) -> tuple[int, int]:
        """(published states in the file, held states) of the person."""
        total, held = self.conn.execute(select(func.count(), func.count(S.held_reason))
                                        .where(S.person_id == person_id, PUBLISHED)).one()
        return total - held, held

    # -- erasure ---------------------------------------------------------------------------------------
    def held_state_keys(self, *, person_id: int, reason: str, limit: int) -> list[tuple[int, str, str, int]]:
        """Primary keys of up to ``limit`` published states of the person held for ``reason``."""
        stmt = (select(S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version)
                .where(S.person_id == person_id, S.held_reason == reason, PUBLISHED)
                .order_by(S.furnisher_id, S.furnisher_account_id, S.reporting_period, S.version).limit(limit))
        return [tuple(r) for r in self.conn.execute(stmt)]

    def erase_states(self, keys: list[tuple[int, str, str, int]], *, reason: str, erasure_id: int,
                     moment: datetime) -> tuple[int, int]:
        """Delete states by primary key and list each period of which no version is left; (rows deleted,
        periods listed)."""
        delete_of_states(self.conn, keys)
        deleted = sum(self.conn.execute(delete(AccountState).where(keys_in(_STATE_KEY, chunk))).rowcount
                      for chunk in _chunks(keys))
        periods = sorted({(f, a, p) for f, a, p, _ in keys})
        left: set[tuple[int, str, str]] = set()
        for chunk in _chunks(periods):
            left.update(tuple(r) for r in self.conn.execute(
                select(S.furnisher_id, S.furnisher_account_id, S.reporting_period).distinct()
                .where(keys_in(_PERIOD_KEY, chunk))))
        listed = self.suppress_states([k for k in periods if k not in left], reason=reason, erasure_id=erasure_id,
                                      moment=moment)
        return deleted, listed

    def erase_periods(self, keys: list[tuple[int, str, str]], *, reason: str, erasure_id: int, moment: datetime
                      ) -> int:
        """Delete every version of the given (furnisher, account, period) and list them; rows deleted."""
        delete_of_periods(self.conn, keys)
        deleted = sum(self.conn.execute(delete(AccountState).where(keys_in(_PERIOD_KEY, chunk))).rowcount
                      for chunk in _chunks(keys))
        self.suppress_states(keys, reason=reason, erasure_id=erasure_id, moment=moment)
        return deleted

    def suppress_states(self, keys: list[tuple[int, str, str]], *, reason: str, erasure_id: int,
                        moment: datetime) -> int:
        """List (furnisher, account, period) keys not listed yet; how many were new."""
        known: set[tuple[int, str, str]] = set()
        for chunk in _chunks(keys):
            known.update(tuple(r) for r in self.conn.execute(
                select(X.furnisher_id, X.furnisher_account_id, X.reporting_period)
                .where(keys_in((X.furnisher_id, X.furnisher_account_id, X.reporting_period), chunk))))
        rows = [{"furnisher_id": f, "furnisher_account_id": a, "reporting_period": p, "reason": reason,
                 "erasure_id": erasure_id, "erased_at": moment} for f, a, p in dict.fromkeys(keys) if (f, a, p) not in known]
        if rows:
            self.conn.execute(insert(ErasedState), rows)
        return len(rows)

    def held_events(self, *, person_id: int, reason: str, limit: int) -> list[tuple[int, int, str, bytes]]:
        """(id, furnisher_id, event_id, digest) of up to ``limit`` events of the person held for ``reason``."""
        stmt = (select(E.id, E.furnisher_id, E.event_id, E.digest)
                .where(E.person_id == person_id, E.held_reason == reason).order_by(E.id).limit(limit))
        return [tuple(r) for r in self.conn.execute(stmt)]

    def erase_events(self, events: list[tuple[int, int, str, bytes]], *, reason: str, erasure_id: int,
                     moment: datetime) -> int:
        """Delete events and list their ids with their digests; how many were deleted."""
        deleted = sum(self.conn.execute(delete(LendingEvent).where(E.id.in_([e[0] for e in chunk]))).rowcount
                      for chunk in _chunks(events))
        known = {(f, i) for chunk in _chunks(events) for f, i in self.conn.execute(
            select(XE.furnisher_id, XE.event_id).where(keys_in((XE.furnisher_id, XE.event_id),
                                                               [(e[1], e[2]) for e in chunk])))}
        rows = [{"furnisher_id": f, "event_id": i, "digest": d, "reason": reason, "erasure_id": erasure_id,
                 "erased_at": moment} for _, f, i, d in events if (f, i) not in known]
        if rows:
            self.conn.execute(insert(ErasedEvent), rows)
        return deleted

    # -- what intake must not store again --------------------------------------------------------------
    def erased_accounts(self, *, furnisher_id: int, periods: Sequence[str]) -> list[tuple[str, str]]:
        """(``furnisher_account_id``, ``reporting_period``) of the furnisher's accounts whose period, one of
        ``periods``, was erased."""
        return [tuple(r) for r in self.conn.execute(select(X.furnisher_account_id, X.reporting_period).where(
            X.furnisher_id == furnisher_id, X.reporting_period.in_(sorted(set(periods)))))]
