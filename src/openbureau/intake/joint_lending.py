"""The load's side of standard v1.1: a chunk's funders and related persons, ready to store beside its states.

Funders are stored by member id (``account_funders``); the facilitator's id goes on the state. A related
person is linked to a person by the same linking as the borrower (``identity.service.PersonLinker``), their
name and birth date are sealed like the borrower's (``seal_identities``) and their document is the person's
(sealed in ``persons``). The consent gate applies to them as to the borrower: a related person without a
consent to furnish in force is stored held (``held_reason`` no_consent), counted, and never shown; the
account itself loads on the borrower's consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import polars as pl
from sqlalchemy import Connection

from openbureau.consent.profiles import JurisdictionProfile
from openbureau.identity.service import PersonLinker, seal_identities
from openbureau.intake import quarantine, standard
from openbureau.kit.crypto import PiiVault

STATE_KEY = ["furnisher_id", "furnisher_account_id", "reporting_period", "version"]
FUNDER_SCHEMA = {"furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String,
                 "version": pl.Int16, "position": pl.Int16, "funder_id": pl.Int64, "share_bp": pl.Int32}
PARTY_SCHEMA = {"furnisher_id": pl.Int64, "furnisher_account_id": pl.String, "reporting_period": pl.String,
                "version": pl.Int16, "position": pl.Int16, "role": pl.String, "person_id": pl.Int64,
                "identity_enc": pl.Binary, "liability": pl.Int64, "consent_ref": pl.String, "held_reason": pl.String}


@dataclass(frozen=True, slots=True)
class JointLending:
    """A chunk's funders and related persons (rows of their tables), and the persons their linking created."""

    funders: pl.DataFrame
    parties: pl.DataFrame
    persons: pl.DataFrame
    held: int  # related persons stored held for want of a consent


def extended(records: pl.DataFrame) -> bool:
    """Whether any record carries a v1.1 value (a v1 file never does: nothing else is done for it)."""
    return any(records[c].null_count() < records.height for c in standard.JOINT_LENDING_COLUMNS)


def facilitator_id(members: Mapping[str, int]) -> pl.Expr:
    """The facilitator's member id of each record (validation rejected an unknown code)."""
    return pl.col("facilitator_code").replace_strict(members, default=None, return_dtype=pl.Int64)


def _funders(states: pl.DataFrame, members: Mapping[str, int]) -> pl.DataFrame:
    parts = []
    for n in range(1, standard.MAX_FUNDERS + 1):
        code = standard.funder_column(n, "code")
        parts.append(states.filter(pl.col(code).is_not_null()).select(
            *STATE_KEY, pl.lit(n).alias("position"),
            pl.col(code).replace_strict(members, default=None, return_dtype=pl.Int64).alias("funder_id"),
            pl.col(standard.funder_column(n, "share")).alias("share_bp")).cast(FUNDER_SCHEMA))
    return pl.concat(parts)


def _party_rows(states: pl.DataFrame) -> pl.DataFrame:
    """One row per related person: the state's key, the position and the group's columns by their suffix."""
    return pl.concat([states.filter(pl.col(standard.party_column(n, "id_number")).is_not_null()).select(
        *STATE_KEY, pl.lit(n, dtype=pl.Int16).alias("position"),
        *(pl.col(standard.party_column(n, s)).cast(pl.String if s != "liability" else pl.Int64).alias(s)
          for s in standard.PARTY_SUFFIXES if s != "birth_date"),
        pl.col(standard.party_column(n, "birth_date")).cast(pl.Date).alias("birth_date"))
        for n in range(1, standard.MAX_PARTIES + 1)])


def prepare(conn: Connection, states: pl.DataFrame, *, members: Mapping[str, int], linker: PersonLinker,
            vault: PiiVault, profile: JurisdictionProfile, furnisher_id: int, moment: datetime) -> JointLending:
    """The funders and related persons of a chunk's stored states (``states``: the kept records with their
    ``furnisher_id`` and ``version``), linked, sealed and gated by consent."""
    funders = _funders(states, members)
    rows = _party_rows(states)
    if rows.height == 0:
        return JointLending(funders, pl.DataFrame(schema=PARTY_SCHEMA), pl.DataFrame(), 0)
    links, persons = linker.link(rows)
    consented = quarantine.consented(conn, profile=profile, furnisher_id=furnisher_id,
                                     subjects=pl.concat([rows.select("id_type"), links.drop("person_id")],
                                                        how="horizontal"), moment=moment)
    sealed = seal_identities(vault, rows.with_columns(pl.lit(None, dtype=pl.String).alias("phone"),
                                                      pl.lit(None, dtype=pl.String).alias("address")))
    parties = rows.with_columns(
        links["person_id"], sealed,
        pl.when(consented).then(None).otherwise(pl.lit(quarantine.NO_CONSENT)).alias("held_reason"),
    ).select(list(PARTY_SCHEMA)).cast(PARTY_SCHEMA)
    return JointLending(funders, parties, persons, int((~consented).sum()))
