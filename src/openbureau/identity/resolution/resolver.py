"""The batch resolver: link persons known only by a passport or customer number to resident-ID persons.

Steps (docs/identity.md): decrypt every stored record's identity description in memory; file records
still under merged persons to their survivors; score weak → strong description pairs with the
linker (Splink on in-memory DuckDB, or on Spark: ``--engine spark``); keep the best pair per (weak person, strong person); merge above the
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

from openbureau.accounts import service as account_states
from openbureau.audit import service as audit
from openbureau.identity import conflicts
from openbureau.identity.repository import ResolutionRepository
from openbureau.identity.resolution.decide import Decision, decide
from openbureau.identity.resolution.features import features
from openbureau.identity.resolution.linker import Linker, linker_for
from openbureau.identity.resolution.model import default_model
from openbureau.identity.service import IDENTITY_FIELDS, STRONG_ID_TYPE
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import session_scope
from openbureau.kit.settings import Settings
from openbureau.principals import Action, Principal, authorize

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
    model_id: int | None = None  # the stored model used; None: the untrained starting values
    batch_engine: str = "duckdb"  # where the pairs were scored: duckdb or spark

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain values."""
        return asdict(self)


def resolve(engine: Engine, *, settings: Settings, vault: PiiVault, principal: Principal,
            linkage: Linker | None = None, model: dict[str, Any] | None = None) -> ResolutionSummary:
    """Resolve weakly identified persons against resident-ID persons, and refresh identity conflicts.

    Args:
        engine: The bureau's database. settings: Its settings (the batch engine and Spark's master URL).
        vault: Decrypts identity descriptions, in memory only.
        linkage: The linker scoring pairs; by default the one of ``settings.batch_engine``
            (:class:`DuckDBLinker` or :class:`SparkLinker`, which return the same pairs).
        model: A linkage model; by default the latest trained one (``openbureau identity train``), or the
            untrained starting values (:func:`default_model`) when the bureau has none.
        principal: Who runs the resolver (the operator: ``Action.RESOLVE_IDENTITY``). Its merges are
            automatic (method ``splink``), but not anonymous: the run and every merge it makes are logged
            under ``principal.code``. There is no system principal.

    Returns:
        A :class:`ResolutionSummary`. Idempotent: a second run with no new records changes nothing.

    Example:
        >>> summary = resolve(runtime.engine, settings=runtime.settings, vault=runtime.vault,
        ...                   principal=audit.terminal_operator())
    """
    authorize(principal, Action.RESOLVE_IDENTITY, message="identity resolution is run by the bureau's operator")
    started = time.perf_counter()
    model_id = None
    with session_scope(engine) as session:
        repo = ResolutionRepository(session)
        if model is None:
            stored = repo.latest_model()
            model_id, model = (stored.id, json.loads(stored.model)) if stored else (None, default_model())
        persons = with_survivors(repo.persons())
        records = read_records(repo, vault)
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

    descriptions = describe(records)
    left = descriptions.filter(pl.col("person_id").is_in(weak.implode()))
    right = descriptions.filter(pl.col("person_id").is_in(strong.implode()))
    linkage = linkage or linker_for(settings.batch_engine, options=settings.spark_options())
    pairs = linkage.predict(left, right, model=model, prior=1 / (strong.len() + 1),
                            threshold=model["lower_probability"])
    merges, reviews = decide(pairs, model=model, blocked=blocked, model_id=model_id)
    _name_records(merges + reviews, descriptions, records)

    accounts = records.filter(pl.col("person_id").is_in([d.person_id for d in merges])).select(
        "person_id", "furnisher_id", "furnisher_account_id")
    into = {d.person_id: d.candidate_person_id for d in merges}
    found = conflicts.detect(records.with_columns(pl.col("person_id").replace(into)),
                             birth_dates=conflicts.id_birth_dates(anchors, vault), vault=vault,
                             names=descriptions.select("full_name", "name").unique())

    # Only the writes hold the intake lock.
    with session_scope(engine, write=True) as session:
        repo = ResolutionRepository(session)
        repo.lock_intake()
        account_states.move_persons(session, [{"old": o, "new": n} for o, n in followed.iter_rows()])
        merged, moves = repo.merge_many([{
            "kind": "merge", "method": "splink", "person_id": d.person_id, "into_person_id": d.candidate_person_id,
            "match_weight": d.match_weight, "match_probability": d.match_probability, "evidence": d.evidence,
            "actor_code": principal.code} for d in merges], accounts=accounts)
        account_states.move_persons(session, moves)
        queued = _queue(repo, reviews)
        repo.replace_conflicts(found)
        summary = ResolutionSummary(
            records=records.height, persons_strong=strong.len(), persons_weak=weak.len(),
            candidate_pairs=pairs.height, merged=merged, queued=queued,
            unlinked=weak.len() - merged - len(reviews), followed=followed.height, conflicts=len(found),
            seconds=round(time.perf_counter() - started, 3), model_id=model_id, batch_engine=linkage.name)
        audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="identity.resolve",
                     details={**summary.as_dict(), "model": model["version"],
                              "model_trained_at": model.get("trained_at")})
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


def describe(records: pl.DataFrame) -> pl.DataFrame:
    """One row per distinct (person, name, birth date, phone, address), numbered ``rid``, with its features."""
    return features(records.select("person_id", *IDENTITY_FIELDS).unique()
                    .with_row_index("rid").with_columns(pl.col("rid").cast(pl.Int64)))


def _name_records(decisions: list[Decision], descriptions: pl.DataFrame, records: pl.DataFrame) -> None:
    """Replace the run-local description numbers in the evidence by an account that carries each description."""
    rids = {r for d in decisions for r in d.evidence["records"].values()}
    if not rids:
        return
    wanted = descriptions.filter(pl.col("rid").is_in(list(rids))).select("rid", "person_id", *IDENTITY_FIELDS)
    found = wanted.join(records.select("person_id", *IDENTITY_FIELDS, "furnisher_id", "furnisher_account_id"),
                        on=["person_id", *IDENTITY_FIELDS], how="inner", nulls_equal=True).unique("rid", keep="first")
    where = {r: {"furnisher_id": f, "furnisher_account_id": a}
             for r, f, a in found.select("rid", "furnisher_id", "furnisher_account_id").iter_rows()}
    for d in decisions:
        d.evidence["records"] = {side: where.get(rid) for side, rid in d.evidence["records"].items()}


def read_records(repo: ResolutionRepository, vault: PiiVault) -> pl.DataFrame:
    """Every stored record with its identity description decrypted (in memory only)."""
    parts = []
    schema = {"person_id": pl.Int64, "furnisher_id": pl.Int64, "furnisher_account_id": pl.String,
              "period": pl.String, "token": pl.Binary}
    for rows in account_states.identity_rows(repo.session):
        text = pl.Series("text", vault.decrypt_many_bytes([r[4] for r in rows]), dtype=pl.Binary).cast(pl.String)
        parts.append(pl.DataFrame(rows, schema=schema, orient="row").drop("token").with_columns(text))
    if not parts:
        return pl.DataFrame(schema={"person_id": pl.Int64, "furnisher_id": pl.Int64,
                                    "furnisher_account_id": pl.String, "period": pl.String,
                                    **dict.fromkeys(IDENTITY_FIELDS, pl.String)})
    frame = pl.concat(parts)
    split = frame["text"].str.split_exact(_SEP, len(IDENTITY_FIELDS) - 1).struct.rename_fields(
        list(IDENTITY_FIELDS)).struct.unnest()
    split = split.select(pl.when(pl.col(f) == "").then(None).otherwise(pl.col(f)).alias(f) for f in IDENTITY_FIELDS)
    return pl.concat([frame.drop("text"), split], how="horizontal")


def _queue(repo: ResolutionRepository, reviews: list[Decision]) -> int:
    """Queue review items for pairs never queued before; the number queued."""
    known = repo.review_pairs()
    fresh = [dict(person_id=d.person_id, candidate_person_id=d.candidate_person_id, match_weight=d.match_weight,
                  match_probability=d.match_probability, evidence=json.dumps(d.evidence, sort_keys=True))
             for d in reviews if (d.person_id, d.candidate_person_id) not in known]
    repo.queue_reviews(fresh)
    return len(fresh)
