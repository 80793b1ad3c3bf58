"""Furnished files at rest: kept sealed and owner-only, nothing kept of refused files, purged on retention,
and no ID number, name or phone in clear anywhere in the data directory after any intake (CSV, JSON Lines,
Parquet and Metro 2)."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openbureau.api.app import create_app
from openbureau.intake import service
from openbureau.intake.errors import FileRejected
from openbureau.intake.files import file_keyring, seal_file, stored_path
from openbureau.intake.models import Submission
from openbureau.intake.tasks import purge_kept_files
from openbureau.kit import filecrypt
from openbureau.kit.db import session_scope
from openbureau.members.models import Member, Role
from openbureau.metro2 import base
from openbureau.runtime import open_runtime
from tests.intake.factories import write_file
from tests.members.factories import make_member
from tests.metro2.factories import CONSUMERS, consumer_file, consumer_secrets, consumer_values
from tests.security.factories import env_of, files_holding, people_records, secrets_of


def _kept(runtime) -> list:
    folder = runtime.settings.submissions_dir
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_kept_file_is_sealed_owner_only_and_reads_back(runtime, tmp_path, suffix) -> None:
    open_runtime(runtime.settings, migrate=False)  # the umask and data directory of a running bureau
    make_member(runtime, "BANK_A", Role.FURNISHER)
    rows = people_records(40)
    path = write_file(tmp_path / f"sep{suffix}", rows)
    s = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A", path=path,
                       today=date(2026, 11, 22)).submission
    assert (s.status, s.records_accepted) == ("loaded", 40)
    [kept] = _kept(runtime)
    assert kept == stored_path(runtime.settings, furnisher_id=s.furnisher_id, sha=s.sha256, fmt=s.format)
    data = kept.read_bytes()
    assert data.startswith(filecrypt.MAGIC) and not [x for x in secrets_of(rows) if x in data]
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    for folder in (runtime.settings.data_dir, runtime.settings.submissions_dir, kept.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    with filecrypt.open_sealed(kept, keys=file_keyring(runtime.settings)) as plain:
        assert plain.read() == path.read_bytes()  # the same bytes, authenticated
    assert not list((runtime.settings.data_dir / "tmp").glob("*"))


def test_a_sealed_file_cannot_be_cut_reordered_or_read_under_another_key(tmp_path) -> None:
    key = os.urandom(32)
    sink = io.BytesIO()
    with filecrypt.SealingWriter(sink, key=key, key_id="k1", segment_size=64) as writer:
        writer.write(bytes(range(256)) * 2)
    sealed = sink.getvalue()
    header = len(sealed) - 8 * (64 + 16)
    segments = [sealed[header + i * 80: header + (i + 1) * 80] for i in range(8)]
    swapped = sealed[:header] + segments[1] + segments[0] + b"".join(segments[2:])
    for damaged in (sealed[:-80], swapped, sealed[:-1] + bytes([sealed[-1] ^ 1])):
        with pytest.raises(filecrypt.SealedFileError):
            filecrypt.SealedReader(io.BytesIO(damaged), keys={"k1": key}).read()
    with pytest.raises(filecrypt.SealedFileError, match="not available"):
        filecrypt.SealedReader(io.BytesIO(sealed), keys={"k2": key})
    reader = filecrypt.SealedReader(io.BytesIO(sealed), keys={"k1": key})
    reader.seek(300)
    assert reader.read(5) == (bytes(range(256)) * 2)[300:305]


@pytest.mark.parametrize("columns_extra", [["blood_type"], []], ids=["banned", "missing"])
def test_nothing_is_kept_of_a_file_refused_before_its_records_were_read(runtime, tmp_path, columns_extra) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    rows = people_records(3)
    columns = [*rows[0].keys(), *columns_extra] if columns_extra else [c for c in rows[0] if c != "currency"]
    path = write_file(tmp_path / "bad.csv", rows, columns=columns)
    with pytest.raises(FileRejected):
        service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A", path=path)
    assert _kept(runtime) == []
    assert not list((runtime.settings.data_dir / "tmp").glob("*"))


def test_retention_purges_kept_files_of_loaded_submissions_only(runtime, tmp_path) -> None:
    make_member(runtime, "BANK_A", Role.FURNISHER)
    loaded = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A",
                            path=write_file(tmp_path / "a.csv", people_records(3))).submission
    with session_scope(runtime.engine, write=True) as session:
        member = session.get(Submission, loaded.id).furnisher_id
        received = service.receive(session, settings=runtime.settings, furnisher=session.get(Member, member),
                                   sealed=_sealed(runtime, write_file(tmp_path / "b.csv", people_records(4))),
                                   filename="b.csv").submission
        received_id = received.id
    assert len(_kept(runtime)) == 2
    now = datetime.now(UTC)
    with session_scope(runtime.engine, write=True) as session:
        early = purge_kept_files(session, settings=runtime.settings, now=now, actor_code="operator")
    assert early.submissions == 0 and len(_kept(runtime)) == 2
    later = now + timedelta(days=runtime.settings.kept_file_days + 1)
    with session_scope(runtime.engine, write=True) as session:
        run = purge_kept_files(session, settings=runtime.settings, now=later, actor_code="operator")
    assert run.submissions == 1
    with session_scope(runtime.engine) as session:
        rows = {s.id: s for s in session.scalars(select(Submission))}
        assert rows[loaded.id].file_purged_at is not None and rows[loaded.id].records_accepted == 3
        assert rows[received_id].file_purged_at is None
    [left] = _kept(runtime)
    assert left.name.startswith(rows[received_id].sha256)


def _sealed(runtime, path):
    with path.open("rb") as source:
        return seal_file(runtime.settings, source)


def _intake_everything(runtime, tmp_path) -> set[bytes]:
    """Valid, invalid and refused files in every format through the CLI and the API; their secrets."""
    key = make_member(runtime, "BANK_A", Role.FURNISHER)
    valid = people_records(30)
    invalid = people_records(12, currency="??", days_past_due="x")
    refused = people_records(5)
    secrets = secrets_of(valid + invalid + refused)
    files = []
    for suffix in (".csv", ".jsonl", ".parquet"):
        files.append(write_file(tmp_path / f"valid{suffix}", valid))
        files.append(write_file(tmp_path / f"invalid{suffix}", invalid))
        files.append(write_file(tmp_path / f"refused{suffix}", refused, columns=[*refused[0], "religion"]))
    broken = tmp_path / "broken.csv"  # a record not UTF-8 and a record with the wrong number of fields
    lines = write_file(tmp_path / "b0.csv", valid[:6]).read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(valid[1]["full_name"].encode(), b"\xff" + valid[1]["full_name"].encode()[1:])
    lines[3] = lines[3].replace(b",", b",,", 2)
    broken.write_bytes(b"".join(lines))
    (tmp_path / "b0.csv").unlink()
    files.append(broken)
    env = env_of(runtime)
    for path in files[: len(files) // 2]:
        done = subprocess.run([sys.executable, "-c", "from openbureau.cli.main import app; app()", "intake",
                               "submit", str(path), "--furnisher", "BANK_A"], env=env, capture_output=True,
                              timeout=120, check=False)
        assert done.returncode == (1 if path.stem == "refused" else 0), done.stderr
        assert not [s for s in secrets if s in done.stdout + done.stderr]
    with TestClient(create_app(runtime)) as client:
        for path in files[len(files) // 2:]:
            with path.open("rb") as handle:
                response = client.post("/v1/submissions", headers={"X-API-Key": key},
                                       files={"file": (path.name, handle, "application/octet-stream")})
            assert response.status_code in (200, 201, 422), response.text
            assert not [s for s in secrets if s.decode() in response.text]
    return secrets


def test_no_identifier_in_clear_anywhere_in_the_data_directory(runtime, tmp_path) -> None:
    secrets = _intake_everything(runtime, tmp_path)
    with session_scope(runtime.engine) as session:
        statuses = sorted(session.scalars(select(Submission.status)))
    assert statuses == ["loaded"] * 7  # the CLI and the API both loaded files; refused ones left nothing
    assert files_holding(runtime.settings.data_dir, secrets) == {}
    assert list(runtime.settings.data_dir.rglob("*.db")) or runtime.settings.resolved_database_url.startswith("postgres")


def test_files_kept_in_clear_by_an_earlier_version_are_sealed_on_upgrade(runtime, tmp_path) -> None:
    """A bureau upgraded from the version that kept files verbatim (``submissions/<sha[:2]>/<sha>.<fmt>``)
    seals them where loads look for them now and leaves nothing in clear."""
    from openbureau.intake.tasks import legacy_kept_files

    make_member(runtime, "BANK_A", Role.FURNISHER)
    records = people_records(8)
    path = write_file(tmp_path / "old.csv", records)
    loaded = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_A", path=path,
                            today=date(2026, 11, 22)).submission
    kept = stored_path(runtime.settings, furnisher_id=loaded.furnisher_id, sha=loaded.sha256, fmt="csv")
    kept.unlink()  # as the earlier version left it: the same bytes in clear at the old place
    legacy = runtime.settings.submissions_dir / loaded.sha256[:2] / f"{loaded.sha256}.csv"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_bytes(path.read_bytes())
    stray = legacy.parent / f"{'0' * 64}.csv"  # a clear file no submission names
    stray.write_bytes(path.read_bytes())
    assert files_holding(runtime.settings.data_dir, secrets_of(records))
    open_runtime(runtime.settings)  # what every command and server does first
    assert not legacy_kept_files(runtime.settings) and not legacy.exists() and not stray.exists()
    assert files_holding(runtime.settings.data_dir, secrets_of(records)) == {}
    with filecrypt.open_sealed(kept, keys=file_keyring(runtime.settings)) as source:
        assert source.read() == path.read_bytes()


def test_the_kept_files_of_a_furnisher_numbered_10_to_99_are_not_taken_for_an_earlier_versions(runtime,
                                                                                                 tmp_path) -> None:
    """Today's kept files sit in ``submissions/<furnisher id>/``: for furnishers 10 to 99 a directory of two
    digits, the shape of the earlier version's ``<sha[:2]>/``. Opening the bureau must leave them be (it
    deleted them, every time the bureau was opened)."""
    from openbureau.intake.tasks import legacy_kept_files

    for n in range(18):
        make_member(runtime, f"BANK_{n:02d}", Role.FURNISHER)
    path = write_file(tmp_path / "sep.csv", people_records(3))
    loaded = service.submit(runtime.engine, settings=runtime.settings, policy=runtime.policy, furnisher_code="BANK_17",
                            path=path, today=date(2026, 11, 22)).submission
    assert 10 <= loaded.furnisher_id <= 99
    kept = stored_path(runtime.settings, furnisher_id=loaded.furnisher_id, sha=loaded.sha256, fmt="csv")
    # and a kept file whose digest begins with its furnisher's two digits
    twin = kept.parent / f"{kept.parent.name}{'a' * 62}.csv.sealed"
    twin.write_bytes(kept.read_bytes())
    assert kept.exists() and legacy_kept_files(runtime.settings) == []
    open_runtime(runtime.settings)
    open_runtime(runtime.settings)
    assert kept.exists() and twin.exists()
    with filecrypt.open_sealed(kept, keys=file_keyring(runtime.settings)) as source:
        assert source.read() == path.read_bytes()


def test_no_identifier_in_clear_after_metro2_files_through_the_cli_and_the_api(runtime, tmp_path) -> None:
    key = make_member(runtime, "BANK_US", Role.FURNISHER)
    secrets = consumer_secrets()
    valid, invalid = tmp_path / "valid.m2", tmp_path / "invalid.metro2"
    valid.write_bytes(consumer_file(4))
    bad = [base(consumer_values(i, f"BAD-{i}", social_security_number=CONSUMERS[i][0][:8] + "X",
                                amount_past_due=100)) for i in range(4)]
    invalid.write_bytes(consumer_file(2, records=bad)[:-500])  # bad records, cut short: no trailer
    refused = tmp_path / "refused.m2"
    refused.write_bytes(b"not metro 2 " + CONSUMERS[0][0].encode())
    for path, code in ((valid, 0), (refused, 1)):
        done = subprocess.run([sys.executable, "-c", "from openbureau.cli.main import app; app()", "intake",
                               "submit", str(path), "--furnisher", "BANK_US"], env=env_of(runtime),
                              capture_output=True, timeout=120, check=False)
        assert done.returncode == code, done.stderr
        assert not [s for s in secrets if s in done.stdout + done.stderr]
    with TestClient(create_app(runtime)) as client:
        response = client.post("/v1/submissions", headers={"X-API-Key": key},
                               files={"file": (invalid.name, invalid.read_bytes(), "application/octet-stream")})
        assert response.status_code == 201, response.text
        findings = client.get(f"/v1/submissions/{response.json()['id']}/errors", headers={"X-API-Key": key})
    assert {"INVALID_NUMERIC", "TRAILER_MISSING"} <= set(response.json()["finding_counts"])
    assert not [s for s in secrets if s.decode() in response.text + findings.text]
    assert not [s for s in (c[0][:8] for c in CONSUMERS) if s in findings.text]  # masked, not merely cut
    with session_scope(runtime.engine) as session:
        assert sorted(session.scalars(select(Submission.format))) == ["metro2", "metro2"]
    assert files_holding(runtime.settings.data_dir, secrets) == {}
