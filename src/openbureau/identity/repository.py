"""Queries of the identity domain."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session

from openbureau.identity.models import Person


class PersonRepository:
    """All SQL about persons, for bulk paths on a Core connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def persons_by_index(self, *, id_type: str, staged: Table) -> pl.DataFrame:
        """Existing persons (``id_index``, ``person_id``) whose blind index is in the ``staged`` table."""
        stmt = (
            select(Person.id_index, Person.id)
            .join(staged, staged.c.id_index == Person.id_index)
            .where(Person.id_type == id_type)
        )
        rows = [tuple(r) for r in self.conn.execute(stmt)]
        return pl.DataFrame(rows, schema={"id_index": pl.Binary, "person_id": pl.Int64}, orient="row")


def find_person(session: Session, *, id_type: str, id_index: bytes) -> Person | None:
    """The person whose anchor identifier has this blind index."""
    return session.scalars(select(Person).where(Person.id_type == id_type, Person.id_index == id_index)).one_or_none()
