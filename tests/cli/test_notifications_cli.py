"""``openbureau notifications dispatch``: the outbox delivered through the configured channel (the file channel
of an embedded bureau), a consent's import and revocation reaching the person's newest phone."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from openbureau.cli.main import app
from tests.intake.factories import PEOPLE, person, write_file

runner = CliRunner()


def test_dispatch_delivers_the_import_and_revocation_notices_to_the_file_channel(bureau_env) -> None:
    runner.invoke(app, ["members", "add", "--code", "BANK_A", "--name", "Bank A", "--role", "furnisher"])
    consents = bureau_env / "consents.csv"
    consents.write_text("consent_ref,id_type,id_number,purpose,granted_at,channel,evidence_hash\n"
                        f"C0,CN_RESIDENT_ID,{PEOPLE[0][0]},furnish,2024-01-01T00:00:00Z,app,{'ab' * 32}\n")
    assert runner.invoke(app, ["consent", "import", str(consents), "--member", "BANK_A"]).exit_code == 0
    sep = write_file(bureau_env / "sep.csv", [person(0, phone="+86 139-1234-5678")])
    assert runner.invoke(app, ["intake", "submit", str(sep), "--furnisher", "BANK_A"]).exit_code == 0
    listed = runner.invoke(app, ["consent", "list", "--id-type", "CN_RESIDENT_ID", "--id-number", PEOPLE[0][0]])
    consent_id = re.search(r"│\s*(\d+)\s*│\s*C0", listed.output).group(1)
    assert runner.invoke(app, ["consent", "revoke", consent_id, "--reason", "withdrawn"]).exit_code == 0
    sent = runner.invoke(app, ["notifications", "dispatch"])
    assert sent.exit_code == 0, sent.output
    assert "file: 2 sent, 0 to retry, 0 failed, 0 expired; 0 pending" in sent.output
    paths = sorted((bureau_env / "data" / "notifications").glob("*.json"), key=lambda p: int(p.stem))
    granted, revoked = (json.loads(p.read_text("utf-8")) for p in paths)
    assert granted["kind"] == "consent.granted" and "BANK_A recorded your consent (C0) for furnish" in granted["body"]
    assert revoked["kind"] == "consent.revoked" and revoked["to"] == "+86*********78"
    assert "C0" in revoked["body"] and "by OPERATOR:" in revoked["body"]
    assert all(PEOPLE[0][0] not in p.read_text("utf-8") for p in paths)
    again = runner.invoke(app, ["notifications", "dispatch"])
    assert "0 sent" in again.output and "0 pending" in again.output
