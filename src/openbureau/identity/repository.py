"""Queries of the identity domain."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, Table, select

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
