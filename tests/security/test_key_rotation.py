"""Key rotation: personal data is no longer sealed under one key forever.

The threat: an encryption key leaks (a stolen disk holding the key file, a copied environment). Rotating makes
a new key current and re-encrypts every stored ciphertext under it, while the bureau serves; afterwards the
leaked key opens nothing in the database. Before key ids were added, there was no way to do this.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyotp
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select
from typer.testing import CliRunner

from openbureau.accounts.models import AccountState
from openbureau.audit.service import terminal_operator
from openbureau.cli.main import app
from openbureau.consent.profiles import get_profile
from openbureau.consent.schemas import Subject
from openbureau.identity.models import Person
from openbureau.intake import service as intake
from openbureau.kit.crypto import (
    PiiVault,
    ciphertext_key_id,
    encryption_key,
    load_keys,
    rotate_encryption_key,
)
from openbureau.kit.db import session_scope
from openbureau.kit.keyrotation import encrypted_columns, key_counts
from openbureau.kit.settings import Settings
from openbureau.members import second_factor
from openbureau.members.models import ApiKey, Role
from openbureau.migrations.metadata import target_metadata
from openbureau.policy import Policy
from openbureau.principals import Principal
from openbureau.reports import service as reports
from tests.intake.factories import PEOPLE, person, write_file
from tests.members.factories import make_member
from tests.security.factories import cli_env, env_of

OPENBUREAU = str(Path(sys.executable).with_name("openbureau"))
runner = CliRunner()


@pytest.fixture
def bureau(runtime, tmp_path, monkeypatch):
    """A bureau holding persons and account states, sealed under the original key; its CLI environment set."""
    make_member(runtime, "BANK_A", Role.FURNISHER)
    rows = [person(i % len(PEOPLE), furnisher_account_id=f"A{i}") for i in range(3_000)]
    path = write_file(tmp_path / "load.csv", rows)
    intake.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A", path=path,
                  today=date(2026, 11, 22))
    with cli_env(runtime, monkeypatch):
        yield runtime


def ciphertexts(runtime) -> dict[str, list[bytes]]:
    with session_scope(runtime.engine) as session:
        return {"persons": [bytes(t) for t in session.scalars(select(Person.id_enc).order_by(Person.id))],
                "account_states": [bytes(t) for t in session.scalars(
                    select(AccountState.identity_enc).order_by(AccountState.furnisher_account_id))]}


def clear(runtime, vault: PiiVault) -> dict[str, list[str]]:
    return {table: [vault.decrypt(t) for t in tokens] for table, tokens in ciphertexts(runtime).items()}


def counts(runtime) -> dict[str, dict[int, int]]:
    return {c.name: dict(key_counts(runtime.engine, c)) for c in encrypted_columns(target_metadata)}


def test_every_encrypted_column_is_found() -> None:
    names = {c.name for c in encrypted_columns(target_metadata)}
    assert names == {"persons.id_enc", "consents.subject_id_enc", "disputes.statement_enc",
                     "account_states.identity_enc", "lending_events.id_enc", "lending_events.identity_enc",
                     "notifications.subject_id_enc", "notifications.recipient_enc", "notifications.message_enc",
                     "person_sessions.id_enc",
                     "disputes.consumer_statement_enc", "dispute_tasks.evidence_enc",
                     "identity_theft_reports.report_ref_enc", "authority_requests.citation_enc",
                     "authority_requests.reference_enc", "authority_requests.nondisclosure_ref_enc",
                     "monitored_subjects.id_enc", "webhook_endpoints.secret_enc",
                     "webhook_endpoints.previous_secret_enc", "fraud_reports.evidence_enc",
                     "prescreen_selections.mailing_enc", "api_keys.second_factor_enc",
                     "enterprises.uscc_enc", "enterprise_states.name_enc", "account_enterprises.name_enc",
                     "account_parties.identity_enc"}
    binary_enc = {f"{t.name}.{c.name}" for t in target_metadata.sorted_tables for c in t.columns
                  if c.name.endswith("_enc")}
    assert binary_enc == names  # a new encrypted column must be marked, or rotation would miss it


def test_old_ciphertexts_keep_decrypting_and_new_ones_name_their_key(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    keys = load_keys(settings)
    nonce = os.urandom(12)
    version_1 = b"\x01" + nonce + AESGCM(keys.encryption).encrypt(nonce, "张三".encode(), None)
    assert ciphertext_key_id(version_1) == 1
    new_id = rotate_encryption_key(settings)
    rotated = PiiVault(load_keys(settings))
    assert rotated.decrypt(version_1) == "张三"
    token = rotated.encrypt("李四")
    assert token[:3] == b"\x02" + new_id.to_bytes(2, "big") and ciphertext_key_id(token) == new_id == 2
    assert rotated.decrypt(token) == "李四" and [rotated.decrypt(t) for t in rotated.encrypt_many(["a", "b"])] == ["a", "b"]
    assert load_keys(settings).encryption == encryption_key(settings, 2) != encryption_key(settings, 1)
    with pytest.raises(ValueError, match="no encryption key with id 9"):
        encryption_key(settings, 9)


def test_a_serving_process_reads_data_sealed_under_a_key_rotated_after_it_started(bureau) -> None:
    serving = PiiVault(load_keys(bureau.settings), reload=functools.partial(load_keys, bureau.settings))
    rotate_encryption_key(bureau.settings)
    fresh = PiiVault(load_keys(bureau.settings)).encrypt("110101199003070011")
    assert serving.decrypt(fresh) == "110101199003070011"


def test_rotation_leaves_the_leaked_key_useless_and_lookups_working(bureau) -> None:
    leaked = load_keys(bureau.settings).encryption
    with session_scope(bureau.engine, write=True) as session:  # a key's web second factor, sealed too
        prefix = session.scalar(select(ApiKey.prefix))
        secret = second_factor.enrol(session, vault=bureau.vault, principal=terminal_operator(), prefix=prefix).secret
    before = clear(bureau, bureau.vault)
    assert counts(bureau)["persons.id_enc"] == {1: len(PEOPLE)}

    result = runner.invoke(app, ["keys", "rotate", "--batch-size", "500"])
    assert result.exit_code == 0, result.output
    after_keys = load_keys(bureau.settings)
    assert after_keys.key_id == 2
    assert counts(bureau) == {"persons.id_enc": {2: len(PEOPLE)}, "account_states.identity_enc": {2: 3_000},
                              "consents.subject_id_enc": {}, "disputes.statement_enc": {},
                              "lending_events.id_enc": {}, "lending_events.identity_enc": {},
                              "notifications.subject_id_enc": {}, "notifications.recipient_enc": {},
                              "notifications.message_enc": {}, "person_sessions.id_enc": {},
                              "disputes.consumer_statement_enc": {}, "dispute_tasks.evidence_enc": {},
                              "identity_theft_reports.report_ref_enc": {}, "authority_requests.citation_enc": {},
                              "authority_requests.reference_enc": {}, "authority_requests.nondisclosure_ref_enc": {},
                              "monitored_subjects.id_enc": {}, "webhook_endpoints.secret_enc": {},
                              "webhook_endpoints.previous_secret_enc": {}, "fraud_reports.evidence_enc": {},
                              "prescreen_selections.mailing_enc": {}, "api_keys.second_factor_enc": {2: 1},
                              "enterprises.uscc_enc": {}, "enterprise_states.name_enc": {},
                              "account_enterprises.name_enc": {}, "account_parties.identity_enc": {}}
    assert clear(bureau, PiiVault(after_keys)) == before
    with session_scope(bureau.engine, write=True) as session:  # the authenticator app's codes still work
        assert second_factor.check(session, vault=PiiVault(after_keys), prefix=prefix,
                                   code=pyotp.TOTP(secret).now()) is None
    for tokens in ciphertexts(bureau).values():
        for token in tokens:
            with pytest.raises(InvalidTag):
                AESGCM(leaked).decrypt(token[3:15], token[15:], None)
    # A person's own report still finds them (blind index) and decrypts their identifier.
    with session_scope(bureau.engine, write=True) as session:
        report = reports.own_report(session, vault=PiiVault(after_keys), principal=Principal.operator("OPERATOR:test"),
                                    policy=Policy(profile=get_profile("CN"), reciprocity=False),
                                    subject=Subject(id_type="CN_RESIDENT_ID", id_number=PEOPLE[1][0]))
    assert report.person.id_number == PEOPLE[1][0]

    status = runner.invoke(app, ["keys", "status"])
    assert status.exit_code == 0 and "2 (current)" in status.output and "retired keys kept for decryption: 1" in status.output


def test_a_rotation_killed_mid_way_resumes_where_it_stopped(bureau) -> None:
    before = clear(bureau, bureau.vault)
    total = sum(len(v) for v in before.values())
    proc = subprocess.Popen([OPENBUREAU, "keys", "rotate", "--batch-size", "10"], env=env_of(bureau),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Polled on the two tables that hold this bureau's ciphertexts: a poll of every encrypted column took long
    # enough on a loaded machine for the whole rotation to finish between two polls.
    held = [c for c in encrypted_columns(target_metadata) if c.table.name in ("persons", "account_states")]
    # Each count is taken with the rotation stopped (SIGSTOP), so that it cannot finish between the count and
    # the kill: on a machine busy with other tests the poller was once not run until the rotation was over.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.005)
        proc.send_signal(signal.SIGSTOP)
        done = sum(dict(key_counts(bureau.engine, c)).get(2, 0) for c in held)
        if done >= 100:
            break
        proc.send_signal(signal.SIGCONT)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    done = sum(c.get(2, 0) for c in counts(bureau).values())
    assert 100 <= done < total  # killed part-way: some rows under each key, none lost
    keys = load_keys(bureau.settings)
    assert keys.key_id == 2 and clear(bureau, PiiVault(keys)) == before

    again = subprocess.run([OPENBUREAU, "keys", "rotate"], env=env_of(bureau), capture_output=True, text=True,
                           timeout=120)
    assert again.returncode == 1 and "ROTATION_UNFINISHED" in again.stderr  # no second key over an unfinished one
    resumed = subprocess.run([OPENBUREAU, "keys", "rotate", "--resume", "--batch-size", "200"], env=env_of(bureau),
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{total - done} ciphertexts re-encrypted" in resumed.stdout
    assert all(set(c) <= {2} for c in counts(bureau).values())
    assert clear(bureau, PiiVault(load_keys(bureau.settings))) == before
