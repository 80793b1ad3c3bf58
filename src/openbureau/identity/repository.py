"""Queries of the identity domain."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from openbureau.accounts.repository import published_person
from openbureau.identity.models import (
    IdentityAccountMove,
    IdentityConflict,
    IdentityMerge,
    IdentityModel,
    IdentityReview,
    Person,
)
from openbureau.kit.db import lock_intake, utcnow
from openbureau.kit.dialects import dialect_for

# A person numbered by a load still in progress is not known yet: the load publishes it with its records.
_MAX_CHAIN = 64


class PersonRepository:
    """All SQL about persons, for bulk paths on a Core connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def persons_by_index(self, *, id_type: str, staged: Table, published_only: bool = False) -> pl.DataFrame:
        """Existing persons (``id_index``, ``person_id``) whose blind index is in the ``staged`` table (with
        ``published_only``, not those a load in progress numbered)."""
        # IN (SELECT ...): the planner probes the (id_type, id_index) index per staged key rather than
        # scanning every person for each chunk (the temporary table has no statistics).
        stmt = select(Person.id_index, Person.id).where(
            Person.id_type == id_type, Person.id_index.in_(select(staged.c.id_index)))
        if published_only:
            stmt = stmt.where(published_person(Person.id))
        rows = [tuple(r) for r in self.conn.execute(stmt)]
        return pl.DataFrame(rows, schema={"id_index": pl.Binary, "person_id": pl.Int64}, orient="row")

    def persons_of_subjects(self, subjects: pl.DataFrame, *, chunk: int = 900) -> pl.DataFrame:
        """``id_type, id_index, person_id`` of the persons filed under the given subjects (``id_type``,
        ``id_index``); the surviving person of a merged one (``survivors``)."""
        rows: list[tuple] = []
        for (id_type,), part in subjects.unique(["id_type", "id_index"]).group_by(["id_type"]):
            indexes = part["id_index"].to_list()
            for start in range(0, len(indexes), chunk):
                rows += [tuple(r) for r in self.conn.execute(select(
                    Person.id_type, Person.id_index, Person.id, Person.merged_into_id).where(
                    Person.id_type == id_type, Person.id_index.in_(indexes[start:start + chunk])))]
        found = pl.DataFrame(rows, schema={"id_type": pl.String, "id_index": pl.Binary, "person_id": pl.Int64,
                                           "merged_into_id": pl.Int64}, orient="row")
        merged = dict(found.filter(pl.col("merged_into_id").is_not_null()).select("person_id", "merged_into_id")
                      .iter_rows())
        return survive(found.drop("merged_into_id"), self.survivors(merged))

    def survivors(self, merged: dict[int, int] | None = None) -> pl.DataFrame:
        """``person_id, survivor_id`` of every merged person: the person its records now lie under (the end
        of its chain of merges). ``merged`` (person -> the person it was merged into): only those persons'
        survivors, following their chains (a lookup per link), not every merged person of the bureau."""
        if merged is None:
            rows = self.conn.execute(select(Person.id, Person.merged_into_id).where(Person.merged_into_id.is_not(None)))
            into = dict(tuple(r) for r in rows)
        else:
            into, ahead = dict(merged), set(merged.values())
            for _ in range(_MAX_CHAIN):
                ahead -= into.keys()
                if not ahead:
                    break
                found = dict(tuple(r) for r in self.conn.execute(select(Person.id, Person.merged_into_id).where(
                    Person.id.in_(sorted(ahead)), Person.merged_into_id.is_not(None))))
                into |= found
                ahead = set(found.values())
        ends = {}
        for person in into:
            end, hops = into[person], 0
            while end in into and hops < _MAX_CHAIN:
                end, hops = into[end], hops + 1
            ends[person] = end
        return pl.DataFrame({"person_id": list(ends), "survivor_id": list(ends.values())},
                            schema={"person_id": pl.Int64, "survivor_id": pl.Int64})

    def next_person_id(self) -> int:
        """The first id free for new persons (read under the intake lock, so that it stays free)."""
        return self.conn.execute(select(func.coalesce(func.max(Person.id), 0))).scalar_one() + 1


def survive(frame: pl.DataFrame, survivors: pl.DataFrame, column: str = "person_id") -> pl.DataFrame:
    """``frame`` with ``column`` replaced by the surviving person of each merged person in it."""
    return frame.join(survivors.rename({"person_id": column}), on=column, how="left").with_columns(
        pl.coalesce("survivor_id", column).alias(column)).drop("survivor_id")


class ResolutionRepository:
    """All SQL of identity resolution, merges, splits, reviews and conflicts, on a session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_intake(self) -> None:
        """Serialise with intake loads (PostgreSQL; SQLite's single writer does it already)."""
        lock_intake(self.session.connection())

    def persons(self) -> pl.DataFrame:
        """Every person: ``person_id``, ``id_type``, ``merged_into_id``."""
        rows = self.session.execute(select(Person.id, Person.id_type, Person.merged_into_id)).all()
        return pl.DataFrame([tuple(r) for r in rows], orient="row",
                            schema={"person_id": pl.Int64, "id_type": pl.String, "merged_into_id": pl.Int64})

    def anchors(self, id_type: str) -> Iterator[tuple[int, bytes]]:
        """(person id, encrypted anchor identifier) of the surviving persons of one id type."""
        stmt = select(Person.id, Person.id_enc).where(Person.id_type == id_type, Person.merged_into_id.is_(None))
        yield from (tuple(r) for r in self.session.execute(stmt))

    def person(self, person_id: int) -> Person | None:
        """One person by id."""
        return self.session.get(Person, person_id)

    def add(self, *rows: object) -> None:
        """Add rows and flush, so their ids are known."""
        self.session.add_all(rows)
        self.session.flush()

    def merge_many(self, rows: list[dict], *, accounts: pl.DataFrame) -> tuple[int, list[dict[str, int]]]:
        """Merge many persons at once; the number merged, and the merges as ``{"old": person, "new":
        survivor}``, with which the caller files the merged persons' records under their survivors
        (``accounts.service.move_persons``).

        Every statement is an indexed lookup by person (a join or ``IN (subquery)`` over ``account_states``
        made SQLite scan the whole table), and the moved accounts come from the caller, who has read them.

        Args:
            rows: ``identity_merges`` rows (kind, method, person_id, into_person_id, weights, evidence, actor).
                Pairs whose persons were merged meanwhile (by an operator) are skipped.
            accounts: ``person_id``, ``furnisher_id``, ``furnisher_account_id`` of the persons' records.
        """
        merged = set(self.session.scalars(select(Person.id).where(Person.merged_into_id.is_not(None))))
        rows = [r for r in rows if r["person_id"] not in merged and r["into_person_id"] not in merged]
        if not rows:
            return 0, []
        accounts = accounts.unique()
        counts = dict(accounts.group_by("person_id").len().iter_rows())
        for r in rows:
            r["evidence"] = json.dumps({**r["evidence"], "accounts": counts.get(r["person_id"], 0)},
                                       sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        conn = self.session.connection()
        # One multi-row insert, then the new ids read back by person: an insert returning its ids in the
        # order of the rows runs row by row on SQLite (tens of thousands of statements).
        m = IdentityMerge.__table__.c
        before = conn.execute(select(func.coalesce(func.max(m.id), 0))).scalar_one()
        created_at = utcnow()
        conn.execute(insert(IdentityMerge.__table__), [{**r, "created_at": created_at} for r in rows])
        merging = pl.DataFrame({"person_id": [r["person_id"] for r in rows],
                                "into_person_id": [r["into_person_id"] for r in rows]},
                               schema={"person_id": pl.Int64, "into_person_id": pl.Int64})
        new = conn.execute(select(m.id, m.person_id, m.into_person_id).where(m.id > before, m.kind == "merge")
                           .order_by(m.id)).all()
        pairs = pl.DataFrame(new, schema={"merge_id": pl.Int64, "person_id": pl.Int64, "into_person_id": pl.Int64},
                             orient="row").unique("person_id", keep="last").join(
            merging, on=["person_id", "into_person_id"], how="semi")
        moves = accounts.join(pairs, on="person_id").select(
            "merge_id", "furnisher_id", "furnisher_account_id", pl.col("person_id").alias("from_person_id"),
            pl.col("into_person_id").alias("to_person_id"))
        dialect_for(conn).insert(conn, IdentityAccountMove.__table__, moves)
        params = [{"old": o, "new": n} for o, n in pairs.select("person_id", "into_person_id").iter_rows()]
        p = Person.__table__.c
        conn.execute(update(Person.__table__).where(p.merged_into_id == bindparam("old"))
                     .values(merged_into_id=bindparam("new")), params)
        conn.execute(update(Person.__table__).where(p.id == bindparam("old"))
                     .values(merged_into_id=bindparam("new")), params)
        return len(rows), params

    def mark_merged(self, person_id: int, *, into: int) -> None:
        """Record that a person was merged into another, and point persons merged into it at the survivor."""
        self.session.execute(update(Person).where(Person.merged_into_id == person_id).values(merged_into_id=into))
        self.session.execute(update(Person).where(Person.id == person_id).values(merged_into_id=into))

    def set_merged(self, person_id: int, into: int | None) -> None:
        """Set (or clear) where a person was merged."""
        self.session.execute(update(Person).where(Person.id == person_id).values(merged_into_id=into))

    def add_moves(self, rows: list[dict]) -> None:
        """Insert account moves in bulk."""
        if rows:
            self.session.execute(insert(IdentityAccountMove), rows)

    def last_move_in(self, *, person_id: int, furnisher_id: int, furnisher_account_id: str
                     ) -> IdentityAccountMove | None:
        """The latest move of this account into this person."""
        m = IdentityAccountMove
        stmt = (select(m).where(m.to_person_id == person_id, m.furnisher_id == furnisher_id,
                                m.furnisher_account_id == furnisher_account_id).order_by(m.id.desc()).limit(1))
        return self.session.scalars(stmt).first()

    def blocked_pairs(self) -> set[tuple[int, int]]:
        """(weak, strong) pairs an operator separated: rejected reviews and splits."""
        r = IdentityReview
        rejected = self.session.execute(select(r.person_id, r.candidate_person_id).where(r.status == "rejected"))
        splits = self.session.execute(select(IdentityMerge.into_person_id, IdentityMerge.person_id)
                                      .where(IdentityMerge.kind == "split"))
        return {tuple(p) for p in rejected} | {tuple(p) for p in splits}

    def reviews(self, *, status: str | None = None, limit: int = 100) -> list[IdentityReview]:
        """Review items, oldest first."""
        stmt = select(IdentityReview).order_by(IdentityReview.id).limit(limit)
        if status:
            stmt = stmt.where(IdentityReview.status == status)
        return list(self.session.scalars(stmt))

    def review_pairs(self) -> set[tuple[int, int]]:
        """(person, candidate) pairs ever queued, whatever their status."""
        stmt = select(IdentityReview.person_id, IdentityReview.candidate_person_id)
        return {(p, c) for p, c in self.session.execute(stmt)}

    def queue_reviews(self, rows: list[dict]) -> None:
        """Queue many review items at once (``identity_reviews`` rows without ids)."""
        if rows:
            created_at = utcnow()
            self.session.connection().execute(insert(IdentityReview.__table__),
                                              [{"status": "pending", "created_at": created_at, **r} for r in rows])

    def pending_review_pairs(self) -> pl.DataFrame:
        """(``person_id``, ``candidate_person_id``) of every review item waiting for an operator."""
        stmt = select(IdentityReview.person_id, IdentityReview.candidate_person_id).where(
            IdentityReview.status == "pending")
        return pl.DataFrame([tuple(r) for r in self.session.execute(stmt)], orient="row",
                            schema={"person_id": pl.Int64, "candidate_person_id": pl.Int64})

    def reviewed_persons(self) -> set[int]:
        """Weak persons with a pending review (left alone until an operator decides)."""
        stmt = select(IdentityReview.person_id).where(IdentityReview.status == "pending")
        return set(self.session.scalars(stmt))

    def review(self, review_id: int) -> IdentityReview | None:
        """One review item."""
        return self.session.get(IdentityReview, review_id)

    def merges(self, person_id: int) -> list[IdentityMerge]:
        """History of merges and splits involving a person, oldest first."""
        m = IdentityMerge
        stmt = select(m).where((m.person_id == person_id) | (m.into_person_id == person_id)).order_by(m.id)
        return list(self.session.scalars(stmt))

    def replace_conflicts(self, rows: list[dict]) -> None:
        """Replace every recorded conflict by a fresh detection."""
        self.session.execute(delete(IdentityConflict))
        if rows:
            self.session.execute(insert(IdentityConflict), rows)

    def conflicts(self, person_ids: list[int]) -> list[IdentityConflict]:
        """Conflicts of these persons."""
        stmt = select(IdentityConflict).where(IdentityConflict.person_id.in_(person_ids)).order_by(
            IdentityConflict.id)
        return list(self.session.scalars(stmt))

    def conflict_counts(self) -> list[tuple[int | None, str, int]]:
        """(furnisher_id, kind, number of conflicts) over all recorded conflicts."""
        c = IdentityConflict
        stmt = select(c.furnisher_id, c.kind, func.count()).group_by(c.furnisher_id, c.kind)
        return [tuple(r) for r in self.session.execute(stmt)]

    def latest_model(self) -> IdentityModel | None:
        """The most recently trained linkage model, if any."""
        return self.session.scalars(select(IdentityModel).order_by(IdentityModel.id.desc()).limit(1)).first()

    def models(self) -> list[IdentityModel]:
        """Every trained linkage model, newest first."""
        return list(self.session.scalars(select(IdentityModel).order_by(IdentityModel.id.desc())))

    def moves_into(self, person_id: int) -> list[tuple[IdentityMerge, IdentityAccountMove]]:
        """Merges into a person still in force, with each account they moved (oldest first)."""
        m, mv = IdentityMerge, IdentityAccountMove
        stmt = (select(m, mv).join(mv, mv.merge_id == m.id)
                .where(m.kind == "merge", mv.to_person_id == person_id).order_by(m.id, mv.id))
        return [tuple(r) for r in self.session.execute(stmt)]

    def merged_into(self, person_id: int) -> list[int]:
        """Persons merged into this one."""
        return list(self.session.scalars(select(Person.id).where(Person.merged_into_id == person_id)))


def same_person(column: ColumnElement, person_id) -> ColumnElement[bool]:
    """``column`` names the person ``person_id`` (a value or a bound parameter) or a person merged into it: a
    condition for another domain's statement about a person (disputes, blocks, alerts, freezes), so that its
    rows follow the person through a merge and go back with a split. One level is enough: a merge points every
    person merged before at the surviving one."""
    # The persons merged into it are read from ``persons`` itself and every other table of the condition is
    # the enclosing statement's (``person_id`` may be a column of a statement two subqueries up, which
    # SQLAlchemy's automatic correlation would otherwise add to this subquery as a table of its own).
    merged = select(Person.id).where(Person.merged_into_id == person_id).correlate_except(Person.__table__)
    return or_(column == person_id, column.in_(merged))


def person_ids(session: Session, person_id: int) -> set[int]:
    """The person and every person merged into it."""
    return {person_id, *session.scalars(select(Person.id).where(Person.merged_into_id == person_id))}


def surviving_person(session: Session, person: Person | None) -> Person | None:
    """The person a merged person ended in (the person itself when never merged)."""
    for _ in range(_MAX_CHAIN):
        if person is None or person.merged_into_id is None:
            return person
        person = session.get(Person, person.merged_into_id)
    raise RuntimeError("merge chain too long or circular")


_CONFLICTS_OF = (select(IdentityConflict.kind, IdentityConflict.furnisher_id, IdentityConflict.detected_at)
                 .where(IdentityConflict.person_id == bindparam("person_id")).order_by(IdentityConflict.id))
_LOOKED_UP = 4  # the columns every lookup reads first: id, id_type, id_enc, merged_into_id


class PersonRef(NamedTuple):
    """A person as lookups return it: id, anchor id type and encrypted anchor identifier."""

    id: int
    id_type: str
    id_enc: bytes


class PersonLookup:
    """The surviving person by blind index or id (plain rows, since every inquiry looks a person up), and, in
    the same statement, columns about that person that ``extra`` makes from its id column: conditions of
    other domains on the person (a report's sections, ``reports.repository``), so that a caller who needs them
    for the person it finds makes no statement of its own for them. The lookup reads an alias of ``persons``,
    so that a condition that itself reads ``persons`` (a merged person's rows: ``same_person``) correlates with
    the person found, not with itself."""

    def __init__(self, extra: Callable[[ColumnElement], Sequence[ColumnElement]] = lambda _person_id: ()) -> None:
        found = Person.__table__.alias("found")
        columns = (found.c.id, found.c.id_type, found.c.id_enc, found.c.merged_into_id, *extra(found.c.id))
        self._by_index = select(*columns).where(found.c.id_type == bindparam("id_type"),
                                                found.c.id_index == bindparam("id_index"), published_person(found.c.id))
        self._by_id = select(*columns).where(found.c.id == bindparam("id"))

    def find(self, session: Session, *, id_type: str, id_indexes: tuple[bytes, ...]) -> tuple[PersonRef, tuple] | None:
        """The surviving person under any of the subject's blind indexes in turn (two during an index key
        rotation, when a person's row may still carry the retiring key's index) and the ``extra`` values read
        for that person (read again for the survivor when the index found a person merged into another)."""
        conn = session.connection()
        for id_index in id_indexes:
            found = self._survivor(conn, conn.execute(self._by_index, {"id_type": id_type, "id_index": id_index}).first())
            if found is not None:
                return PersonRef(found.id, found.id_type, found.id_enc), tuple(found[_LOOKED_UP:])
        return None

    def by_id(self, session: Session, person_id: int) -> PersonRef | None:
        """The surviving person of ``person_id`` (the person itself, or the one it was merged into)."""
        conn = session.connection()
        found = self._survivor(conn, conn.execute(self._by_id, {"id": person_id}).first())
        return None if found is None else PersonRef(found.id, found.id_type, found.id_enc)

    def _survivor(self, conn, found):
        """``found``, or the person it was merged into, following the merges."""
        for _ in range(_MAX_CHAIN):
            if found is None or found.merged_into_id is None:
                return found
            found = conn.execute(self._by_id, {"id": found.merged_into_id}).first()
        raise RuntimeError("merge chain too long or circular")


_PERSONS = PersonLookup()


def find_person(session: Session, *, id_type: str, id_index: bytes) -> PersonRef | None:
    """The surviving person whose anchor identifier (or a merged person's) has this blind index."""
    return find_person_by_any(session, id_type=id_type, id_indexes=(id_index,))


def find_person_by_id(session: Session, person_id: int) -> PersonRef | None:
    """The surviving person of ``person_id`` (the person itself, or the one it was merged into)."""
    return _PERSONS.by_id(session, person_id)


def find_person_by_any(session: Session, *, id_type: str, id_indexes: tuple[bytes, ...]) -> PersonRef | None:
    """:func:`find_person` under each of the subject's blind indexes in turn (two during an index key
    rotation, when a person's row may still carry the retiring key's index)."""
    found = _PERSONS.find(session, id_type=id_type, id_indexes=id_indexes)
    return None if found is None else found[0]


def merged_documents(session: Session, person_id: int) -> list[tuple[str, bytes]]:
    """(id type, encrypted anchor identifier) of every person merged into ``person_id``, directly or through
    earlier merges: the person's other identity documents (a passport linked to their resident ID)."""
    found, frontier = [], [person_id]
    for _ in range(_MAX_CHAIN):
        rows = session.execute(select(Person.id, Person.id_type, Person.id_enc)
                               .where(Person.merged_into_id.in_(frontier))).all()
        if not rows:
            return found
        found += [(r.id_type, r.id_enc) for r in rows]
        frontier = [r.id for r in rows]
    raise RuntimeError("merge chain too long or circular")


def conflicts_exist(person_id: ColumnElement) -> ColumnElement[bool]:
    """Whether the person of ``person_id`` (a column or parameter of another domain's statement) has any
    identity conflict: when not, :func:`conflicts_of` is empty."""
    return exists().where(IdentityConflict.person_id == person_id)


def conflicts_of(session: Session, person_id: int) -> list[tuple[str, int | None, datetime]]:
    """(kind, furnisher_id, detected_at) of one person's identity conflicts (read on every inquiry)."""
    return [tuple(r) for r in session.connection().execute(_CONFLICTS_OF, {"person_id": person_id})]
