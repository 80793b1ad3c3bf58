"""Attacks on the audit log by somebody who can write to the database (an operator, a stolen credential).

Each test does what such an attacker would do and then asks ``verify`` -- without being handed an anchor --
whether the log is intact. Before the chain was keyed and checkpointed outside the database, every one of
these passed as intact.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import insert, select

from openbureau.audit import service as audit
from openbureau.audit.checkpoints import CheckpointError, checkpoint_path
from openbureau.audit.models import AuditEntry
from openbureau.inquiries.log import GroupCommitLog, LogEntry
from openbureau.kit.crypto import load_keys
from openbureau.kit.db import session_scope
from openbureau.kit.keyfile import key_file_path
from openbureau.runtime import Runtime

TABLE = AuditEntry.__table__
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def append(runtime: Runtime, n: int, *, checkpoint: bool = True) -> list[str]:
    """``n`` entries, one transaction each, by the service every caller uses; the head checkpointed (unless
    not ``checkpoint``: then by the writer's thread, if it runs, when it comes to it)."""
    hashes = []
    for i in range(1, n + 1):
        with session_scope(runtime.engine, write=True) as session:
            hashes.append(audit.record(session, actor_member_id=1, actor_code="BANK_A", action="inquiry.read",
                                       person_id=100 + i, purpose="loan_origination",
                                       details={"inquiry_id": i}).entry_hash)
    if checkpoint:
        runtime.audit.checkpoints.flush()
    return hashes


def verify(runtime: Runtime, **kwargs) -> audit.VerifyResult:
    with session_scope(runtime.engine) as session:
        return audit.verify(session, batch_size=3, **kwargs)


def rows(runtime: Runtime) -> list[dict]:
    with runtime.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(TABLE).order_by(TABLE.c.seq)).mappings()]


def rewrite_table(runtime: Runtime, entries: list[dict]) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(TABLE.delete())
        if entries:
            conn.execute(insert(TABLE), entries)


def rechain(entries: list[dict], key: bytes | None) -> list[dict]:
    """What the attacker does after removing entries: renumber and recompute every hash with ``key``."""
    prev, out = audit.GENESIS, []
    for seq, entry in enumerate(entries, start=1):
        fields = {k: v for k, v in entry.items() if k != "entry_hash"} | {"seq": seq, "prev_hash": prev}
        prev = audit.entry_digest(**fields, key=key)
        out.append(fields | {"entry_hash": prev})
    return out


def test_an_emptied_log_is_detected_without_an_anchor(runtime) -> None:
    append(runtime, 4)
    rewrite_table(runtime, [])
    result = verify(runtime)
    assert not result.ok
    assert result.first_broken_seq == 1 and "names entry 4" in result.reason


def test_a_truncated_tail_is_detected_without_an_anchor(runtime) -> None:
    append(runtime, 5)
    rewrite_table(runtime, rows(runtime)[:3])
    result = verify(runtime)
    assert (result.ok, result.first_broken_seq, result.entries) == (False, 4, 3)
    assert "removed from the tail" in result.reason


@pytest.mark.parametrize("key_of_attacker", ["none", "derived_from_index_key"])
def test_a_deleted_entry_hidden_by_recomputing_the_chain_is_detected(runtime, key_of_attacker) -> None:
    append(runtime, 5)
    kept = [e for e in rows(runtime) if e["seq"] != 2]
    # The former keyed mode derived its key from the index key; the new key shares nothing with it.
    index_key = load_keys(runtime.settings).index
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"openbureau audit chain v1").derive(index_key)
    rewrite_table(runtime, rechain(kept, None if key_of_attacker == "none" else derived))
    result = verify(runtime)
    assert (result.ok, result.first_broken_seq) == (False, 1)
    assert "entry_hash does not match" in result.reason


def test_an_emptied_log_rebuilt_with_fewer_entries_is_detected(runtime) -> None:
    hashes = append(runtime, 3)
    rewrite_table(runtime, [])
    append(runtime, 3)  # the bureau goes on writing after the attack
    result = verify(runtime)
    assert not result.ok and result.first_broken_seq <= 3  # the first checkpointed entry it no longer matches
    assert hashes[2] != rows(runtime)[2]["entry_hash"]
    assert "signed checkpoint" in result.reason and "the log was rewritten" in result.reason


def test_the_chain_key_lives_apart_from_the_database(runtime) -> None:
    append(runtime, 1)
    key_file = json.loads(key_file_path(runtime.settings.data_dir).read_text())
    assert base64.b64decode(key_file["audit_key"]) == runtime.audit.key
    assert key_file_path(runtime.settings.data_dir).stat().st_mode & 0o077 == 0
    stored = json.dumps(rows(runtime), default=str)
    assert key_file["audit_key"] not in stored and runtime.audit.key.hex() not in stored


def _lines(runtime: Runtime) -> list[bytes]:
    return checkpoint_path(runtime.audit.checkpoint_dir).read_bytes().splitlines(keepends=True)


def _write_lines(runtime: Runtime, lines: list[bytes]) -> None:
    checkpoint_path(runtime.audit.checkpoint_dir).write_bytes(b"".join(lines))


def test_a_checkpoint_file_changed_without_the_signing_key_is_detected(runtime) -> None:
    append(runtime, 3)
    lines = _lines(runtime)
    body = json.loads(lines[-1])
    body["seq"], body["hash"] = 2, rows(runtime)[1]["entry_hash"]  # pretend the log ended earlier
    _write_lines(runtime, [*lines[:-1], json.dumps(body).encode() + b"\n"])
    result = verify(runtime)
    assert not result.ok and "not signed by the bureau's checkpoint key" in result.reason


def test_a_checkpoint_signed_by_another_key_is_detected(runtime) -> None:
    append(runtime, 3)
    lines = _lines(runtime)
    body = json.loads(lines[-1])
    del body["sig"]
    body["seq"] = 9
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    body["sig"] = base64.b64encode(Ed25519PrivateKey.generate().sign(canonical)).decode()
    _write_lines(runtime, [*lines[:-1], json.dumps(body).encode() + b"\n"])
    result = verify(runtime)
    assert not result.ok and "not signed" in result.reason


def test_a_checkpoint_removed_from_the_middle_of_the_file_is_detected(runtime) -> None:
    append(runtime, 2)
    append(runtime, 2)
    lines = _lines(runtime)
    assert len(lines) >= 3
    _write_lines(runtime, [lines[0], *lines[2:]])
    result = verify(runtime)
    assert not result.ok and "does not follow the line before it" in result.reason


def test_a_deleted_checkpoint_file_fails_verification(runtime) -> None:
    append(runtime, 2)
    checkpoint_path(runtime.audit.checkpoint_dir).unlink()
    result = verify(runtime)
    assert not result.ok and "no checkpoint file" in result.reason


def test_inquiries_logged_by_group_commit_are_keyed_and_checkpointed(runtime) -> None:
    log = GroupCommitLog(runtime.engine)
    note = audit.AuditNote(1, "BANK_A", "inquiry.read", 7, "loan_origination")

    async def requests() -> None:
        await asyncio.gather(*(log.write_async(LogEntry(values=dict(
            subscriber_id=None, person_id=p, purpose="self_inquiry", hard=0, basis="self", actor_code="OPERATOR:t",
            created_at=NOW), audit=note)) for p in range(1, 21)))
        await log.stop()

    asyncio.run(requests())
    runtime.audit.checkpoints.flush()
    assert verify(runtime).ok and verify(runtime).checkpoint_seq == 20
    last = rows(runtime)[-1]
    fields = {k: v for k, v in last.items() if k != "entry_hash"}
    assert last["entry_hash"] == audit.entry_digest(**fields, key=runtime.audit.key)
    rewrite_table(runtime, rows(runtime)[:10])
    assert not verify(runtime).ok


def test_a_log_written_before_keying_keeps_verifying_and_is_keyed_from_then_on(runtime) -> None:
    # Entries as the bureau wrote them before this change: plain SHA-256, and no checkpoint file.
    legacy = rechain([dict(at=NOW, actor_member_id=None, actor_code="OPERATOR:old", action="member.add",
                           person_id=None, purpose=None, details="{}")] * 3, None)
    rewrite_table(runtime, legacy)
    checkpoint_path(runtime.audit.checkpoint_dir).unlink()
    upgraded = runtime.settings.model_copy(update={"audit_checkpoint_dir": runtime.settings.data_dir / "cp"})
    bureau = Runtime(settings=upgraded, engine=runtime.engine, vault=runtime.vault)  # the upgraded bureau opens
    append(bureau, 2)
    result = verify(bureau)
    assert result.ok and result.keyed_from == 4 and result.entries == 5
    fourth = rows(bureau)[3]
    assert fourth["entry_hash"] == audit.entry_digest(**{k: v for k, v in fourth.items() if k != "entry_hash"},
                                                      key=bureau.audit.key)
    # A legacy entry is still covered: the genesis checkpoint names the last one, and the keyed entries link
    # to it.
    with runtime.engine.begin() as conn:
        conn.execute(TABLE.update().where(TABLE.c.seq == 2).values(actor_code="OPERATOR:eve"))
    rewrite_table(runtime, rechain(rows(runtime)[:3], None) + rows(runtime)[3:])
    broken = verify(bureau)
    assert (broken.ok, broken.first_broken_seq) == (False, 3) and "signed checkpoint" in broken.reason


CHANGED = "entry_hash does not match the entry's contents: a field or the hash was changed"


def test_a_tail_removed_after_the_newest_checkpoint_is_caught_by_an_anchor(runtime) -> None:
    """docs/audit.md, "What it cannot detect": entries committed after the newest checkpoint (the writer writes
    at most once a second; a process killed with ``kill -9`` never writes its last head) are covered by an
    anchor kept elsewhere, not by the checkpoint file."""
    hashes = append(runtime, 3)
    runtime.audit.close()  # the writer stops: the next entries are committed but never checkpointed
    hashes += append(runtime, 2, checkpoint=False)
    lagging = verify(runtime)
    assert (lagging.ok, lagging.entries, lagging.checkpoint_seq) == (True, 5, 3)
    assert verify(runtime, anchor=(5, hashes[4])).ok  # the anchor names the log's last entry: intact
    rewrite_table(runtime, rows(runtime)[:3])  # the attacker removes the entries no checkpoint names
    assert verify(runtime).ok  # the file alone cannot tell
    assert verify(runtime, anchor=(5, hashes[4])) == audit.VerifyResult(
        False, 3, 4, "the log ends at seq 3 but the anchor names entry 5: entries were removed from the tail",
        3, hashes[2], 1, 3, lagging.checkpoint_at, lagging.checkpoints_since)
    assert verify(runtime, anchor=(3, hashes[2])).ok  # an anchor the log still reaches


def reopen(runtime: Runtime) -> Runtime:
    """The bureau opened again over the same database, keys and files, as by a process started after this
    one ended: its chain has not seen the checkpoint file started (the file exists, so it starts none).

    One process keeps one chain per database, and a bureau opened again with the same keys and checkpoint
    file gets the chain already running; the bureau opened in between with another checkpoint directory
    replaces (and closes) it, as the end of the first process would."""
    elsewhere = runtime.settings.model_copy(update={"audit_checkpoint_dir": runtime.settings.data_dir / "elsewhere"})
    Runtime(settings=elsewhere, engine=runtime.engine, vault=runtime.vault)
    return Runtime(settings=runtime.settings, engine=runtime.engine, vault=runtime.vault)


def test_a_checkpoint_file_deleted_while_the_bureau_runs_is_started_by_its_first_append_only(runtime) -> None:
    hashes = append(runtime, 3)
    bureau = reopen(runtime)
    path = checkpoint_path(bureau.audit.checkpoint_dir)
    assert bureau.audit is not runtime.audit and not bureau.audit.started and path.exists()
    path.unlink()  # deleted after the bureau started, before it appended
    hashes += append(bureau, 2)
    result = verify(bureau)
    assert (result.ok, result.entries, result.keyed_from, result.checkpoint_seq) == (True, 5, 1, 5)
    genesis = json.loads(path.read_bytes().splitlines()[0])
    assert (genesis["seq"], genesis["hash"], genesis["keyed_from"]) == (3, hashes[2], 1)  # the head before it
    rewrite_table(bureau, rows(bureau)[:4])
    assert "removed from the tail" in verify(bureau).reason  # the new file covers what was appended since

    # Deleted again, the file is not started again while this process runs: a new file begun at the head
    # after the attacker removed the tail would hide the removal.
    path.unlink()
    rewrite_table(bureau, rows(bureau)[:3])
    append(bureau, 1, checkpoint=False)
    with contextlib.suppress(CheckpointError):  # the writer has no file to append its last head to
        bureau.audit.close()
    result = verify(bureau)
    assert not result.ok and "the log cannot be checked for a removed tail" in result.reason


def test_keyed_entries_before_the_seq_a_restarted_checkpoint_file_says_keying_began_at_are_named(runtime) -> None:
    """Somebody who can write to the database and delete the checkpoint file (the embedded default keeps both
    in the data directory) rewrites the log without the key: the bureau's next start begins a new file and,
    finding no keyed entry, has keying begin after the head. The authentic entries put back (a backup
    restored) are keyed entries before that seq, and verification says so."""
    append(runtime, 3)
    authentic = rows(runtime)
    forged = [authentic[0], authentic[1] | {"details": '{"inquiry_id":7}'}, authentic[2]]
    rewrite_table(runtime, rechain(forged, None))
    checkpoint_path(runtime.audit.checkpoint_dir).unlink()
    restarted = Runtime(settings=runtime.settings, engine=runtime.engine, vault=runtime.vault)
    downgraded = verify(restarted)
    assert (downgraded.ok, downgraded.keyed_from, downgraded.checkpoint_seq) == (True, 4, 3)
    # Below that seq an entry is plain: one changed is named as changed, nothing more.
    with runtime.engine.begin() as conn:
        conn.execute(TABLE.update().where(TABLE.c.seq == 2).values(purpose="collections"))
    assert (verify(restarted).first_broken_seq, verify(restarted).reason) == (2, CHANGED)
    rewrite_table(runtime, authentic)
    assert verify(restarted) == audit.VerifyResult(
        False, 0, 1, CHANGED + " (it is keyed, but lies before the seq the checkpoints say keying began at)",
        None, None, 4, 3, downgraded.checkpoint_at, downgraded.checkpoints_since)
