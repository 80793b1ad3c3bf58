"""Audit log: appends form one gapless hash chain, and verification names the first tampered entry."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from openbureau.audit import service as audit
from openbureau.audit.chain import load_chain_keys
from openbureau.audit.checkpoints import checkpoint_path
from openbureau.audit.models import AuditEntry
from openbureau.audit.schemas import AuditEntryRead
from openbureau.kit.crypto import load_keys
from openbureau.kit.db import session_scope
from openbureau.kit.errors import Unprocessable

TABLE = AuditEntry.__table__
ACTORS = ["BANK_A", "BANK_B", "OPERATOR:alice"]


def append(runtime, n: int = 5) -> list[str]:
    """Append ``n`` entries, one transaction each, and checkpoint the head; their hashes in seq order."""
    hashes = []
    for i in range(1, n + 1):
        with session_scope(runtime.engine, write=True) as session:
            entry = audit.record(session, actor_member_id=i % 3 or None, actor_code=ACTORS[i % 3],
                                 action="inquiry.read" if i % 2 else "report.self_view", person_id=100 + i,
                                 purpose="loan_origination", details={"inquiry_id": i, "consent_ref": f"C-{i}"})
            hashes.append(entry.entry_hash)
    runtime.audit.checkpoints.flush()
    return hashes


def check(runtime, **kwargs) -> audit.VerifyResult:
    """Verify in small batches, so that every chain here crosses batch boundaries."""
    with session_scope(runtime.engine) as session:
        return audit.verify(session, batch_size=2, **kwargs)


def tamper(runtime, seq: int, /, **values) -> None:
    """Change stored columns of one entry behind the service's back."""
    with runtime.engine.begin() as conn:
        conn.execute(TABLE.update().where(TABLE.c.seq == seq).values(**values))


def delete(runtime, *seqs: int) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(TABLE.delete().where(TABLE.c.seq.in_(seqs)))


def stored(runtime, seq: int) -> dict:
    with runtime.engine.connect() as conn:
        return dict(conn.execute(select(TABLE).where(TABLE.c.seq == seq)).mappings().one())


def test_appends_form_an_intact_gapless_chain(runtime) -> None:
    hashes = append(runtime, 5)
    with session_scope(runtime.engine) as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert [r.prev_hash for r in rows] == [audit.GENESIS, *hashes[:-1]]
    assert rows[0].details == '{"consent_ref":"C-1","inquiry_id":1}' and rows[0].at.tzinfo is not None
    result = check(runtime)
    assert result == audit.VerifyResult(True, 5, None, None, 5, hashes[-1], 1, 5, result.checkpoint_at,
                                        result.checkpoints_since)
    assert result.checkpoints_since <= result.checkpoint_at


def test_an_empty_log_is_intact(runtime) -> None:
    result = check(runtime)
    assert result == audit.VerifyResult(True, 0, None, None, None, None, 1, 0, result.checkpoint_at,
                                        result.checkpoint_at)


@pytest.mark.parametrize("column, value", [
    ("details", '{"consent_ref":"C-3","inquiry_id":4}'),
    ("actor_code", "BANK_Z"),
    ("actor_member_id", 7),  # entry 3 is the operator's (None)
    ("action", "report.export"),
    ("at", datetime(2020, 1, 1, tzinfo=UTC)),
    ("person_id", 999),
    ("person_id", None),
    ("purpose", "collections"),
])
def test_a_changed_field_breaks_the_chain_at_that_entry(runtime, column: str, value) -> None:
    hashes = append(runtime, 5)
    tamper(runtime, 3, **{column: value})
    result = check(runtime)
    assert (result.ok, result.first_broken_seq, result.entries) == (False, 3, 2)
    assert "entry_hash does not match the entry's contents" in result.reason
    assert (result.last_seq, result.last_hash) == (2, hashes[1])


DIGEST_FIELDS = dict(seq=3, at=datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=UTC), actor_member_id=2,
                     actor_code="BANK_A", action="inquiry.read", person_id=104, purpose="loan_origination",
                     details='{"inquiry_id":4}', prev_hash="a" * 64)


@pytest.mark.parametrize("key", [None, b"k" * 32])
@pytest.mark.parametrize("field, other", [
    ("seq", 4), ("at", datetime(2026, 12, 1, 9, 30, 0, 123457, tzinfo=UTC)), ("actor_member_id", 3),
    ("actor_member_id", None), ("actor_code", "BANK_B"), ("action", "report.self_view"), ("person_id", 105),
    ("person_id", None), ("purpose", "collections"), ("purpose", None), ("details", '{"inquiry_id":5}'),
    ("prev_hash", "b" * 64),
])
def test_every_field_of_an_entry_is_covered_by_its_hash(key, field: str, other) -> None:
    """Who acted, what was done, to whom and why: changing any one of them changes the hash."""
    digest = audit.entry_digest(**DIGEST_FIELDS, key=key)
    assert len(digest) == 64 and digest == audit.entry_digest(**DIGEST_FIELDS, key=key)
    assert audit.entry_digest(**{**DIGEST_FIELDS, field: other}, key=key) != digest


def test_the_hash_is_sha256_of_the_documented_serialisation_or_its_hmac() -> None:
    """docs/audit.md: an outside verifier recomputes the hash from the stored columns alone."""
    payload = json.dumps(["openbureau.audit.v1", 3, "2026-12-01T09:30:00.123456Z", 2, "BANK_A", "inquiry.read", 104,
                          "loan_origination", '{"inquiry_id":4}', "a" * 64], separators=(",", ":")).encode()
    assert audit.entry_digest(**DIGEST_FIELDS) == hashlib.sha256(payload).hexdigest()
    key = b"k" * 32
    assert audit.entry_digest(**DIGEST_FIELDS, key=key) == hmac.new(key, payload, hashlib.sha256).hexdigest()
    assert audit.entry_digest(**DIGEST_FIELDS, key=b"x" * 32) != audit.entry_digest(**DIGEST_FIELDS, key=key)


@pytest.mark.parametrize("forged", ["f" * 64, "é" * 64])
def test_a_changed_hash_breaks_the_chain_at_that_entry(runtime, forged: str) -> None:
    append(runtime, 5)
    tamper(runtime, 3, entry_hash=forged)
    result = check(runtime)
    assert (result.ok, result.first_broken_seq) == (False, 3)
    assert "entry_hash does not match" in result.reason


@pytest.mark.parametrize("removed, broken, reason", [
    ((3,), 3, "entry 3 is missing (seq goes from 2 to 4)"),
    ((1,), 1, "entry 1 is missing (seq goes from 0 to 2)"),
    ((2, 3), 2, "entries 2 to 3 are missing"),
])
def test_a_deleted_entry_is_named(runtime, removed: tuple[int, ...], broken: int, reason: str) -> None:
    append(runtime, 5)
    delete(runtime, *removed)
    result = check(runtime)
    assert (result.ok, result.first_broken_seq) == (False, broken)
    assert reason in result.reason


def test_an_entry_moved_below_seq_1_is_seen(runtime) -> None:
    append(runtime, 3)
    tamper(runtime, 1, seq=0)
    result = check(runtime)
    assert (result.ok, result.first_broken_seq) == (False, 0) and "out of sequence" in result.reason


def test_a_deleted_entry_renumbered_away_is_caught_by_its_link(runtime) -> None:
    append(runtime, 5)
    delete(runtime, 3)
    for seq in (4, 5):
        tamper(runtime, seq, seq=seq - 1)
    result = check(runtime)
    assert (result.ok, result.first_broken_seq) == (False, 3)
    assert "prev_hash does not match the hash of entry 2" in result.reason


def test_reordered_entries_break_the_chain_at_the_first_moved_one(runtime) -> None:
    append(runtime, 5)
    second, fourth = stored(runtime, 2), stored(runtime, 4)
    tamper(runtime, 2, **{k: v for k, v in fourth.items() if k != "seq"})
    tamper(runtime, 4, **{k: v for k, v in second.items() if k != "seq"})
    result = check(runtime)
    assert (result.ok, result.first_broken_seq, result.entries) == (False, 2, 1)
    assert "prev_hash does not match the hash of entry 1" in result.reason


def test_a_truncated_tail_is_caught_by_the_signed_checkpoint_or_an_anchor(runtime) -> None:
    hashes = append(runtime, 5)
    delete(runtime, 5)
    result = check(runtime)
    assert (result.ok, result.first_broken_seq, result.entries) == (False, 5, 4)
    assert "signed checkpoint" in result.reason and "removed from the tail" in result.reason
    result = check(runtime, anchor=(5, hashes[4]))
    assert (result.ok, result.first_broken_seq) == (False, 5)
    wrong = check(runtime, anchor=(2, hashes[3]))
    assert (wrong.ok, wrong.first_broken_seq) == (False, 2) and "anchored hash" in wrong.reason


def rebuild_from(runtime, seq: int, *, key: bytes | None) -> None:
    """What somebody with write access does after tampering: recompute every hash from ``seq`` on."""
    prev = stored(runtime, seq - 1)["entry_hash"]
    while (row := stored(runtime, seq) if _exists(runtime, seq) else None) is not None:
        fields = {k: v for k, v in row.items() if k != "entry_hash"}
        fields["prev_hash"] = prev
        prev = audit.entry_digest(**fields, key=key)
        tamper(runtime, seq, prev_hash=fields["prev_hash"], entry_hash=prev)
        seq += 1


def _exists(runtime, seq: int) -> bool:
    with runtime.engine.connect() as conn:
        return conn.execute(select(func.count()).where(TABLE.c.seq == seq)).scalar_one() == 1


def test_a_chain_rebuilt_without_the_key_fails(runtime) -> None:
    append(runtime, 5)
    tamper(runtime, 3, details='{"forged":true}')
    rebuild_from(runtime, 3, key=None)
    result = check(runtime)
    assert (result.ok, result.first_broken_seq) == (False, 3)
    assert "hashed without the chain key" in result.reason


def test_entries_are_keyed_with_the_attached_key(runtime) -> None:
    append(runtime, 2)
    row = stored(runtime, 2)
    fields = {k: v for k, v in row.items() if k != "entry_hash"}
    assert row["entry_hash"] == audit.entry_digest(**fields, key=runtime.audit.key)
    assert row["entry_hash"] != audit.entry_digest(**fields)
    assert runtime.audit.key != load_keys(runtime.settings).index


def test_record_flushes_but_the_caller_owns_the_transaction(runtime) -> None:
    with pytest.raises(RuntimeError), session_scope(runtime.engine, write=True) as session:
        entry = audit.record(session, actor_member_id=7, actor_code="BANK_A", action="inquiry.read", person_id=1)
        assert entry.seq == 1 and entry.entry_hash
        raise RuntimeError("the caller's work failed")
    append(runtime, 1)
    with session_scope(runtime.engine) as session:
        assert session.scalars(select(AuditEntry.seq)).all() == [1]
    assert check(runtime).ok


def test_record_refuses_bad_input(runtime) -> None:
    with session_scope(runtime.engine, write=True) as session:
        with pytest.raises(ValueError, match="action"):
            audit.record(session, actor_member_id=None, actor_code="OPERATOR:x", action="a" * 49)
        with pytest.raises(ValueError, match="actor_code"):
            audit.record(session, actor_member_id=None, actor_code="", action="member.add")
        with pytest.raises(TypeError):
            audit.record(session, actor_member_id=1, actor_code="BANK_A", action="x.y", details={"at": object()})


def test_list_entries_filters_newest_first(runtime) -> None:
    append(runtime, 6)
    with session_scope(runtime.engine) as session:
        assert [e.seq for e in audit.list_entries(session)] == [6, 5, 4, 3, 2, 1]
        assert [e.seq for e in audit.list_entries(session, limit=2, offset=1)] == [5, 4]
        assert [e.seq for e in audit.list_entries(session, person_id=103)] == [3]
        assert [e.seq for e in audit.list_entries(session, actor_code="BANK_A")] == [6, 3]
        assert [e.seq for e in audit.list_entries(session, action="report.self_view", actor_code="BANK_A")] == [6]
        with pytest.raises(Unprocessable):
            audit.list_entries(session, limit=0)
        read = AuditEntryRead.model_validate(audit.list_entries(session, limit=1)[0])
    assert read.details == {"consent_ref": "C-6", "inquiry_id": 6} and read.seq == 6


def test_operator_code_names_the_os_user() -> None:
    assert audit.operator_code().startswith("OPERATOR:") and len(audit.operator_code()) <= 64


def _writer(runtime, n: int, *, write: bool, errors: list[BaseException], retries: list[int]) -> None:
    try:
        for i in range(n):
            while True:
                try:
                    with session_scope(runtime.engine, write=write) as session:
                        session.execute(select(func.count()).select_from(TABLE))  # a read first: deferred
                        audit.record(session, actor_member_id=None, actor_code=threading.current_thread().name,
                                     action="inquiry.read", person_id=i, details={"n": i})
                    break
                except (OperationalError, IntegrityError):  # a stale read refused, never a forked chain
                    retries.append(1)
                    time.sleep(0.001)
    except BaseException as exc:  # noqa: B036 - reported to the test thread
        errors.append(exc)


def run_writers(runtime, *, write: bool) -> list[int]:
    errors: list[BaseException] = []
    retries: list[int] = []
    threads = [threading.Thread(target=_writer, args=(runtime, 50), name=f"W{t}",
                                kwargs={"write": write, "errors": errors, "retries": retries}) for t in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with session_scope(runtime.engine) as session:
        seqs = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    assert seqs == list(range(1, 101))
    result = check(runtime)
    assert (result.ok, result.entries, result.last_seq) == (True, 100, 100)
    return retries


def test_concurrent_writers_append_to_one_chain(runtime) -> None:
    # PostgreSQL: the advisory lock queues them; SQLite: BEGIN IMMEDIATE does.
    assert run_writers(runtime, write=True) == []


def test_deferred_sqlite_writers_never_fork_the_chain(sqlite_runtime) -> None:
    # Without BEGIN IMMEDIATE a writer may read a stale last entry; SQLite then refuses its insert.
    run_writers(sqlite_runtime, write=False)


CHANGED = "entry_hash does not match the entry's contents: a field or the hash was changed"


def test_a_broken_chain_is_reported_whole_with_the_checkpoints_it_was_checked_against(runtime) -> None:
    hashes = append(runtime, 5)
    intact = check(runtime)
    tamper(runtime, 3, purpose="collections")
    assert check(runtime) == audit.VerifyResult(False, 2, 3, CHANGED, 2, hashes[1], 1, 5, intact.checkpoint_at,
                                                intact.checkpoints_since)
    tamper(runtime, 3, purpose="loan_origination")  # put back: intact again
    tamper(runtime, 1, actor_code="BANK_Z")  # the first entry: nothing intact before it
    assert check(runtime) == audit.VerifyResult(False, 0, 1, CHANGED, None, None, 1, 5, intact.checkpoint_at,
                                                intact.checkpoints_since)


def test_a_link_to_the_genesis_value_is_named(runtime) -> None:
    append(runtime, 2)
    tamper(runtime, 1, prev_hash="1" * 64)
    result = check(runtime)
    assert (result.ok, result.first_broken_seq, result.reason) == (False, 1, (
        "prev_hash does not match the hash of the genesis value (64 zeros): an entry was removed, inserted or moved"))


def test_a_one_entry_log_emptied_is_caught_by_its_checkpoint(runtime) -> None:
    append(runtime, 1)
    delete(runtime, 1)
    result = check(runtime)
    assert (result.ok, result.first_broken_seq, result.entries) == (False, 1, 0)
    assert "removed from the tail" in result.reason


def test_an_entry_rebuilt_without_the_key_is_named_as_such(runtime) -> None:
    append(runtime, 3)
    tamper(runtime, 3, details='{"forged":true}')
    rebuild_from(runtime, 3, key=None)
    assert check(runtime).reason == CHANGED + " (it was hashed without the chain key: rebuilt by someone without it)"


def test_without_its_checkpoint_file_a_log_is_not_verified_at_all(runtime) -> None:
    append(runtime, 2)
    checkpoint_path(runtime.audit.checkpoint_dir).unlink()
    result = check(runtime)
    assert (result.ok, result.entries, result.first_broken_seq, result.last_seq) == (False, 0, None, None)
    assert "no checkpoint file" in result.reason


def test_an_entry_stores_every_field_as_given_and_keeps_unicode_as_is(runtime) -> None:
    with session_scope(runtime.engine, write=True) as session:
        entry = audit.record(session, actor_member_id=42, actor_code="O" * 64, action="a", person_id=7,
                             purpose="collections", details={"note": "王小明的档案"})
    row = stored(runtime, entry.seq)
    assert (row["actor_member_id"], row["actor_code"], row["action"], row["person_id"], row["purpose"]) == (
        42, "O" * 64, "a", 7, "collections")
    assert row["details"] == '{"note":"王小明的档案"}'  # UTF-8 as is, not \\u escapes
    assert check(runtime).ok
    payload = json.dumps(["openbureau.audit.v1", 1, row["at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"), 42, "O" * 64, "a", 7,
                          "collections", row["details"], audit.GENESIS], separators=(",", ":"), ensure_ascii=False)
    key = load_chain_keys(runtime.settings).chain
    assert row["entry_hash"] == hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()


def test_details_that_are_not_plain_json_are_refused() -> None:
    with pytest.raises(ValueError):
        audit.canonical_details({"ratio": float("nan")})
    assert audit.canonical_details({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
