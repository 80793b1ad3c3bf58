"""The persons of a batch of subjects (``PersonRepository.persons_of_subjects``): each subject's surviving
person at the end of its chain of merges, read for the batch's own persons, not for every merged person."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import insert

from openbureau.identity.models import Person
from openbureau.identity.repository import PersonRepository

# person id -> the person it was merged into: 1 -> 2 -> 3 (a chain), 5 -> 6 (merged, not asked about)
MERGED = {1: 2, 2: 3, 5: 6}


def _index(person_id: int) -> bytes:
    return f"index-{person_id}".encode()


def test_each_subject_ends_at_its_survivor_and_unknown_subjects_are_left_out(runtime) -> None:
    with runtime.engine.begin() as conn:
        for person_id in range(1, 7):  # survivors first, so that each merge names a stored person
            conn.execute(insert(Person), {"id": person_id, "id_type": "CN_RESIDENT_ID", "id_index": _index(person_id),
                                          "id_enc": b"sealed", "created_at": datetime(2026, 1, 1, tzinfo=UTC)})
        for person_id, into in sorted(MERGED.items(), reverse=True):
            conn.execute(Person.__table__.update().where(Person.id == person_id).values(merged_into_id=into))
        subjects = pl.DataFrame({"id_type": ["CN_RESIDENT_ID"] * 4 + ["PASSPORT"],
                                 "id_index": [_index(1), _index(2), _index(4), b"nobody", _index(1)]})
        repository = PersonRepository(conn)
        found = repository.persons_of_subjects(subjects)
        asked = repository.survivors({1: 2})
        everyone = repository.survivors()
    assert sorted(found.select("id_index", "person_id").iter_rows()) == [
        (_index(1), 3), (_index(2), 3), (_index(4), 4)]  # not the passport: another type of document
    assert dict(asked.iter_rows()) == {1: 3, 2: 3}  # the chain followed, and nobody else's merge read
    assert dict(everyone.iter_rows()) == {1: 3, 2: 3, 5: 6}
