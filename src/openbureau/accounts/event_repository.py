"""All SQL on lending events (``lending_events``) and on what reconciliation found (``event_discrepancies``).

Events are written by the event intake (``intake.events.service``) in short transactions of their own and
read by report assembly with one indexed statement per inquiry. A person's events are those filed under
the person, plus those about the person's subject that no person could be numbered for yet (a load was
running when they arrived); :meth:`EventRepository.link_unlinked` files those as soon as it can.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    union_all,
    update,
)

from openbureau.accounts.models import ErasedEvent, EventDiscrepancy, LendingEvent
from openbureau.kit.dialects import dialect_for
from openbureau.kit.keys import keys_in

E = LendingEvent.__table__.c
D = EventDiscrepancy.__table__.c

# The columns a report reads of an event.
EVENT_COLUMNS = (E.id, E.furnisher_id, E.event_type, E.occurred_at, E.furnisher_account_id, E.product_type,
                 E.currency, E.amount, E.term_months, E.opened_on, E.amount_due, E.balance, E.days_past_due,
                 E.past_due_amount)
# The contact details a lender was given with new credit (the application's, or the loan's) or furnished as changed
# on an existing account: the sealed identity of application, opened and contact_changed events only, so that an
# inquiry decrypts a few recent ones (docs/fraud.md).
CONTACT = case((E.event_type.in_(("application", "opened", "contact_changed")), E.identity_enc)
               ).label("contact_enc")
EVENT_SCHEMA = {"id": pl.Int64, "furnisher_id": pl.Int64, "event_type": pl.String,
                "occurred_at": pl.Datetime("us", "UTC"), "furnisher_account_id": pl.String, "product_type": pl.String,
                "currency": pl.String, "amount": pl.Int64, "term_months": pl.Int64, "opened_on": pl.Date,
                "amount_due": pl.Int64, "balance": pl.Int64, "days_past_due": pl.Int64,
                "past_due_amount": pl.Int64}
# What a release returns of each event it released (the consent gate tells the person of negative ones).
RELEASED_EVENT_SCHEMA = {"id": pl.Int64, "furnisher_id": pl.Int64, "person_id": pl.Int64, "event_id": pl.String,
                         "event_type": pl.String,
                         "days_past_due": pl.Int64, "occurred_at": pl.Datetime("us", "UTC")}
OPENED_SCHEMA = {"event_row_id": pl.Int64, "furnisher_id": pl.Int64, "furnisher_account_id": pl.String,
                 "person_id": pl.Int64, "occurred_at": pl.Datetime("us", "UTC")}
ID_CHUNK = 900  # bound parameters per IN list (SQLite's default limit is 999 per statement)

# Read on every inquiry: built once, with bound parameters (building this union and its subquery's columns
# cost several times more than running it).
_FILED = select(*EVENT_COLUMNS, CONTACT).where(E.person_id == bindparam("person_id"), E.occurred_at >= bindparam("since"),
                                      E.held_reason.is_(None))
_PENDING = select(*EVENT_COLUMNS, CONTACT).where(E.person_id.is_(None), E.id_type == bindparam("id_type"),
                                        E.id_index.in_(bindparam("id_indexes", expanding=True)),
                                        E.occurred_at >= bindparam("since"), E.held_reason.is_(None))
_BOTH = union_all(_FILED, _PENDING).subquery()
_OF_PERSON = select(_BOTH).order_by(_BOTH.c.occurred_at, _BOTH.c.id)


class EventRepository:
    """Lending events on a Core connection (the intake writes in its own short transactions)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- intake -----------------------------------------------------------------------------------------
    def stored(self, *, furnisher_id: int, event_ids: Sequence[str]) -> dict[str, bytes]:
        """event id -> digest of the furnisher's events already stored among ``event_ids``, and of those a
        person had erased (``erased_events``): sent again, an erased event is a duplicate, never stored."""
        found: dict[str, bytes] = {}
        for start in range(0, len(event_ids), ID_CHUNK):
            chunk = list(event_ids[start:start + ID_CHUNK])
            found.update(self.conn.execute(select(E.event_id, E.digest).where(
                E.furnisher_id == furnisher_id, E.event_id.in_(chunk))).all())
            found.update(self.conn.execute(select(ErasedEvent.event_id, ErasedEvent.digest).where(
                ErasedEvent.furnisher_id == furnisher_id, ErasedEvent.event_id.in_(chunk))).all())
        return found

    def insert(self, frame: pl.DataFrame) -> None:
        """Append events (columns named as the table's, without ``id``), and let the planner see them once they
        add up to a tenth of the table (``Dialect.refresh_statistics``).

        Without statistics PostgreSQL took a lender's 353,000 events for about 2,300, planned the next batches'
        duplicate check (:meth:`stored`) as a scan of all of the lender's events with each of 900 ids compared
        in turn, and took 5.8 s per 900 ids where the unique index answers in 6.4 ms: a bureau whose server
        analyses late, or never (autovacuum off), slowed with every event it stored."""
        if frame.height:
            writer = dialect_for(self.conn)
            writer.insert(self.conn, LendingEvent.__table__, frame)
            writer.refresh_statistics(self.conn, LendingEvent.__table__, rows_written=frame.height)

    def link_unlinked(self, persons: Callable[[ColumnElement, ColumnElement], Select], *, limit: int = 50_000
                      ) -> int:
        """File unlinked events under the person ``persons(id_type, id_index)`` finds (a correlated query
        returning the person's id); how many. Bounded per call, so that the transaction stays short."""
        batch = select(E.id).where(E.person_id.is_(None)).limit(limit).scalar_subquery()
        person = persons(E.id_type, E.id_index).scalar_subquery()
        stmt = (update(LendingEvent).values(person_id=person)
                .where(E.id.in_(batch), persons(E.id_type, E.id_index).exists()))
        return self.conn.execute(stmt).rowcount

    def unlinked_subjects(self, *, limit: int = 10_000) -> pl.DataFrame:
        """Distinct (``id_type``, ``id_index``, ``id_enc``) of the oldest events filed under no person."""
        rows = self.conn.execute(select(E.id_type, E.id_index, E.id_enc).where(E.person_id.is_(None))
                                 .order_by(E.id).limit(limit)).all()
        return pl.DataFrame([tuple(r) for r in rows], orient="row", schema={
            "id_type": pl.String, "id_index": pl.Binary, "id_enc": pl.Binary}).unique(["id_type", "id_index"])

    # -- reads ------------------------------------------------------------------------------------------
    def of_person(self, *, person_id: int, id_type: str, id_indexes: Sequence[bytes], since: datetime
                  ) -> Sequence[Row]:
        """A person's published events since ``since``, oldest first: filed under the person, or about the
        person's subject and filed under nobody yet. Held events (no consent) are left out. Each row is
        ``EVENT_COLUMNS`` and ``contact_enc``: the sealed identity of an application, opening or contact change,
        else null."""
        return self.conn.execute(_OF_PERSON, {"person_id": person_id, "id_type": id_type,
                                              "id_indexes": list(id_indexes), "since": since}).all()

    def identity_records(self, *, since: datetime, batch: int = 50_000) -> Iterator[list[tuple]]:
        """Batches of (person_id, furnisher_id, occurred_at, identity_enc) of the published events filed under a
        person since ``since`` (held ones are not part of a file)."""
        stmt = select(E.person_id, E.furnisher_id, E.occurred_at, E.identity_enc).where(
            E.person_id.is_not(None), E.held_reason.is_(None), E.occurred_at >= since)
        result = self.conn.execute(stmt.execution_options(yield_per=batch))
        while rows := result.fetchmany(batch):
            yield [tuple(r) for r in rows]

    def count(self, *, furnisher_id: int | None = None) -> dict[str, int]:
        """Events stored, held and filed under no person (of one furnisher, or all)."""
        stmt = select(func.count(), func.count(E.held_reason), func.count() - func.count(E.person_id))
        if furnisher_id is not None:
            stmt = stmt.where(E.furnisher_id == furnisher_id)
        stored, held, unlinked = self.conn.execute(stmt).one()
        return {"stored": stored, "held": held, "unlinked": unlinked or 0}

    # -- the consent gate and identity ------------------------------------------------------------------
    def release_held(self, *, reason: str, unblocked: Callable[[ColumnElement, ColumnElement], Select],
                     moment: datetime, furnisher_id: int | None = None,
                     person_ids: Sequence[int] | None = None) -> pl.DataFrame:
        """Release events held for ``reason`` whose (person_id, furnisher_id) ``unblocked`` now finds, only
        those of ``person_ids`` if given; the events released (``RELEASED_EVENT_SCHEMA``)."""
        where = [E.held_reason == reason, unblocked(E.person_id, E.furnisher_id).exists()]
        if furnisher_id is not None:
            where.append(E.furnisher_id == furnisher_id)
        if person_ids is not None:
            where.append(E.person_id.in_(person_ids))
        rows = self.conn.execute(update(LendingEvent).values(held_reason=None, released_at=moment).where(*where)
                                 .returning(*(E[c] for c in RELEASED_EVENT_SCHEMA))).all()
        return pl.DataFrame([tuple(r) for r in rows], schema=RELEASED_EVENT_SCHEMA, orient="row")

    def move(self, *, from_person_id: int, to_person_id: int, furnisher_id: int | None = None,
             furnisher_account_id: str | None = None) -> int:
        """File a person's events (or one account's) under another person; how many."""
        where = [E.person_id == from_person_id]
        if furnisher_id is not None:
            where += [E.furnisher_id == furnisher_id, E.furnisher_account_id == furnisher_account_id]
        return self.conn.execute(update(LendingEvent).where(*where).values(person_id=to_person_id)).rowcount

    def purge_batch(self, *, before: datetime, limit: int = 5_000) -> int:
        """Delete up to ``limit`` events that happened before ``before``; how many."""
        oldest = select(E.id).where(E.occurred_at < before).order_by(E.id).limit(limit).scalar_subquery()
        return self.conn.execute(delete(LendingEvent).where(E.id.in_(oldest))).rowcount

    # -- reconciliation ---------------------------------------------------------------------------------
    def of_furnisher(self, *, furnisher_id: int, since: datetime) -> pl.DataFrame:
        """The furnisher's published events since ``since`` (reconciliation reads them beside its files)."""
        stmt = select(*EVENT_COLUMNS).where(E.furnisher_id == furnisher_id, E.occurred_at >= since,
                                            E.held_reason.is_(None)).order_by(E.id)
        rows = self.conn.execute(stmt).all()
        return pl.DataFrame([tuple(r) for r in rows], orient="row", schema=EVENT_SCHEMA)

    def opened_between(self, *, since: datetime, until: datetime) -> pl.DataFrame:
        """Every ``opened`` event in ``[since, until)`` (held ones too: their records are stored, held as
        well): ``event_row_id``, ``furnisher_id``, ``furnisher_account_id``, ``person_id``, ``occurred_at``."""
        rows = self.conn.execute(select(E.id, E.furnisher_id, E.furnisher_account_id, E.person_id, E.occurred_at)
                                 .where(E.event_type == "opened", E.occurred_at >= since, E.occurred_at < until)).all()
        return pl.DataFrame([tuple(r) for r in rows], orient="row", schema=OPENED_SCHEMA)

    def record_discrepancies(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Store discrepancies not stored before (by event and code); the new ones."""
        if frame.height == 0:
            return frame
        keys = list(zip(frame["event_row_id"].to_list(), frame["code"].to_list(), strict=True))
        known: set[tuple[int, str]] = set()
        for start in range(0, len(keys), ID_CHUNK // 2):
            known.update(self.conn.execute(select(D.event_row_id, D.code).where(
                keys_in((D.event_row_id, D.code), keys[start:start + ID_CHUNK // 2]))).all())
        new = frame.filter(~pl.struct("event_row_id", "code").is_in(
            pl.DataFrame(list(known), orient="row", schema={"event_row_id": pl.Int64, "code": pl.String})
            .to_struct().implode()) if known else pl.lit(True))
        if new.height:
            self.conn.execute(insert(EventDiscrepancy), new.to_dicts())
        return new

    def discrepancies(self, *, furnisher_id: int | None = None, limit: int = 100, offset: int = 0) -> Sequence[Row]:
        """Stored discrepancies, newest first (of one furnisher, or all)."""
        stmt = select(EventDiscrepancy.__table__).order_by(D.id.desc()).limit(limit).offset(offset)
        if furnisher_id is not None:
            stmt = stmt.where(D.furnisher_id == furnisher_id)
        return self.conn.execute(stmt).all()

    def discrepancy_counts(self) -> dict[tuple[int, str], int]:
        """(furnisher id, code) -> how many discrepancies are stored."""
        return {(f, c): n for f, c, n in self.conn.execute(
            select(D.furnisher_id, D.code, func.count()).group_by(D.furnisher_id, D.code))}
