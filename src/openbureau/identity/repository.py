"""Queries of the identity domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl
from sqlalchemy import Connection, select

from openbureau.identity.models import Person, PersonVariant

_BATCH = 5_000


def _batches(values: Sequence, size: int = _BATCH) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class PersonRepository:
    """All SQL about persons and their variants, for bulk paths on a Core connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def persons_by_index(self, *, id_type: str, indexes: Sequence[bytes]) -> pl.DataFrame:
        """Existing persons (``id_index``, ``person_id``) among ``indexes`` of one identifier type."""
        found: list[tuple[bytes, int]] = []
        for batch in _batches(indexes):
            stmt = select(Person.id_index, Person.id).where(Person.id_type == id_type, Person.id_index.in_(batch))
            found.extend(tuple(r) for r in self.conn.execute(stmt))
        return pl.DataFrame(found, schema={"id_index": pl.Binary, "person_id": pl.Int64}, orient="row")

    def variants_of(self, person_ids: Sequence[int]) -> pl.DataFrame:
        """Known (``person_id``, ``variant_index``) pairs of ``person_ids``."""
        found: list[tuple[int, bytes]] = []
        for batch in _batches(person_ids):
            stmt = select(PersonVariant.person_id, PersonVariant.variant_index).where(
                PersonVariant.person_id.in_(batch)
            )
            found.extend(tuple(r) for r in self.conn.execute(stmt))
        return pl.DataFrame(found, schema={"person_id": pl.Int64, "variant_index": pl.Binary}, orient="row")
