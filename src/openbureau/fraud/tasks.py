"""The batch job of the fraud domain: find the rings and rewrite ``fraud_ring_members`` (``openbureau fraud
rings build``).

Reads the phones, addresses and birth dates of the files' records (and of the lending events filed under
persons) of the last ``ring_window_months`` periods, decrypting them in memory a batch at a time; each value is
normalised and replaced at once by a keyed blind index of its own domain (``fraud.phone``, ``fraud.address``,
``fraud.birth``: the birth dates only tell one person's two files apart from two persons), so the
graph and everything stored hold no clear identifier. The rings are found by ``fraud.rings`` and written in
one short transaction, which an inquiry never waits for (it reads the previous build until it commits).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Engine

from openbureau.accounts.service import delinquent_persons, event_identity_records, identity_records
from openbureau.audit import service as audit
from openbureau.fraud.repository import FraudRepository
from openbureau.fraud.rings import ATTRIBUTE_SCHEMA, BIRTH, find_rings
from openbureau.identity.service import open_identities
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.periods import last_complete_period, shift_period
from openbureau.policy import SignalSettings
from openbureau.principals import Action, Principal, authorize

DELINQUENT_DAYS = 30  # a ring member this many days past due (or charged off) in the window is delinquent


@dataclass(frozen=True, slots=True)
class RingBuild:
    """What a build read and found."""

    records: int
    attributes: int
    linking: int
    over_cap: int
    single_lender: int
    rings: int
    persons: int
    flagged_persons: int  # persons in rings of at least ``ring_min_size``
    seconds: float


def normal_phone(column: str = "phone") -> pl.Expr:
    """The phone's digits, the last 11 (a country code dropped); shorter than 7 digits: nothing."""
    digits = pl.col(column).str.replace_all(r"\D", "").str.slice(-11)
    return pl.when(digits.str.len_chars() >= 7).then(digits)


def normal_address(column: str = "address") -> pl.Expr:
    """The address without spaces and punctuation, upper case (full-width forms folded to ASCII by NFKC)."""
    text_ = pl.col(column).str.normalize("NFKC").str.to_uppercase().str.replace_all(r"[\s,.;:·，。、\-#]", "")
    return pl.when(text_.str.len_chars() >= 6).then(text_)


def _attributes(tokens: list[bytes], persons: list[int], furnishers: list[int], periods: list[str],
                vault: PiiVault) -> pl.DataFrame:
    """One batch's (person, furnisher, kind, blind index, period), each distinct value hashed once."""
    fields = open_identities(vault, tokens)
    frame = pl.DataFrame({"person_id": persons, "furnisher_id": furnishers, "period": periods},
                         schema={"person_id": pl.Int64, "furnisher_id": pl.Int64, "period": pl.String})
    frame = pl.concat([frame, fields.select(normal_phone().alias("phone"), normal_address().alias("address"),
                                            pl.col("birth_date").alias(BIRTH))], how="horizontal")
    parts = []
    for kind in ("phone", "address", BIRTH):
        rows = (frame.filter(pl.col(kind).is_not_null())
                .group_by("person_id", "furnisher_id", kind).agg(pl.col("period").min()))
        values = rows[kind].unique()
        index = pl.DataFrame({kind: values, "index": pl.Series(vault.blind_indexes(values.to_list(),
                                                                                   domain=f"fraud.{kind}"),
                                                                dtype=pl.Binary)})
        parts.append(rows.join(index, on=kind).select("person_id", "furnisher_id", pl.lit(kind).alias("kind"),
                                                      "index", "period"))
    return pl.concat(parts).cast(ATTRIBUTE_SCHEMA)


def read_attributes(engine: Engine, *, vault: PiiVault, since_period: str) -> tuple[pl.DataFrame, int]:
    """The blind-indexed phones and addresses of every record and event from ``since_period`` on, and how many
    records were read."""
    parts, read = [], 0
    # One transaction (a snapshot; PostgreSQL's server-side cursors need one), not the autocommit reads.
    with session_scope(engine) as session:
        for rows in identity_records(session, since_period=since_period):
            read += len(rows)
            parts.append(_attributes([r[3] for r in rows], [r[0] for r in rows], [r[1] for r in rows],
                                     [r[2] for r in rows], vault))
        start = datetime(int(since_period[:4]), int(since_period[5:7]), 1, tzinfo=UTC)
        for rows in event_identity_records(session, since=start):
            read += len(rows)
            parts.append(_attributes([r[3] for r in rows], [r[0] for r in rows], [r[1] for r in rows],
                                     [f"{r[2]:%Y-%m}" for r in rows], vault))
    if not parts:
        return pl.DataFrame(schema=ATTRIBUTE_SCHEMA), 0
    frame = pl.concat(parts).group_by("person_id", "furnisher_id", "kind", "index").agg(pl.col("period").min())
    return frame.select(*ATTRIBUTE_SCHEMA), read


def build_rings(engine: Engine, *, vault: PiiVault, settings: SignalSettings, principal: Principal,
                now: datetime | None = None) -> RingBuild:
    """Find the rings of the last ``settings.ring_window_months`` periods and replace the stored ones; audited
    (counts only)."""
    authorize(principal, Action.BUILD_RINGS, message="rings are built by the bureau's operator")
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    since = shift_period(last_complete_period(now.date()), -(settings.ring_window_months - 1))
    attributes, read = read_attributes(engine, vault=vault, since_period=since)
    with session_scope(engine, read_only=True) as session:
        delinquent = delinquent_persons(session, since_period=since, min_days_past_due=DELINQUENT_DAYS)
    rings = find_rings(attributes, delinquent=delinquent, cap=settings.ring_attribute_cap,
                       min_lenders=settings.ring_min_lenders)
    members = rings.members.with_columns(pl.lit(now).alias("built_at"))
    result = RingBuild(records=read, attributes=rings.attributes, linking=rings.linking, over_cap=rings.over_cap,
                       single_lender=rings.single_lender, rings=members["ring_id"].n_unique(), persons=members.height,
                       flagged_persons=members.filter(pl.col("ring_size") >= settings.ring_min_size).height,
                       seconds=0.0)
    with session_scope(engine, write=True) as session:
        FraudRepository.of(session).replace_rings(members.to_dicts())
        audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                     action="fraud.rings_build", purpose="fraud_prevention",
                     details={"since_period": since, "records": read, "rings": result.rings,
                              "persons": result.persons, "over_cap": result.over_cap})
    return replace(result, seconds=round(time.perf_counter() - started, 3))
