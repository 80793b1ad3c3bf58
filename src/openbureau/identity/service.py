"""Rules of the identity domain: link furnished records to persons.

At intake a record links to a person by exact (id_type, id_number), looked up through the blind index, and
a new person is created for an identifier never seen before. After intake, ``identity.resolution.resolve``
merges persons known only by a passport or a furnisher's customer number into the resident-ID person they
are (docs/identity.md); operators merge, split and decide queued pairs with the functions below, each as an
explicit principal (``principals.authorize``) whose code the history and the audit log keep. Each record also
keeps its own description of the person (name, birth date, phone, address) encrypted, so that the variants
a person was described with, and the evidence for every link, stay available.

Persons are created only under the intake's write lock (SQLite's single writer, a PostgreSQL advisory
lock), which is what lets a load number its new persons itself.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from openbureau.accounts import service as account_states
from openbureau.audit import service as audit
from openbureau.identity.errors import PERSON_MERGED, PERSON_NOT_FOUND, REVIEW_NOT_FOUND
from openbureau.identity.models import IdentityConflict, IdentityMerge, IdentityReview, Person
from openbureau.identity.repository import (
    PersonRepository,
    ResolutionRepository,
    find_person_by_id,
    merged_documents,
    surviving_person,
)
from openbureau.kit.crypto import PiiVault
from openbureau.kit.db import utcnow
from openbureau.kit.dialects import dialect_for
from openbureau.kit.errors import ACCOUNT_NOT_FOUND, Conflict, NotFound
from openbureau.principals import Action, Principal, authorize

IDENTITY_FIELDS = ("full_name", "birth_date", "phone", "address")
_SEP = "\x1f"


def seal_identities(vault: PiiVault, records: pl.DataFrame) -> pl.Series:
    """The encrypted identity description of every record (``identity_enc``)."""
    text_ = records.select(
        pl.concat_str([pl.col(f).cast(pl.String).fill_null("") for f in IDENTITY_FIELDS], separator=_SEP)
    ).to_series()
    return pl.Series("identity_enc", vault.encrypt_many(text_.to_list()), dtype=pl.Binary)


def open_identity(vault: PiiVault, token: bytes) -> dict[str, str | None]:
    """The fields of an encrypted identity description, empty ones as None."""
    return {name: (value or None) for name, value in zip(IDENTITY_FIELDS, open_identity_values(vault, token),
                                                         strict=True)}


def open_identity_values(vault: PiiVault, token: bytes) -> list[str]:
    """The values of an encrypted identity description in ``IDENTITY_FIELDS`` order, empty ones as ""."""
    return vault.decrypt(token).split(_SEP)


def open_identities(vault: PiiVault, tokens: list[bytes]) -> pl.DataFrame:
    """The fields of many encrypted identity descriptions at once (``IDENTITY_FIELDS`` columns, empty ones
    null), in the order given; decrypted in memory only."""
    text_ = pl.Series("text", vault.decrypt_many_bytes(tokens), dtype=pl.Binary).cast(pl.String)
    split = text_.str.split_exact(_SEP, len(IDENTITY_FIELDS) - 1).struct.rename_fields(
        list(IDENTITY_FIELDS)).struct.unnest()
    return split.select(pl.when(pl.col(f) == "").then(None).otherwise(pl.col(f)).alias(f) for f in IDENTITY_FIELDS)


def latest_phone(session: Session, *, vault: PiiVault, person_id: int) -> str | None:
    """The phone number in the person's most recently reported record that carries one (``+``, digits),
    or None: where the person is reached (sign-in codes, notices). Reads personal data: the caller audits."""
    for token in account_states.latest_identities(session, person_id):
        phone = open_identity(vault, token)["phone"]
        digits = "".join(c for c in phone or "" if c.isdigit() or c == "+")
        if len(digits.lstrip("+")) >= 6:
            return digits
    return None


def documents_of(session: Session, *, vault: PiiVault, person_id: int) -> list[tuple[str, str]]:
    """(id type, id number) of a person's identity documents, in clear: the anchor of the person (or of the
    one it was merged into) first, then every document merged into it. Reads personal data: the caller
    audits."""
    person = find_person_by_id(session, person_id)
    if person is None:
        return []
    documents = [(person.id_type, person.id_enc), *merged_documents(session, person.id)]
    return [(id_type, vault.decrypt(token)) for id_type, token in documents]


def next_person_id(conn: Connection) -> int:
    """The first id free for new persons, read inside the write-locked transaction."""
    return PersonRepository(conn).next_person_id()


def sync_person_sequence(conn: Connection) -> None:
    """After persons were numbered by a load, move PostgreSQL's sequence past them."""
    dialect_for(conn).sync_sequence(conn, Person.__tablename__, "id")


class PersonLinker:
    """Links the records of one load to persons.

    It reads persons committed before the load on a read connection of its own (so that it can run beside
    the writer), remembers the persons it created earlier in the same load, and numbers new persons from
    ``first_new_id``. Memory grows with the number of new persons in the load (about 36 bytes each); a
    chunk looks up only its own subjects among them, so a chunk's work does not grow with the load.

    Example:
        >>> linker = PersonLinker(read_conn, vault=vault, first_new_id=next_person_id(write_conn), now=now)
        >>> links, new_persons = linker.link(records)   # links: person_id, id_index; new_persons: table rows
    """

    def __init__(self, conn: Connection, *, vault: PiiVault, first_new_id: int | None, now: datetime) -> None:
        """``first_new_id`` None: number nobody (a load is running); records of a subject without a published
        person get ``person_id`` None (lending events, linked later)."""
        self._conn = conn
        self._vault = vault
        self._next_id = first_new_id
        self._created: dict[str, pl.DataFrame] = {}  # by id type: (id_index, person_id) numbered by this load
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
            # A person this load created may be committed already (a load commits as it goes): count it once.
            created = self._created.get(str(id_type), pl.DataFrame(schema={"id_index": pl.Binary,
                                                                           "person_id": pl.Int64}))
            known = pl.concat([self._committed(str(id_type), group.select("id_index")),
                               created.join(group.select("id_index"), on="id_index", how="semi")]
                              ).unique(subset="id_index", keep="first")
            group = group.join(known, on="id_index", how="left")
            group = self._under_retiring_key(str(id_type), group)
            if self._next_id is None:
                linked.append(group)
                continue
            fresh = group.filter(pl.col("person_id").is_null()).sort("id_index").with_columns(
                pl.int_range(self._next_id, self._next_id + pl.len(), dtype=pl.Int64).alias("person_id"))
            self._next_id += fresh.height
            self._created[str(id_type)] = pl.concat([created, fresh.select("id_index", "person_id")])
            linked.append(pl.concat([group.filter(pl.col("person_id").is_not_null()), fresh]))
            new_rows.append(fresh.select(
                pl.col("person_id").alias("id"), "id_type", "id_index",
                pl.Series("id_enc", self._vault.encrypt_many(fresh["id_number"].to_list()), dtype=pl.Binary),
                pl.lit(self._now).alias("created_at"),
            ))
        extra = ["id_index_retiring"] if self._vault.index_rotating else []
        mapping = pl.concat(linked).select("id_type", "id_number", "person_id", "id_index", *extra)
        linked_records = records.join(mapping, on=["id_type", "id_number"], how="left", maintain_order="left")
        return linked_records.select("person_id", "id_index", *extra), (pl.concat(new_rows) if new_rows
                                                                     else pl.DataFrame())

    def _under_retiring_key(self, id_type: str, group: pl.DataFrame) -> pl.DataFrame:
        """During an index key rotation, find the persons whose row still carries the retiring key's index,
        and keep that index beside the current one (consents may carry either until the rotation ends)."""
        retiring = self._vault.retiring_indexes(group["id_number"].to_list(), domain=id_type)
        if retiring is None:
            return group
        group = group.with_columns(pl.Series("id_index_retiring", retiring, dtype=pl.Binary))
        old = self._committed(id_type, group.select(pl.col("id_index_retiring").alias("id_index")))
        old = old.rename({"id_index": "id_index_retiring", "person_id": "_old_person_id"})
        return group.join(old, on="id_index_retiring", how="left").with_columns(
            pl.coalesce("person_id", "_old_person_id").alias("person_id")).drop("_old_person_id")

    def _committed(self, id_type: str, indexes: pl.DataFrame) -> pl.DataFrame:
        writer = dialect_for(self._conn)
        with writer.staged(self._conn, indexes, "link_keys") as staged:
            return PersonRepository(self._conn).persons_by_index(id_type=id_type, staged=staged,
                                                                 published_only=self._next_id is None)


# --- merges, splits and reviews (operators and the resolver) -------------------------------------------

STRONG_ID_TYPE = "CN_RESIDENT_ID"  # a valid resident ID: an anchor other records are resolved to
SPLIT_ID_TYPE = "SPLIT"  # the anchor of a person created by an operator's split


def _evidence(data: dict[str, Any] | None) -> str:
    return json.dumps(data or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _merge_persons(session: Session, *, person_id: int, into_person_id: int, method: str, principal: Principal,
                   match_weight: float | None = None, match_probability: float | None = None,
                   evidence: dict[str, Any] | None = None) -> IdentityMerge:
    """Merge ``person_id`` into ``into_person_id``: move its records, keep the history under ``principal``'s
    code. Flushes only; the caller has authorized ``principal``.

    Raises:
        NotFound: a person does not exist. Conflict: a person was already merged, or both are the same.
    """
    repo = ResolutionRepository(session)
    source, target = repo.person(person_id), repo.person(into_person_id)
    if source is None or target is None:
        raise NotFound(f"person {person_id if source is None else into_person_id} not found",
                       code=PERSON_NOT_FOUND)
    if person_id == into_person_id or source.merged_into_id is not None or target.merged_into_id is not None:
        raise Conflict("both persons must exist, differ and not be merged already", code=PERSON_MERGED)
    accounts = account_states.accounts_of(session, person_id)
    entry = IdentityMerge(kind="merge", method=method, person_id=person_id, into_person_id=into_person_id,
                          match_weight=match_weight, match_probability=match_probability,
                          evidence=_evidence({**(evidence or {}), "accounts": len(accounts)}),
                          actor_code=principal.code)
    repo.add(entry)
    repo.add_moves([{"merge_id": entry.id, "furnisher_id": f, "furnisher_account_id": a,
                     "from_person_id": person_id, "to_person_id": into_person_id} for f, a in accounts])
    account_states.move_person(session, from_person_id=person_id, to_person_id=into_person_id)
    repo.mark_merged(person_id, into=into_person_id)
    session.expire(source)
    return entry


def merge(session: Session, *, principal: Principal, person_id: int, into_person_id: int) -> IdentityMerge:
    """An operator merges two persons (``person_id`` disappears into ``into_person_id``); audited."""
    authorize(principal, Action.CORRECT_IDENTITY, message="persons are merged by the bureau's operator")
    ResolutionRepository(session).lock_intake()
    entry = _merge_persons(session, person_id=person_id, into_person_id=into_person_id, method="operator",
                           principal=principal)
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="identity.merge",
                 person_id=into_person_id, details={"merge_id": entry.id, "merged_person_id": person_id})
    return entry


def split(session: Session, *, principal: Principal, vault: PiiVault, person_id: int, furnisher_id: int,
          furnisher_account_id: str) -> IdentityMerge:
    """An operator moves one account's records out of a person; audited.

    The records go back to the person they were merged from when the history has it (that person is
    revived), otherwise to a new person anchored on a ``SPLIT`` identifier. The resolver never joins the
    two again automatically.
    """
    authorize(principal, Action.CORRECT_IDENTITY, message="persons are split by the bureau's operator")
    repo = ResolutionRepository(session)
    repo.lock_intake()
    if repo.person(person_id) is None:
        raise NotFound(f"person {person_id} not found", code=PERSON_NOT_FOUND)
    earlier = repo.last_move_in(person_id=person_id, furnisher_id=furnisher_id,
                                furnisher_account_id=furnisher_account_id)
    if earlier is not None:
        target = earlier.from_person_id
        repo.set_merged(target, None)
    else:
        target = next_person_id(session.connection())
        anchor = f"{person_id}:{furnisher_id}:{furnisher_account_id}:{uuid.uuid4().hex}"
        repo.add(Person(id=target, id_type=SPLIT_ID_TYPE, id_index=vault.blind_index(anchor, domain=SPLIT_ID_TYPE),
                        id_enc=vault.encrypt(anchor)))
    moved = account_states.move_account(session, person_id=person_id, furnisher_id=furnisher_id,
                              furnisher_account_id=furnisher_account_id, to_person_id=target)
    if moved == 0:
        raise NotFound("the person has no records of this account", code=ACCOUNT_NOT_FOUND)
    entry = IdentityMerge(kind="split", method="operator", person_id=person_id, into_person_id=target,
                          evidence=_evidence({"records": moved, "furnisher_id": furnisher_id}),
                          actor_code=principal.code)
    repo.add(entry)
    repo.add_moves([{"merge_id": entry.id, "furnisher_id": furnisher_id, "furnisher_account_id":
                     furnisher_account_id, "from_person_id": person_id, "to_person_id": target}])
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code, action="identity.split",
                 person_id=person_id, details={"merge_id": entry.id, "to_person_id": target,
                                               "furnisher_id": furnisher_id, "records": moved})
    return entry


def list_reviews(session: Session, *, principal: Principal, status: str | None = "pending",
                 limit: int = 100) -> list[IdentityReview]:
    """Review items (pending by default), oldest first (the operator)."""
    authorize(principal, Action.REVIEW_IDENTITY)
    return ResolutionRepository(session).reviews(status=status, limit=limit)


def decide_review(session: Session, *, principal: Principal, review_id: int, accept: bool) -> IdentityReview:
    """An operator accepts (merge) or rejects (keep apart for good) a queued pair; audited."""
    authorize(principal, Action.REVIEW_IDENTITY)
    repo = ResolutionRepository(session)
    repo.lock_intake()
    item = repo.review(review_id)
    if item is None:
        raise NotFound(f"review {review_id} not found", code=REVIEW_NOT_FOUND)
    if item.status != "pending":
        raise Conflict(f"review {review_id} is already {item.status}", code="REVIEW_DECIDED")
    details: dict[str, Any] = {"review_id": item.id, "candidate_person_id": item.candidate_person_id}
    if accept:
        into = surviving_person(session, repo.person(item.candidate_person_id))
        entry = _merge_persons(session, person_id=item.person_id, into_person_id=into.id, method="review",
                               principal=principal, match_weight=item.match_weight,
                               match_probability=item.match_probability, evidence=json.loads(item.evidence))
        details["merge_id"] = entry.id
    item.status = "accepted" if accept else "rejected"
    item.decided_at, item.decided_by = utcnow(), principal.code
    audit.record(session, actor_member_id=principal.member_id, actor_code=principal.code,
                 action="identity.review.accept" if accept else "identity.review.reject",
                 person_id=item.person_id, details=details)
    session.flush()
    return item


def conflicts_for(session: Session, person_id: int) -> list[IdentityConflict]:
    """Identity conflicts of a person (and of persons merged into it), for the report's flags."""
    repo = ResolutionRepository(session)
    return repo.conflicts([person_id, *repo.merged_into(person_id)])


def conflicts_by_furnisher(session: Session) -> dict[int, dict[str, int]]:
    """Identity conflicts charged to each furnisher, by kind (for its data-quality score)."""
    out: dict[int, dict[str, int]] = {}
    for furnisher_id, kind, n in ResolutionRepository(session).conflict_counts():
        if furnisher_id is not None:
            out.setdefault(furnisher_id, {})[kind] = n
    return out


def history(session: Session, person_id: int) -> list[IdentityMerge]:
    """Merges and splits involving a person, oldest first."""
    return ResolutionRepository(session).merges(person_id)


# --- explanations: what linked a person's records, and a queued pair side by side -------------------------

def probabilistic_links(session: Session, person_id: int) -> list[dict[str, Any]]:
    """Accounts filed under a person by probabilistic matching (a resolver merge or an accepted review).

    One entry per account still under the person, with the merge that moved it, its method, match weight
    and probability, and the evidence (comparison levels and their weights, the model and its training
    date): what a report shows the operator as "records linked by probabilistic matching". An account an
    operator split out again is not listed.
    """
    repo = ResolutionRepository(session)
    current = set(account_states.accounts_of(session, person_id))
    out = []
    for entry, move in repo.moves_into(person_id):
        key = (move.furnisher_id, move.furnisher_account_id)
        if entry.method not in ("splink", "review") or key not in current:
            continue
        out.append({"furnisher_id": move.furnisher_id, "furnisher_account_id": move.furnisher_account_id,
                    "merge_id": entry.id, "method": entry.method, "from_person_id": move.from_person_id,
                    "match_weight": entry.match_weight, "match_probability": entry.match_probability,
                    "linked_at": entry.created_at, "evidence": json.loads(entry.evidence)})
    return out


def review_side_by_side(session: Session, *, principal: Principal, vault: PiiVault, review_id: int
                        ) -> dict[str, Any]:
    """A queued pair for the operator: each person's distinct descriptions (decrypted) and the evidence.

    Returns ``{"review": ..., "evidence": ..., "person": [...], "candidate": [...]}`` where each list holds
    the distinct (full_name, birth_date, phone, address) with the furnishers that used them. For the
    operator's console only: the result holds identifiers in clear and is never stored or logged.
    """
    authorize(principal, Action.REVIEW_IDENTITY)
    repo = ResolutionRepository(session)
    item = repo.review(review_id)
    if item is None:
        raise NotFound(f"review {review_id} not found", code=REVIEW_NOT_FOUND)

    def described(person_id: int) -> list[dict[str, Any]]:
        seen: dict[tuple, set[int]] = {}
        for furnisher_id, token in account_states.identities_of(session, person_id):
            seen.setdefault(tuple(open_identity_values(vault, bytes(token))), set()).add(furnisher_id)
        return [{**dict(zip(IDENTITY_FIELDS, values, strict=True)), "furnishers": sorted(f)}
                for values, f in sorted(seen.items())]

    return {"review": item.id, "status": item.status, "person_id": item.person_id,
            "candidate_person_id": item.candidate_person_id, "match_weight": item.match_weight,
            "match_probability": item.match_probability, "evidence": json.loads(item.evidence),
            "person": described(item.person_id), "candidate": described(item.candidate_person_id)}


def resident_ids(session: Session, *, vault: PiiVault, person_ids: list[int]) -> dict[int, str]:
    """The decrypted resident ID numbers of those of ``person_ids`` anchored by one (surviving persons only).

    For a documented purpose only, which the caller audits (model governance: ``scoring.governance``)."""
    wanted = set(person_ids)
    pairs = [(pid, token) for pid, token in ResolutionRepository(session).anchors(STRONG_ID_TYPE) if pid in wanted]
    numbers = vault.decrypt_many_bytes([bytes(token) for _, token in pairs])
    return {pid: number.decode() for (pid, _), number in zip(pairs, numbers, strict=True)}
