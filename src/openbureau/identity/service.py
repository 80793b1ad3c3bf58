"""Rules of the identity domain: link furnished records to persons.

Until probabilistic resolution lands, a record links to a person by exact (id_type, id_number), looked up
through the blind index, and a new person is created for an identifier never seen before. Each record also
keeps its own description of the person (name, birth date, phone, address) encrypted, so that the variants
a person was described with, and the evidence for every link, stay available.

Persons are created only under the intake's write lock (SQLite's single writer, a PostgreSQL advisory
lock), which is what lets a load number its new persons itself.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection, func, select, text

from openbureau.identity.models import Person
from openbureau.identity.repository import PersonRepository
from openbureau.kit.bulk import bulk_writer_for
from openbureau.kit.crypto import PiiVault

IDENTITY_FIELDS = ("full_name", "birth_date", "phone", "address")
_SEP = "\x1f"
_LINK_SCHEMA = {"id_type": pl.String, "id_index": pl.Binary, "person_id": pl.Int64}


def seal_identities(vault: PiiVault, records: pl.DataFrame) -> pl.Series:
    """The encrypted identity description of every record (``identity_enc``)."""
    text_ = records.select(
        pl.concat_str([pl.col(f).cast(pl.String).fill_null("") for f in IDENTITY_FIELDS], separator=_SEP)
    ).to_series()
    return pl.Series("identity_enc", vault.encrypt_many(text_.to_list()), dtype=pl.Binary)


def open_identity(vault: PiiVault, token: bytes) -> dict[str, str | None]:
    """The fields of an encrypted identity description, empty ones as None."""
    parts = vault.decrypt(token).split(_SEP)
    return {name: (value or None) for name, value in zip(IDENTITY_FIELDS, parts, strict=True)}


def next_person_id(conn: Connection) -> int:
    """The first id free for new persons, read inside the write-locked transaction."""
    return conn.execute(select(func.coalesce(func.max(Person.id), 0))).scalar_one() + 1


def sync_person_sequence(conn: Connection) -> None:
    """After persons were numbered by a load, move PostgreSQL's sequence past them."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT setval(pg_get_serial_sequence('persons', 'id'), "
                          "(SELECT coalesce(max(id), 1) FROM persons))"))


class PersonLinker:
    """Links the records of one load to persons.

    It reads persons committed before the load on a read connection of its own (so that it can run beside
    the writer), remembers the persons it created earlier in the same load, and numbers new persons from
    ``first_new_id``. Memory grows with the number of new persons in the load (about 40 bytes each).

    Example:
        >>> linker = PersonLinker(read_conn, vault=vault, first_new_id=next_person_id(write_conn), now=now)
        >>> links, new_persons = linker.link(records)   # links: person_id, id_index; new_persons: table rows
    """

    def __init__(self, conn: Connection, *, vault: PiiVault, first_new_id: int, now: datetime) -> None:
        self._conn = conn
        self._vault = vault
        self._next_id = first_new_id
        self._created = pl.DataFrame(schema=_LINK_SCHEMA)
        self._now = now

    def link(self, records: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """``person_id`` and ``id_index`` of every record, and the persons table rows of persons it created."""
        if records.height == 0:
            return pl.DataFrame(schema={"person_id": pl.Int64, "id_index": pl.Binary}), pl.DataFrame()
        keys = records.select("id_type", "id_number").unique(maintain_order=True)
        linked, new_rows = [], []
        for (id_type,), group in keys.group_by("id_type", maintain_order=True):
            indexes = self._vault.blind_indexes(group["id_number"].to_list(), domain=str(id_type))
            group = group.with_columns(pl.Series("id_index", indexes, dtype=pl.Binary))
            known = pl.concat([self._committed(str(id_type), group.select("id_index")),
                               self._created.filter(pl.col("id_type") == id_type).select("id_index", "person_id")])
            group = group.join(known, on="id_index", how="left")
            fresh = group.filter(pl.col("person_id").is_null()).sort("id_index").with_columns(
                pl.int_range(self._next_id, self._next_id + pl.len(), dtype=pl.Int64).alias("person_id"))
            self._next_id += fresh.height
            self._created = pl.concat([self._created, fresh.select(_LINK_SCHEMA.keys())])
            linked.append(pl.concat([group.filter(pl.col("person_id").is_not_null()), fresh]))
            new_rows.append(fresh.select(
                pl.col("person_id").alias("id"), "id_type", "id_index",
                pl.Series("id_enc", self._vault.encrypt_many(fresh["id_number"].to_list()), dtype=pl.Binary),
                pl.lit(self._now).alias("created_at"),
            ))
        mapping = pl.concat(linked).select("id_type", "id_number", "person_id", "id_index")
        linked_records = records.join(mapping, on=["id_type", "id_number"], how="left", maintain_order="left")
        return linked_records.select("person_id", "id_index"), pl.concat(new_rows)

    def _committed(self, id_type: str, indexes: pl.DataFrame) -> pl.DataFrame:
        writer = bulk_writer_for(self._conn)
        with writer.staged(self._conn, indexes, "link_keys") as staged:
            return PersonRepository(self._conn).persons_by_index(id_type=id_type, staged=staged)
