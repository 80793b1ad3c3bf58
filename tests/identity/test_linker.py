"""A load's person linker: a subject met again in a later chunk is the person numbered the first time, whether
or not that person is committed yet, and a chunk looks up only its own subjects among the load's persons."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from openbureau.identity.service import PersonLinker, next_person_id

NOW = datetime(2026, 11, 20, tzinfo=UTC)


def _chunk(*subjects: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"id_type": [t for t, _ in subjects], "id_number": [n for _, n in subjects]})


def test_a_subject_in_a_later_chunk_keeps_the_person_numbered_before_it_was_committed(runtime) -> None:
    with runtime.engine.connect() as conn:
        first_id = next_person_id(conn)
        linker = PersonLinker(conn, vault=runtime.vault, first_new_id=first_id, now=NOW)
        links_a, new_a = linker.link(_chunk(("CN_RESIDENT_ID", "X1"), ("CN_RESIDENT_ID", "Y1"),
                                            ("CN_RESIDENT_ID", "X1")))
        # Nothing is written: chunk A's persons are known only to the linker.
        links_b, new_b = linker.link(_chunk(("CN_RESIDENT_ID", "Y1"), ("PASSPORT", "Y1"), ("CN_RESIDENT_ID", "Z1")))
        conn.rollback()
    a = links_a["person_id"].to_list()
    assert a[0] == a[2] != a[1] and sorted(new_a["id"].to_list()) == [first_id, first_id + 1]
    b = links_b["person_id"].to_list()
    assert b[0] == a[1]  # the same resident id: the same person as in chunk A
    assert len({b[1], b[2], *a}) == 4  # the same number under another id type is another subject
    assert sorted(new_b["id"].to_list()) == [first_id + 2, first_id + 3]
    assert links_b["id_index"][0] == links_a["id_index"][1]
