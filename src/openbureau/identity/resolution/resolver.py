"""The batch resolver: link persons known only by a passport or customer number to resident-ID persons.

Steps (docs/identity.md): decrypt every stored record's identity description in memory; file records
still under merged persons to their survivors; score weak → strong description pairs with the linkage
engine (Splink on in-memory DuckDB); keep the best pair per (weak person, strong person); merge above the
upper threshold when the best candidate clearly leads, queue for review between the thresholds; detect
conflicts; apply everything in one short transaction under the intake lock.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl
from sqlalchemy.engine import Engine

from openbureau.audit import service as audit
from openbureau.identity import conflicts
from openbureau.identity.models import IdentityReview
from openbureau.identity.repository import ResolutionRepository
from openbureau.identity.resolution.engine import DuckDBEngine, LinkageEngine
from openbureau.identity.resolution.features import features
from openbureau.identity.resolution.model import MODEL_VERSION, default_model
from openbureau.identity.service import IDENTITY_FIELDS, STRONG_ID_TYPE
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.settings import Settings

RESOLVER_ACTOR = "SYSTEM:identity-resolver"
FIELDS = ("name", "birth_date", "phone", "address")
_SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class ResolutionSummary:
    """What one resolution run found and did."""

    records: int
    persons_strong: int
    persons_weak: int
    candidate_pairs: int
    merged: int
    queued: int
    unlinked: int
    followed: int
    conflicts: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain values."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome for one weak person."""

    person_id: int
    candidate_person_id: int
    match_weight: float
    match_probability: float
    evidence: dict[str, Any]


def resolve(engine: Engine, *, settings: Settings, vault: PiiVault, linkage: LinkageEngine | None = None,
            model: dict[str, Any] | None = None, actor_code: str = RESOLVER_ACTOR) -> ResolutionSummary:
    """Resolve weakly identified persons against resident-ID persons, and refresh identity conflicts.

    Args:
        engine: The bureau's database. settings: Its settings (unused today; kept for engine choice).
        vault: Decrypts identity descriptions, in memory only.
        linkage: The engine scoring pairs; :class:`DuckDBEngine` by default.
        model: A linkage model (:func:`default_model` by default).
        actor_code: Who the audit log names for the run.

    Returns:
        A :class:`ResolutionSummary`. Idempotent: a second run with no new records changes nothing.

    Example:
        >>> summary = resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault)
    """
    del settings
    started = time.perf_counter()
    model = model or default_model()
    with session_scope(engine) as session:
        repo = ResolutionRepository(session)
        persons = with_survivors(repo.persons())
        records = _records(repo, vault)
        blocked, pending = repo.blocked_pairs(), repo.reviewed_persons()
        anchors = list(repo.anchors(STRONG_ID_TYPE))
    followed = (records.join(persons.select("person_id", "survivor"), on="person_id")
                .filter(pl.col("person_id") != pl.col("survivor")).select("person_id", "survivor").unique())
    records = (records.join(persons.select("person_id", "survivor"), on="person_id", how="left")
               .with_columns(pl.coalesce("survivor", "person_id").alias("person_id")).drop("survivor"))
    alive = persons.filter(pl.col("person_id") == pl.col("survivor"))
    strong = alive.filter(pl.col("id_type") == STRONG_ID_TYPE)["person_id"]
    weak = alive.filter((pl.col("id_type") != STRONG_ID_TYPE) & ~pl.col("person_id").is_in(list(pending)))
    weak = weak.filter(pl.col("person_id").is_in(records["person_id"].unique().implode()))["person_id"]

    descriptions = features(records.select("person_id", *IDENTITY_FIELDS).unique()
                            .with_row_index("rid").with_columns(pl.col("rid").cast(pl.Int64)))
    left = descriptions.filter(pl.col("person_id").is_in(weak.implode()))
    right = descriptions.filter(pl.col("person_id").is_in(strong.implode()))
    pairs = (linkage or DuckDBEngine()).predict(left, right, model=model, prior=1 / (strong.len() + 1),
                                                threshold=model["lower_probability"])
    merges, reviews = _decide(pairs, model=model, blocked=blocked)

    accounts = records.filter(pl.col("person_id").is_in([d.person_id for d in merges])).select(
        "person_id", "furnisher_id", "furnisher_account_id")
    into = {d.person_id: d.candidate_person_id for d in merges}
    found = conflicts.detect(records.with_columns(pl.col("person_id").replace(into)),
                             birth_dates=conflicts.id_birth_dates(anchors, vault), vault=vault)

    # Only the writes hold the intake lock.
    with session_scope(engine, write=True) as session:
        repo = ResolutionRepository(session)
        repo.lock_intake()
        repo.follow_merged([{"old": o, "new": n} for o, n in followed.iter_rows()])
        merged = repo.merge_many([{
            "kind": "merge", "method": "splink", "person_id": d.person_id, "into_person_id": d.candidate_person_id,
            "match_weight": d.match_weight, "match_probability": d.match_probability, "evidence": d.evidence,
            "actor_code": actor_code} for d in merges], accounts=accounts)
        queued = _queue(repo, reviews)
        repo.replace_conflicts(found)
        summary = ResolutionSummary(
            records=records.height, persons_strong=strong.len(), persons_weak=weak.len(),
            candidate_pairs=pairs.height, merged=merged, queued=queued,
            unlinked=weak.len() - merged - len(reviews), followed=followed.height, conflicts=len(found),
            seconds=round(time.perf_counter() - started, 3))
        audit.record(session, actor_member_id=None, actor_code=actor_code, action="identity.resolve",
                     details={**summary.as_dict(), "model": MODEL_VERSION})
    return summary


def with_survivors(persons: pl.DataFrame) -> pl.DataFrame:
    """Add ``survivor``: where each person's chain of merges ends."""
    frame = persons.with_columns(pl.coalesce("merged_into_id", "person_id").alias("survivor"))
    step = persons.select(pl.col("person_id").alias("survivor"), pl.col("merged_into_id").alias("next"))
    for _ in range(64):
        moved = frame.join(step, on="survivor", how="left").with_columns(
            pl.coalesce("next", "survivor").alias("survivor")).drop("next")
        if moved["survivor"].equals(frame["survivor"]):
            return frame
        frame = moved
    raise RuntimeError("merge chain too long or circular")


def _records(repo: ResolutionRepository, vault: PiiVault) -> pl.DataFrame:
    """Every stored record with its identity description decrypted (in memory only)."""
    decrypt = vault.decrypt
    parts = []
    for rows in repo.identity_rows():
        person, furnisher, account, period, tokens = zip(*rows, strict=True)
        parts.append(pl.DataFrame({
            "person_id": person, "furnisher_id": furnisher, "furnisher_account_id": account, "period": period,
            "text": [decrypt(bytes(t)) for t in tokens],
        }, schema={"person_id": pl.Int64, "furnisher_id": pl.Int64, "furnisher_account_id": pl.String,
                   "period": pl.String, "text": pl.String}))
    if not parts:
        return pl.DataFrame(schema={"person_id": pl.Int64, "furnisher_id": pl.Int64,
                                    "furnisher_account_id": pl.String, "period": pl.String,
                                    **dict.fromkeys(IDENTITY_FIELDS, pl.String)})
    frame = pl.concat(parts)
    split = frame["text"].str.split_exact(_SEP, len(IDENTITY_FIELDS) - 1).struct.rename_fields(
        list(IDENTITY_FIELDS)).struct.unnest()
    split = split.select(pl.when(pl.col(f) == "").then(None).otherwise(pl.col(f)).alias(f) for f in IDENTITY_FIELDS)
    return pl.concat([frame.drop("text"), split], how="horizontal")


def _decide(pairs: pl.DataFrame, *, model: dict[str, Any], blocked: set[tuple[int, int]]
            ) -> tuple[list[Decision], list[Decision]]:
    """Merges and review items from scored pairs: the best pair per weak person decides."""
    if pairs.height == 0:
        return [], []
    best = (pairs.sort("match_weight", descending=True)
            .unique(["person_id_l", "person_id_r"], keep="first", maintain_order=True))
    if blocked:
        gone = pl.DataFrame(list(blocked), schema={"person_id_l": pl.Int64, "person_id_r": pl.Int64}, orient="row")
        best = best.join(gone, on=["person_id_l", "person_id_r"], how="anti")
    ranked = best.sort(["person_id_l", "match_weight"], descending=[False, True]).with_columns(
        pl.col("match_weight").shift(-1).over("person_id_l").alias("runner_up"),
        pl.int_range(pl.len()).over("person_id_l").alias("rank"),
    ).filter(pl.col("rank") == 0)
    merges, reviews = [], []
    for row in ranked.iter_rows(named=True):
        weights = {f: round(row[f"mw_{f}"], 2) for f in FIELDS}
        evidence = {"model": MODEL_VERSION, "agreeing": [f for f in FIELDS if weights[f] > 0],
                    "field_weights": weights,
                    "runner_up_weight": None if row["runner_up"] is None else round(row["runner_up"], 2)}
        decision = Decision(row["person_id_l"], row["person_id_r"], round(row["match_weight"], 3),
                            row["match_probability"], evidence)
        clear = row["runner_up"] is None or row["match_weight"] - row["runner_up"] >= model["runner_up_margin"]
        (merges if row["match_probability"] >= model["upper_probability"] and clear else reviews).append(decision)
    return merges, reviews


def _queue(repo: ResolutionRepository, reviews: list[Decision]) -> int:
    """Queue review items for pairs never queued before; the number queued."""
    known = repo.review_pairs()
    fresh = [IdentityReview(person_id=d.person_id, candidate_person_id=d.candidate_person_id,
                            match_weight=d.match_weight, match_probability=d.match_probability,
                            evidence=json.dumps(d.evidence, sort_keys=True))
             for d in reviews if (d.person_id, d.candidate_person_id) not in known]
    if fresh:
        repo.add(*fresh)
    return len(fresh)
