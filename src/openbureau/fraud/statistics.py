"""Rings across the market as aggregates for the regulator: how many rings of what size, how many persons,
and their exposure across lenders (live credit balances, lenders involved, delinquency), by ring size band and
by region, with every cell about fewer than k persons suppressed by the market statistics' own helper
(``quality.market.suppress``, secondary suppression included: the totals are published).

Never a ring's number, a person or a shared value: the figures are sums over cells. A lender sees rings only
through the RING signal of its own inquiries; no endpoint lists a ring's members.

:func:`ring_tables` is the computation (Polars frames in, frames out); :func:`ring_statistics` reads the rings
and their members' files and answers the regulator or the operator (audited, counts only).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy.orm import Session

from openbureau.accounts.service import file_states
from openbureau.audit import service as audit
from openbureau.fraud.repository import FraudRepository
from openbureau.fraud.schemas import RingCell, RingStatistics
from openbureau.identity.repository import find_person_by_id
from openbureau.kit.crypto import PiiVault
from openbureau.kit.errors import Unprocessable
from openbureau.policy import Policy
from openbureau.principals import Action, Principal, authorize
from openbureau.quality.market import suppress
from openbureau.tradelines.history import build_tradelines

SIZE_BANDS = ((2, 4, "2-4"), (5, 7, "5-7"), (8, 10, "8-10"), (11, None, "11 or more"))
DELINQUENT_DAYS = 30
UNKNOWN_REGION = "unknown"
MEMBER_SCHEMA = {"person_id": pl.Int64, "ring_id": pl.Int64, "ring_size": pl.Int64, "delinquent": pl.Int64,
                 "region": pl.String}
EXPOSURE_SCHEMA = {"person_id": pl.Int64, "furnisher_id": pl.Int64, "balance": pl.Int64, "past_due": pl.Boolean}
FIGURES = ("rings", "persons", "lenders", "open_accounts", "open_balance", "past_due_balance", "delinquent_persons")


def size_band(size: int) -> str:
    """The band a ring of ``size`` persons is counted in."""
    for low, high, label in SIZE_BANDS:
        if size >= low and (high is None or size <= high):
            return label
    return SIZE_BANDS[0][2]


def ring_tables(members: pl.DataFrame, exposure: pl.DataFrame, *, k: int) -> dict[str, object]:
    """The regulator's ring tables.

    Args:
        members: one row per person of a ring (``MEMBER_SCHEMA``: ``delinquent`` is the ring's count, repeated
            on each member's row; ``region`` the person's).
        exposure: one row per live credit account of those persons (``EXPOSURE_SCHEMA``).
        k: cells about fewer persons are suppressed.

    Returns:
        ``by_size`` and ``by_region`` (frames with ``group`` and ``FIGURES``, suppressed), ``rings`` and
        ``persons`` (totals, None when fewer than ``k`` persons).
    """
    members = members.cast(MEMBER_SCHEMA)
    # A ring is counted in one region: the one most of its persons' documents name (ties: the smallest code).
    ring_region = (members.group_by("ring_id", "region").agg(pl.len().alias("n"))
                   .sort(["ring_id", "n", "region"], descending=[False, True, False])
                   .group_by("ring_id", maintain_order=True).first().select("ring_id", pl.col("region").alias("ring_region")))
    frame = members.join(ring_region, on="ring_id").with_columns(
        pl.col("ring_size").map_elements(size_band, return_dtype=pl.String).alias("size_band"))
    accounts = exposure.cast(EXPOSURE_SCHEMA).join(frame.select("person_id", "size_band", "ring_region"), on="person_id")
    tables = {}
    for name, column in (("by_size", "size_band"), ("by_region", "ring_region")):
        people = frame.group_by(column).agg(
            pl.col("ring_id").n_unique().alias("rings"), pl.len().alias("persons"))
        delinquent = (frame.unique("ring_id").group_by(column)
                      .agg(pl.col("delinquent").sum().alias("delinquent_persons")))
        money = accounts.group_by(column).agg(
            pl.col("furnisher_id").n_unique().alias("lenders"), pl.len().alias("open_accounts"),
            pl.col("balance").sum().alias("open_balance"),
            pl.col("balance").filter(pl.col("past_due")).sum().alias("past_due_balance"))
        cells = (people.join(delinquent, on=column, how="left").join(money, on=column, how="left")
                 .with_columns(pl.col("lenders", "open_accounts", "open_balance", "past_due_balance",
                                      "delinquent_persons").fill_null(0).cast(pl.Int64))
                 .rename({column: "group"}).with_columns(pl.lit("all").alias("table")).sort("group"))
        # The totals are published, so a lone suppressed cell is protected by a second one (secondary suppression).
        tables[name] = suppress(cells, k=k, columns=FIGURES, groups=("table",)).drop("table")
    persons = members.height
    return {**tables, "rings": members["ring_id"].n_unique() if persons >= k else None,
            "persons": persons if persons >= k else None}


def _region(vault: PiiVault, id_type: str, id_enc: bytes) -> str:
    """The province of a Chinese resident ID (its first two digits); other documents name no region."""
    if id_type != "CN_RESIDENT_ID":
        return UNKNOWN_REGION
    return vault.decrypt(id_enc)[:2]


def ring_statistics(session: Session, *, vault: PiiVault, principal: Principal, policy: Policy,
                    k: int | None = None, now: datetime | None = None) -> RingStatistics:
    """The rings of the last build (of ``ring_min_size`` persons or more) as k-suppressed aggregates, for the
    regulator and the operator; ``k`` may only raise the bureau's minimum cell size. Audited (counts only)."""
    authorize(principal, Action.READ_RING_STATISTICS, message="ring statistics are for the regulator and the operator")
    floor = policy.quality.min_cell_persons
    if k is not None and k < floor:
        raise Unprocessable(f"k may not be below the bureau's minimum of {floor}", code="K_TOO_SMALL", field="k")
    k = k or floor
    now = now or datetime.now(UTC)
    min_size = policy.signals.ring_min_size
    rows = FraudRepository.of(session).rings_of_at_least(min_size)
    built_at = max((r.built_at for r in rows), default=None)
    members, exposure = [], []
    for r in rows:
        person = find_person_by_id(session, r.person_id)
        region = UNKNOWN_REGION if person is None else _region(vault, person.id_type, person.id_enc)
        members.append((r.person_id, r.ring_id, r.ring_size, r.delinquent, region))
        lines = build_tradelines(file_states(session, r.person_id), as_of=now.date(),
                                 retention_years=policy.profile.negative_retention_years)
        for t in lines:
            status = t.latest.row.account_status
            if t.credit and status in ("open", "charged_off"):
                exposure.append((r.person_id, t.furnisher_id, t.latest.balance,
                                 t.latest.days_past_due >= DELINQUENT_DAYS or status == "charged_off"))
    tables = ring_tables(pl.DataFrame(members, schema=MEMBER_SCHEMA, orient="row"),
                         pl.DataFrame(exposure, schema=EXPOSURE_SCHEMA, orient="row"), k=k)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                 action="fraud.ring_statistics", purpose="supervision",
                 details={"k": k, "rings": tables["rings"], "persons": tables["persons"]})
    names = set(RingCell.model_fields)
    cells = {name: [RingCell(**{c: v for c, v in row.items() if c in names})
                    for row in tables[name].iter_rows(named=True)] for name in ("by_size", "by_region")}
    return RingStatistics(built_at=built_at, k=k, min_ring_size=min_size, rings=tables["rings"],
                          persons=tables["persons"], by_size=cells["by_size"], by_region=cells["by_region"])
