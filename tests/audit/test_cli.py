"""``openbureau audit verify`` and ``list`` on the embedded default."""

from __future__ import annotations

import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from openbureau.audit import service as audit
from openbureau.audit.models import AuditEntry
from openbureau.cli.audit import app
from openbureau.kit.db import session_scope
from openbureau.kit.settings import get_settings
from openbureau.runtime import Runtime, open_runtime

runner = CliRunner()
TABLE = AuditEntry.__table__


@pytest.fixture
def bureau(tmp_path, monkeypatch) -> Runtime:
    """A bureau in a fresh data directory named by the environment, with the audit table in it."""
    monkeypatch.setenv("OPENBUREAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OPENBUREAU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runtime = open_runtime()
    TABLE.create(runtime.engine, checkfirst=True)  # until the migration exists
    yield runtime
    runtime.engine.dispose()
    get_settings.cache_clear()


def append(runtime: Runtime, n: int) -> list[str]:
    hashes = []
    for i in range(1, n + 1):
        with session_scope(runtime.engine, write=True) as session:
            hashes.append(audit.record(
                session, actor_member_id=i, actor_code="BANK_A" if i % 2 else "BANK_B",
                action="inquiry.read" if i < 3 else "consent.grant", person_id=200 + i, purpose="loan_origination",
                details={"inquiry_id": i, "refs": [f"C-{i}"]}
            ).entry_hash)
    runtime.audit.checkpoints.flush()
    return hashes


def test_verify_prints_the_head_of_an_intact_chain(bureau) -> None:
    hashes = append(bureau, 3)
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 0, result.output
    assert f"chain intact: 3 entries, last seq 3, last hash {hashes[-1]}" in result.output
    assert "keyed from seq 1; signed checkpoints since" in result.output and "newest: seq 3 at" in result.output
    anchored = runner.invoke(app, ["verify", "--anchor", f"3:{hashes[-1]}"])
    assert anchored.exit_code == 0, anchored.output


def test_verify_of_an_empty_log(bureau) -> None:
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 0 and "chain intact: 0 entries, last seq 0" in result.output


def test_verify_names_the_first_broken_entry_and_exits_1(bureau) -> None:
    append(bureau, 4)
    with bureau.engine.begin() as conn:
        conn.execute(TABLE.update().where(TABLE.c.seq == 2).values(actor_code="BANK_Z"))
    result = runner.invoke(app, ["verify"])
    assert result.exit_code == 1
    assert re.search(r"chain broken at entry 2: entry_hash does not match", result.output)


def test_verify_detects_a_truncated_tail_from_the_checkpoints(bureau) -> None:
    hashes = append(bureau, 4)
    with bureau.engine.begin() as conn:
        conn.execute(TABLE.delete().where(TABLE.c.seq == 4))
    plain = runner.invoke(app, ["verify"])
    assert plain.exit_code == 1 and "chain broken at entry 4" in plain.output
    assert "signed checkpoint" in plain.output
    anchored = runner.invoke(app, ["verify", "--anchor", f"3:{hashes[2]}"])
    assert anchored.exit_code == 1 and "chain broken at entry 4" in anchored.output
    bad = runner.invoke(app, ["verify", "--anchor", "four"])
    assert bad.exit_code == 2 and "SEQ:HASH" in bad.output


def test_public_key_verifies_the_checkpoints(bureau) -> None:
    result = runner.invoke(app, ["public-key"])
    assert result.exit_code == 0
    assert result.output.strip() == bureau.audit.keys.public_text()


def test_list_filters_newest_first(bureau, monkeypatch) -> None:
    monkeypatch.setattr("openbureau.cli.audit.console", Console(width=160))  # a terminal wide enough
    append(bureau, 4)
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    seqs = [int(m) for m in re.findall(r"^│\s*(\d+)\s*│", result.output, flags=re.MULTILINE)]
    assert seqs == [4, 3, 2, 1]
    assert "consent.grant" in result.output and "201" in result.output
    assert '{"inquiry_id":1,"refs":["C-1"]}' in result.output
    one = runner.invoke(app, ["list", "--person-id", "203"])
    assert [int(m) for m in re.findall(r"^│\s*(\d+)\s*│", one.output, flags=re.MULTILINE)] == [3]
    by = runner.invoke(app, ["list", "--actor", "BANK_B", "--action", "inquiry.read", "--limit", "5"])
    assert [int(m) for m in re.findall(r"^│\s*(\d+)\s*│", by.output, flags=re.MULTILINE)] == [2]
    bad = runner.invoke(app, ["list", "--limit", "0"])
    assert bad.exit_code == 1 and "INVALID_LIMIT" in bad.output
