"""Rules of the audit log: append an entry to the hash chain, verify the chain, list entries.

Every entry's ``entry_hash`` is HMAC-SHA256 under the bureau's chain key (plain SHA-256 for entries written
before the chain was keyed) over a canonical serialisation of its fields and of ``prev_hash``, the hash of
the entry before it; the first entry links to 64 zeros. A changed, removed or moved entry therefore breaks
the chain where it happened, and signed checkpoints kept outside the database show a removed tail. See
docs/audit.md for what verification can and cannot detect.

Example:
    >>> entry = record(session, actor_member_id=7, actor_code="BANK_A", action="inquiry.read",
    ...                person_id=123, purpose="loan_origination", details={"inquiry_id": 5})
    >>> verify(session).ok
    True
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from openbureau.audit.chain import AuditChain, chain_for, load_chain_keys, note_head, register
from openbureau.audit.checkpoints import Checkpoint, CheckpointError, checkpoint_path, read_checkpoints
from openbureau.audit.models import AuditEntry
from openbureau.audit.repository import AuditRepository
from openbureau.kit.db import session_scope, utcnow
from openbureau.kit.errors import INVALID_LIMIT, Unprocessable
from openbureau.kit.settings import Settings
from openbureau.principals import Principal

GENESIS = "0" * 64
CHAIN_VERSION = "openbureau.audit.v1"
BATCH = 10_000
MAX_LIMIT = 10_000
_LIMITS = {"actor_code": 64, "action": 48, "purpose": 48}


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of verifying the chain.

    ``entries`` counts the entries found intact (all of them when ``ok``); ``last_seq`` and ``last_hash``
    name the last intact entry, to be anchored outside the database (a truncated tail is otherwise
    invisible).
    """

    ok: bool
    entries: int
    first_broken_seq: int | None
    reason: str | None
    last_seq: int | None = None
    last_hash: str | None = None
    keyed_from: int | None = None
    checkpoint_seq: int | None = None
    checkpoint_at: str | None = None
    checkpoints_since: str | None = None


def attach(engine: Engine, settings: Settings) -> AuditChain:
    """Load the bureau's audit keys and make every audit write to ``engine``'s database use them.

    Starts the checkpoint file when there is none: at the log's head, keyed from the next entry on (a log
    written before keying keeps its plain entries, which verify as such).
    """
    chain = register(engine, AuditChain(load_chain_keys(settings), settings.resolved_audit_checkpoint_dir,
                                        every=settings.audit_checkpoint_every))
    if not checkpoint_path(chain.checkpoint_dir).exists():
        try:
            with session_scope(engine) as session:
                _start_checkpoints(session, chain)
        except DBAPIError:  # not migrated yet: the first append starts the file
            pass
    return chain


def _start_checkpoints(session: Session, chain: AuditChain) -> None:
    repo = AuditRepository(session)
    last = repo.last_link()
    chain.start(last=last, keyed_from=_first_keyed_seq(repo, chain.key, last))
    chain.started = True


def _first_keyed_seq(repo: AuditRepository, key: bytes, last: tuple[int, str] | None) -> int:
    """Where the key takes over: after the head of a log never keyed, else the first entry hashed with the key
    (the checkpoint file was lost and is started again)."""
    if last is None:
        return 1
    after = None
    while rows := repo.chain_after(after, limit=BATCH):
        for row in rows:
            if entry_digest(**_fields(row), key=key) == row.entry_hash:
                return row.seq
        after = rows[-1].seq
    return last[0] + 1


def operator_code() -> str:
    """The actor code of the operator at this terminal: ``OPERATOR:<os user>``."""
    return f"OPERATOR:{getpass.getuser()}"[:_LIMITS["actor_code"]]


def terminal_operator() -> Principal:
    """The operator at this terminal as a principal: what the command line acts as (:func:`operator_code`)."""
    return Principal.operator(operator_code())


def canonical_details(details: dict[str, Any] | None) -> str:
    """``details`` as canonical JSON: sorted keys, no whitespace, UTF-8 kept as is; ``{}`` when None."""
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_digest(*, seq: int, at: datetime, actor_member_id: int | None, actor_code: str, action: str,
                 person_id: int | None, purpose: str | None, details: str, prev_hash: str,
                 key: bytes | None = None) -> str:
    """The hex hash of one entry: SHA-256, or HMAC-SHA256 under ``key``, of its canonical serialisation.

    The serialisation is the UTF-8 JSON array (no whitespace) of the chain version, seq, ``at`` in ISO-8601
    UTC with microseconds, actor member id, actor code, action, person id, purpose, the details text as
    stored and prev_hash; None is JSON null.
    """
    at_text = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    payload = json.dumps([CHAIN_VERSION, seq, at_text, actor_member_id, actor_code, action, person_id, purpose,
                          details, prev_hash], separators=(",", ":"), ensure_ascii=False).encode()
    if key is None:
        return hashlib.sha256(payload).hexdigest()
    mac = _keyed(key).copy()  # the key's inner and outer pads are hashed once per key, not once per entry
    mac.update(payload)
    return mac.hexdigest()


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def record(session: Session, *, actor_member_id: int | None, actor_code: str, action: str,
           person_id: int | None = None, purpose: str | None = None, details: dict[str, Any] | None = None
           ) -> AuditEntry:
    """Append one entry to the log in the caller's transaction; flushes, never commits.

    Args:
        actor_member_id: The acting member's id; None for the operator.
        actor_code: The member's code, or ``OPERATOR:<os user>`` (see :func:`operator_code`).
        action: What was done, ``domain.verb``, e.g. ``inquiry.read``.
        person_id: Whose data was accessed, when one person's.
        purpose: The declared purpose, e.g. ``loan_origination``.
        details: Ids and references only (JSON-serialisable); never a personal identifier in clear.

    Returns:
        The new entry, with its ``seq`` and hashes.

    The entry is keyed with the chain key attached to the session's database (:func:`attach`); once the
    transaction commits, its new head is checkpointed outside the database.

    Appends are serialised: on PostgreSQL by an advisory lock held until the transaction ends; on SQLite
    by its single writer. Should two appends ever read the same last entry (a deferred SQLite
    transaction, or a snapshot taken before the lock), the second fails on the primary key or with
    "database is locked" rather than forking the chain; the caller retries its transaction.
    """
    return AuditEntry(**record_many(
        session, [AuditNote(actor_member_id, actor_code, action, person_id, purpose, details)])[0])


@dataclass(frozen=True, slots=True)
class AuditNote:
    """What one audit entry will say (see :func:`record` for the fields)."""

    actor_member_id: int | None
    actor_code: str
    action: str
    person_id: int | None = None
    purpose: str | None = None
    details: dict[str, Any] | None = None


def record_many(session: Session, notes: list[AuditNote]) -> list[dict[str, Any]]:
    """Append several entries, in order, under one lock and one read of the chain's end (a group commit of
    inquiries); flushes, never commits. See :func:`record`. Returns each entry's columns."""
    for note in notes:
        for name in ("actor_code", "action", "purpose"):
            value = getattr(note, name)
            if value is not None and not 0 < len(value) <= _LIMITS[name]:
                raise ValueError(f"audit {name} must be 1 to {_LIMITS[name]} characters: {value!r}")
    chain = chain_for(session)
    key = chain.key
    repo = AuditRepository(session)
    repo.lock_appends()
    if not chain.started:
        if not checkpoint_path(chain.checkpoint_dir).exists():
            _start_checkpoints(session, chain)
        chain.started = True
    last = repo.last_link()
    seq, prev_hash = (last[0], last[1]) if last is not None else (0, GENESIS)
    at = utcnow()  # read under the lock, so time never runs backwards along the chain
    rows = []
    for note in notes:
        seq += 1
        details_text = canonical_details(note.details)
        row = dict(seq=seq, at=at, actor_member_id=note.actor_member_id, actor_code=note.actor_code,
                   action=note.action, person_id=note.person_id, purpose=note.purpose, details=details_text,
                   prev_hash=prev_hash)
        row["entry_hash"] = prev_hash = entry_digest(**row, key=key)
        rows.append(row)
    # Plain rows through Core: a group commit appends a batch per commit, and ORM objects cost more than
    # the insert.
    repo.add_rows(rows)
    note_head(session, chain, seq, prev_hash)
    return rows


def _fields(row) -> dict[str, Any]:
    return dict(seq=row.seq, at=row.at, actor_member_id=row.actor_member_id, actor_code=row.actor_code,
                action=row.action, person_id=row.person_id, purpose=row.purpose, details=row.details,
                prev_hash=row.prev_hash)


def verify(session: Session, *, anchor: tuple[int, str] | None = None, batch_size: int = BATCH,
           chain: AuditChain | None = None) -> VerifyResult:
    """Recompute the whole chain in seq order, ``batch_size`` entries at a time, and name the first break.

    The signed checkpoint file is read first (every signature and link checked); each checkpoint's entry
    must still carry its hash, and the log must reach the newest checkpoint, so a removed tail or an
    emptied log is seen without an anchor.

    Args:
        anchor: A (seq, entry_hash) kept elsewhere from an earlier run; checked like a checkpoint.
        chain: The chain's keys and checkpoints (default: the ones attached to the session's database).

    Returns:
        A :class:`VerifyResult`; when broken, the first broken seq (for a removed entry, the missing seq)
        and why.
    """
    chain = chain or chain_for(session)
    try:
        lines, keyed_from, genesis, newest = _checkpoint_summary(chain)
    except CheckpointError as exc:
        return VerifyResult(False, 0, None, str(exc))
    checkpoints = iter(c for c in _first(read_checkpoints(chain.checkpoint_dir, chain.keys.public), lines)
                       if c.seq > 0)
    due = next(checkpoints, None)
    repo = AuditRepository(session)
    prev_seq, prev_hash, count = 0, GENESIS, 0

    def broken(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(False, count, seq, reason, prev_seq or None, prev_hash if prev_seq else None,
                            keyed_from, newest.seq, newest.at, genesis.at)

    after: int | None = None  # the first page starts below 1, so that a stray seq 0 or -1 is seen too
    while rows := repo.chain_after(after, limit=batch_size):
        for row in rows:
            if row.seq < prev_seq + 1:
                return broken(row.seq, f"entry {row.seq} is out of sequence (seq must start at 1)")
            if row.seq != prev_seq + 1:
                missing = prev_seq + 1
                span = f"entry {missing} is" if row.seq == missing + 1 else f"entries {missing} to {row.seq - 1} are"
                return broken(missing, f"{span} missing (seq goes from {prev_seq} to {row.seq})")
            if row.prev_hash != prev_hash:
                before = f"entry {prev_seq}" if prev_seq else "the genesis value (64 zeros)"
                return broken(row.seq, f"prev_hash does not match the hash of {before}: "
                                       "an entry was removed, inserted or moved")
            fields = _fields(row)
            key = chain.key if row.seq >= keyed_from else None
            if entry_digest(**fields, key=key) != row.entry_hash:  # a digest is no secret: no constant-time compare
                return broken(row.seq, _mismatch_reason(fields, row.entry_hash, key, chain.key))
            if anchor is not None and row.seq == anchor[0] and row.entry_hash != anchor[1]:
                return broken(row.seq, f"entry {row.seq} does not carry the anchored hash {anchor[1]}")
            if due is not None and row.seq == due.seq:
                if row.entry_hash != due.hash:
                    return broken(row.seq, f"entry {row.seq} does not carry the hash of the signed checkpoint "
                                           f"of {due.at}: the log was rewritten")
                due = next(checkpoints, None)
            prev_seq, prev_hash, count = row.seq, row.entry_hash, count + 1
        after = prev_seq
    if due is not None:
        return broken(prev_seq + 1, f"the log ends at seq {prev_seq} but the signed checkpoint of {newest.at} "
                                    f"names entry {newest.seq}: entries were removed from the tail")
    if anchor is not None and prev_seq < anchor[0]:
        return broken(prev_seq + 1, f"the log ends at seq {prev_seq} but the anchor names entry {anchor[0]}: "
                                    "entries were removed from the tail")
    return VerifyResult(True, count, None, None, prev_seq or None, prev_hash if prev_seq else None, keyed_from,
                        newest.seq, newest.at, genesis.at)


def _checkpoint_summary(chain: AuditChain) -> tuple[int, int, Checkpoint, Checkpoint]:
    """How many lines the checkpoint file has now, its ``keyed_from``, its genesis and its newest checkpoint."""
    lines, genesis, newest = 0, None, None
    for checkpoint in read_checkpoints(chain.checkpoint_dir, chain.keys.public):
        lines, newest = lines + 1, checkpoint
        genesis = genesis or checkpoint
    return lines, newest.keyed_from, genesis, newest


def _first(checkpoints, n: int):
    # Only the lines present before the log was read: a checkpoint written meanwhile may name entries
    # committed after this reader's snapshot.
    for i, checkpoint in enumerate(checkpoints):
        if i >= n:
            return
        yield checkpoint


def _mismatch_reason(fields: dict[str, Any], stored: str, key: bytes | None, chain_key: bytes) -> str:
    reason = "entry_hash does not match the entry's contents: a field or the hash was changed"
    if key is not None and entry_digest(**fields) == stored:
        return reason + " (it was hashed without the chain key: rebuilt by someone without it)"
    if key is None and entry_digest(**fields, key=chain_key) == stored:
        return reason + " (it is keyed, but lies before the seq the checkpoints say keying began at)"
    return reason


def list_entries(session: Session, *, person_id: int | None = None, actor_code: str | None = None,
                 action: str | None = None, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
    """Entries matching every given filter, newest first."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Unprocessable(f"limit must be 1 to {MAX_LIMIT}", code=INVALID_LIMIT, field="limit")
    if offset < 0:
        raise Unprocessable("offset must not be negative", code="INVALID_OFFSET", field="offset")
    return AuditRepository(session).search(person_id=person_id, actor_code=actor_code, action=action,
                                           limit=limit, offset=offset)


def entries_about(session: Session, person_ids: set[int]) -> list[AuditEntry]:
    """Every entry about one of ``person_ids`` (a person and those merged into them), oldest first."""
    return AuditRepository(session).about(sorted(person_ids))
