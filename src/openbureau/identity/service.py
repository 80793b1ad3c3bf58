"""Rules of the identity domain: link furnished records to persons.

Until probabilistic resolution lands, a record links to a person by exact (id_type, id_number), looked up
through the blind index, and a new person is created for an identifier never seen before. Each distinct
description of the person (name, birth date, phone, address) is kept, encrypted, as a variant.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import Connection

from openbureau.identity.models import Person, PersonVariant
from openbureau.identity.repository import PersonRepository
from openbureau.kit.bulk import BulkWriter
from openbureau.kit.crypto import PiiVault

VARIANT_FIELDS = ("full_name", "birth_date", "phone", "address")
_SEP = "\x1f"


def link_records(
    conn: Connection,
    *,
    vault: PiiVault,
    writer: BulkWriter,
    furnisher_id: int,
    records: pl.DataFrame,
    now: datetime,
) -> pl.Series:
    """The person id of every record, creating persons and variants as needed.

    Args:
        records: typed records with ``id_type``, ``id_number`` (normalised), the variant fields and
            ``reporting_period``.
    Returns:
        An Int64 series ``person_id`` aligned with ``records``.
    """
    repo = PersonRepository(conn)
    keys = records.select("id_type", "id_number").unique(maintain_order=True)
    found: list[pl.DataFrame] = []
    for (id_type,), group in keys.group_by("id_type", maintain_order=True):
        numbers = group["id_number"].to_list()
        indexes = vault.blind_indexes(numbers, domain=str(id_type))
        group = group.with_columns(pl.Series("id_index", indexes, dtype=pl.Binary))
        known = repo.persons_by_index(id_type=str(id_type), indexes=indexes)
        group = group.join(known, on="id_index", how="left")
        new = group.filter(pl.col("person_id").is_null())
        if new.height:
            new = new.with_columns(writer.allocate_ids(conn, Person.__table__, new.height).alias("person_id"))
            writer.insert(conn, Person.__table__, new.select(
                pl.col("person_id").alias("id"),
                "id_type",
                "id_index",
                pl.Series("id_enc", vault.encrypt_many(new["id_number"].to_list()), dtype=pl.Binary),
                pl.lit(now).alias("created_at"),
            ))
        found.append(group.filter(pl.col("person_id").is_not_null()).with_columns(pl.lit(False).alias("_new")))
        found.append(new.with_columns(pl.lit(True).alias("_new")))
    mapping = pl.concat(found, how="diagonal").select("id_type", "id_number", "person_id", "_new")
    linked = records.join(mapping, on=["id_type", "id_number"], how="left", maintain_order="left")
    _store_variants(conn, vault=vault, writer=writer, furnisher_id=furnisher_id, linked=linked, now=now)
    return linked["person_id"]


def _store_variants(
    conn: Connection, *, vault: PiiVault, writer: BulkWriter, furnisher_id: int, linked: pl.DataFrame,
    now: datetime,
) -> None:
    text = pl.concat_str(
        [pl.col(f).cast(pl.String).fill_null("") for f in VARIANT_FIELDS], separator=_SEP
    ).alias("_variant")
    variants = (
        linked.select("person_id", "_new", "reporting_period", text)
        .sort("reporting_period")
        .unique(subset=["person_id", "_variant"], keep="first", maintain_order=True)
    )
    variants = variants.with_columns(
        pl.Series("variant_index", vault.blind_indexes(variants["_variant"].to_list(), domain="variant"),
                  dtype=pl.Binary)
    )
    old = variants.filter(~pl.col("_new"))
    if old.height:
        known = PersonRepository(conn).variants_of(old["person_id"].unique().to_list())
        old = old.join(known, on=["person_id", "variant_index"], how="anti")
    fresh = pl.concat([variants.filter(pl.col("_new")), old])
    if fresh.height == 0:
        return
    writer.insert(conn, PersonVariant.__table__, fresh.select(
        "person_id",
        "variant_index",
        pl.Series("identity_enc", vault.encrypt_many(fresh["_variant"].to_list()), dtype=pl.Binary),
        pl.lit(furnisher_id, dtype=pl.Int64).alias("furnisher_id"),
        pl.col("reporting_period").alias("first_period"),
        pl.lit(now).alias("created_at"),
    ))


def decode_variant(vault: PiiVault, token: bytes) -> dict[str, str | None]:
    """The fields of an encrypted variant, empty ones as None."""
    parts = vault.decrypt(token).split(_SEP)
    return {name: (value or None) for name, value in zip(VARIANT_FIELDS, parts, strict=True)}
