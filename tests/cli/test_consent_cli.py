"""``openbureau consent``: import with findings, an audited operator view, revocation, release."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from openbureau.audit import service as audit
from openbureau.cli.main import app
from openbureau.kit.db import session_scope
from openbureau.runtime import open_runtime
from tests.intake.factories import PEOPLE, person, write_file

runner = CliRunner()


def test_import_list_revoke_release(bureau_env) -> None:
    runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "Bank A", "--role", "furnisher"])
    sep = write_file(bureau_env / "sep.csv", [person(0), person(1, furnisher_account_id="B")])
    held = runner.invoke(app, ["intake", "submit", str(sep), "--furnisher", "BANK_A", "--json"])
    assert '"records_quarantined": 2' in held.stdout
    consents = bureau_env / "consents.csv"
    consents.write_text(
        "consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash\n"
        f"C0,CN_RESIDENT_ID,{PEOPLE[0][0]},furnish,2024-01-01T00:00:00Z,app,{'ab' * 32}\n"
        f"C1,CN_RESIDENT_ID,{PEOPLE[1][0]},furnish,not-a-time,app,{'ab' * 32}\n")
    imported = runner.invoke(app, ["consent", "import", str(consents), "--member", "BANK_A"])
    assert imported.exit_code == 0, imported.output
    assert "1 created" in imported.output and "1 rejected" in imported.output and "1 quarantined records released" \
        in imported.output
    assert "line 3: INVALID_DATETIME (granted_at)" in imported.output
    listed = runner.invoke(app, ["consent", "list", "--id-type", "CN_RESIDENT_ID", "--id-number", PEOPLE[0][0]])
    assert "C0" in listed.output and "active" in listed.output and PEOPLE[0][0] not in listed.output
    consent_id = re.search(r"│\s*(\d+)\s*│\s*C0", listed.output).group(1)
    revoked = runner.invoke(app, ["consent", "revoke", consent_id, "--reason", "withdrawn"])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    released = runner.invoke(app, ["consent", "release"])
    assert "Released 0 records; 1 still held" in released.output
    runtime = open_runtime()
    with session_scope(runtime.engine) as session:
        actions = [e.action for e in audit.list_entries(session, limit=100)]
        assert audit.verify(session).ok
    assert {"consent.import", "consent.operator_view", "consent.revoke", "member.add"} <= set(actions)
